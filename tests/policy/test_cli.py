"""`drctl preview` and `drctl cost` through the real Typer commands."""

from __future__ import annotations

import json
import re

import pytest
import typer
from typer.testing import CliRunner

from drctl import cost as cost_command
from drctl import preview as preview_command
from drctl.cli import COMMAND_MODULES
from policy.pricing import estimate
from tests.policy.conftest import synth


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    preview_command.register(app)
    cost_command.register(app)
    return app


def test_commands_are_registered() -> None:
    assert "drctl.preview" in COMMAND_MODULES and "drctl.cost" in COMMAND_MODULES


def test_preview_fails_on_a_breached_rto_and_names_the_terms(app: typer.Typer) -> None:
    result = CliRunner().invoke(
        app, ["preview", "--stack", "tokyo", "--set", "objectives.rto_minutes=1"]
    )
    assert result.exit_code == 1, result.output
    assert (
        "DNS 10s×3 + TTL 60s + promote 600s + scale-up 180s = 870s > objective 60s ✗"
        in result.output
    )
    assert "rto-rpo-budget" in result.output


def test_preview_json_is_one_object(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["preview", "--stack", "tokyo", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"stack", "resources", "outputs", "policy", "budget", "plan_a", "cost"}
    first = data["resources"][0]
    assert {"urn", "type", "name", "parent", "region", "inputs", "depends_on"} <= set(first)
    assert data["outputs"]["kubeconfig"] == "[secret]"
    assert data["policy"] == []
    assert data["budget"]["rto"]["fits"] is True
    assert data["cost"]["monthly_usd"] == round(estimate(synth("tokyo")).monthly_usd, 2)


def test_preview_config_error_is_one_line(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["preview", "--stack", "tokyo", "--set", "dns.ttl=soon"])
    assert result.exit_code == 2
    assert "drstack:dns.ttl" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cost_prints_plan_a_vs_plan_b_from_the_stacks(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["cost"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    seoul, tokyo, pilot = (
        estimate(synth(s)).monthly_usd for s in ("seoul", "tokyo", "azure-pilot")
    )
    out = result.output
    for label in ("normal-time monthly", "one 4-hour emergency", "per year", "Plan A", "Plan B"):
        assert label in out
    assert f"${seoul + tokyo:,.2f}" in out
    assert f"${seoul + pilot:,.2f}" in out
    data = json.loads(CliRunner().invoke(app, ["cost", "--json"]).stdout)
    a, b = data["plan_a"], data["plan_b"]
    assert a["normal_monthly_usd"] == round(seoul + tokyo, 2)
    assert b["emergency_usd"] > 0  # the emergency creates MySQL, VMs and a gateway
    assert a["yearly_usd"] == pytest.approx(
        12 * (a["normal_monthly_usd"] + a["emergency_usd"]), abs=0.2
    )
    assert re.search(r"\$[\d,]+\.\d\d", out)


def test_cost_shows_what_a_full_standby_costs_per_month(app: typer.Typer) -> None:
    data = json.loads(CliRunner().invoke(app, ["cost", "--json"]).stdout)
    a, full = data["plan_a"], data["plan_a_full_standby"]
    seoul_nodes = synth("seoul").config.eks.desired_size
    priced = estimate(synth("tokyo", "standby_scale=full", f"eks.desired_size={seoul_nodes}"))
    # Pods cost nothing by themselves: the primary's node count is the whole difference.
    assert full["per_stack_monthly_usd"]["tokyo"] == pytest.approx(priced.monthly_usd, abs=0.01)
    assert full["normal_monthly_usd"] > a["normal_monthly_usd"]  # more nodes every month
    text = CliRunner().invoke(app, ["cost"], env={"COLUMNS": "200"}).output
    assert "Plan A, full standby" in text and "per month; it takes the scale-up term" in text
