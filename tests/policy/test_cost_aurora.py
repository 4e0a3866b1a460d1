"""`drctl cost`: the "Plan A, Aurora, full standby" column, its arithmetic from the
Aurora price assumptions, and the assumptions printed with their sources."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from drctl.cli import app as drctl_app
from policy.pricing import (
    ASSUMED_USAGE,
    AURORA_ASSUMPTIONS,
    AURORA_PRICES_AS_OF,
    HOURS_PER_MONTH,
    PRICES,
    CostLine,
    estimate,
)
from tests.policy.conftest import synth

TOKYO, SEOUL = "ap-northeast-1", "ap-northeast-2"


@pytest.fixture
def app() -> typer.Typer:
    return drctl_app


def _line(stack: str, type_: str) -> CostLine:
    [line] = [x for x in estimate(synth(stack)).lines if x.type == type_]
    return line


def _a(key: str) -> float:
    return AURORA_ASSUMPTIONS[key][0]


def test_aurora_instance_hours_both_regions() -> None:
    for stack, region in (("seoul-aurora", SEOUL), ("tokyo-aurora", TOKYO)):
        cls = synth(stack).config.rds.aurora_instance_class
        expected = HOURS_PER_MONTH * PRICES[region]["rds_mysql_h"][cls] * _a("instance_factor")
        lines = [
            x
            for x in estimate(synth(stack)).lines
            if x.type == "aws:rds/clusterInstance:ClusterInstance"
        ]
        assert len(lines) == (2 if synth(stack).config.rds.multi_az else 1)
        for line in lines:
            assert line.region == region and line.monthly_usd == pytest.approx(expected)


def test_primary_pays_storage_and_io_the_secondary_storage_and_replicated_writes() -> None:
    gb = synth("tokyo-aurora").config.rds.allocated_storage
    primary = _line("seoul-aurora", "aws:rds/cluster:Cluster")
    assert primary.monthly_usd == pytest.approx(
        gb * _a("storage_gb_month") + ASSUMED_USAGE["aurora_io_million"][0] * _a("io_per_million")
    )
    secondary = _line("tokyo-aurora", "aws:rds/cluster:Cluster")
    writes = ASSUMED_USAGE["aurora_write_io_million"][0]
    assert secondary.monthly_usd == pytest.approx(
        gb * _a("storage_gb_month") + writes * _a("replicated_write_io_per_million")
    )
    assert "replicated write I/Os" in secondary.description
    # The global cluster itself is not billed; nothing Aurora is left unpriced.
    for stack in ("seoul-aurora", "tokyo-aurora"):
        assert not [x for x in estimate(synth(stack)).unpriced if x.type.startswith("aws:rds/")]


def test_cost_shows_the_aurora_column_with_its_assumptions(app: typer.Typer) -> None:
    data = json.loads(CliRunner().invoke(app, ["cost", "--json"]).stdout)
    aurora = data["plan_a_aurora_full_standby"]
    seoul, tokyo = (estimate(synth(s)).monthly_usd for s in ("seoul-aurora", "tokyo-aurora"))
    assert aurora["stacks"] == ["seoul-aurora", "tokyo-aurora"]
    assert aurora["normal_monthly_usd"] == round(seoul + tokyo, 2)
    assert aurora["yearly_usd"] == pytest.approx(
        12 * (aurora["normal_monthly_usd"] + aurora["emergency_usd"]), abs=0.2
    )
    assert data["aurora_price_assumptions"]["as_of"] == AURORA_PRICES_AS_OF
    assert set(data["aurora_price_assumptions"]) == {"as_of", *AURORA_ASSUMPTIONS}
    text = CliRunner().invoke(app, ["cost"], env={"COLUMNS": "250"}).output
    assert "Plan A (RDS replica, reduced" in text and "Plan A, Aurora, full standby" in text
    assert f"${seoul + tokyo:,.2f}" in text
    for key, (_, source) in AURORA_ASSUMPTIONS.items():
        assert key in text and source[:40] in text
    assert f"as of {AURORA_PRICES_AS_OF}" in text


def test_the_aurora_column_is_left_out_without_its_stack(app: typer.Typer) -> None:
    data = json.loads(
        CliRunner().invoke(app, ["cost", "--json", "--plan-a-aurora", "no-such-stack"]).stdout
    )
    assert data["plan_a_aurora_full_standby"] is None
