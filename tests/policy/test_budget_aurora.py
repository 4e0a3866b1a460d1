"""The budget of the configured engine (rds.engine), and the Aurora example stack
(Pulumi.tokyo-aurora.yaml) meeting seed 001's Plan A in `drctl preview`."""

from __future__ import annotations

import gc
import json

from typer.testing import CliRunner

from drctl.cli import app
from policy.budget import CONSTANTS, compute_budget
from policy.budget_modes import PLAN_A_RPO_SECONDS, PLAN_A_RTO_SECONDS, plan_a_rows
from tests.policy.conftest import synth


def _keys(budget: object) -> list[str]:
    return [t.key for t in budget.rto_terms]  # type: ignore[attr-defined]


def test_the_unplanned_budget_follows_the_configured_engine() -> None:
    mysql = compute_budget(synth("tokyo").config)
    aurora = compute_budget(synth("tokyo-aurora").config)
    assert mysql is not None and aurora is not None
    assert "rds_promotion" in _keys(mysql) and "aurora_global_failover" not in _keys(mysql)
    assert _keys(aurora) == ["dns_detection", "dns_ttl", "aurora_global_failover"]
    assert aurora.rto_seconds == 10 * 3 + 60 + CONSTANTS["aurora_global_failover"].value


def test_the_aurora_example_meets_plan_a_and_its_own_objectives() -> None:
    cfg = synth("tokyo-aurora").config
    budget = compute_budget(cfg)
    assert budget is not None
    assert budget.rto_seconds <= PLAN_A_RTO_SECONDS and budget.rpo_seconds <= PLAN_A_RPO_SECONDS
    assert budget.rto_seconds <= budget.rto_objective_seconds == 300
    assert budget.rpo_seconds <= budget.rpo_objective_seconds == 60
    rows = {(r.engine, r.mode): r for r in plan_a_rows(cfg)}
    assert (
        rows[("aurora-mysql", "unplanned")].configured and rows[("aurora-mysql", "unplanned")].meets
    )
    assert rows[("aurora-mysql", "planned")].meets
    assert not rows[("mysql", "unplanned")].configured


def test_drctl_preview_of_the_aurora_example_prints_the_budget_and_plan_a_met() -> None:
    gc.collect()
    result = CliRunner().invoke(app, ["preview", "--stack", "tokyo-aurora"])
    assert result.exit_code == 0, result.output
    assert "Aurora failover 60s = 150s ≤ objective 300s ✓" in result.output
    assert "RPO: global database lag 5s = 5s ≤ objective 60s ✓" in result.output
    assert "aurora-mysql, unplanned: RTO" in result.output
    assert "→ meets Plan A ✓" in result.output
    data = json.loads(
        CliRunner().invoke(app, ["preview", "--stack", "tokyo-aurora", "--json"]).output
    )
    assert data["budget"]["rto"]["seconds"] <= 300 and data["budget"]["rto"]["fits"] is True
    assert data["budget"]["rpo"]["seconds"] <= 60 and data["budget"]["rpo"]["fits"] is True
    configured = [row for row in data["plan_a"] if row["configured"]]
    assert {row["engine"] for row in configured} == {"aurora-mysql"}
    assert all(row["meets_plan_a"] for row in configured)
