"""Budgets per failover mode and engine, standby_scale, and seed 001's Plan A check."""

from __future__ import annotations

import pytest

from policy.budget import CONSTANTS, compute_budget, known_budget_names
from policy.budget_modes import PLAN_A_RPO_SECONDS, PLAN_A_RTO_SECONDS, mode_budget, plan_a_rows
from stacks.config import ConfigError
from tests.policy.conftest import synth


def _keys(budget: object) -> list[str]:
    return [t.key for t in budget.rto_terms]  # type: ignore[attr-defined]


def test_full_standby_leaves_the_scale_up_term_out() -> None:
    reduced = compute_budget(synth("tokyo").config)
    full = compute_budget(synth("tokyo", "standby_scale=full").config)
    assert reduced is not None and full is not None
    assert "eks_scale_up" in _keys(reduced) and "eks_scale_up" not in _keys(full)
    assert reduced.rto_seconds - full.rto_seconds == CONSTANTS["eks_scale_up"].value


def test_unknown_standby_scale_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"standby_scale.*reduced"):
        synth("tokyo", "standby_scale=half")
    with pytest.raises(ConfigError, match="standby_scale"):
        synth("azure-pilot", "standby_scale=full")  # a warm-standby key only


def test_planned_rds_switchover_is_fence_drain_promote_dns_with_rpo_zero() -> None:
    cfg = synth("tokyo").config
    planned = mode_budget(cfg, "planned")
    assert planned is not None
    assert _keys(planned) == [
        "fence_writes",
        "drain_timeout",
        "rds_promotion",
        "dns_detection",
        "dns_ttl",
        "eks_scale_up",
    ]
    assert planned.rpo_seconds == 0
    unplanned = mode_budget(cfg, "unplanned")
    assert unplanned is not None and unplanned.rpo_seconds == cfg.rds.max_lag_seconds


def test_aurora_replaces_the_promotion_with_dated_managed_terms() -> None:
    cfg = synth("tokyo", "standby_scale=full").config
    failover = mode_budget(cfg, "unplanned", "aurora-mysql")
    switchover = mode_budget(cfg, "planned", "aurora-mysql")
    assert failover is not None and switchover is not None
    assert _keys(failover) == ["dns_detection", "dns_ttl", "aurora_global_failover"]
    assert _keys(switchover) == ["aurora_global_switchover", "dns_detection", "dns_ttl"]
    assert failover.rto_seconds == 10 * 3 + 60 + CONSTANTS["aurora_global_failover"].value
    for name in ("aurora_global_failover", "aurora_global_switchover"):
        assert CONSTANTS[name].checked == "2026-11-29" and "AWS" in CONSTANTS[name].source
        assert name in known_budget_names()  # a drill's measurement can override it


def test_plan_a_is_met_only_by_aurora_with_a_full_standby() -> None:
    def verdicts(*overrides: str) -> dict[tuple[str, str], bool]:
        return {(r.engine, r.mode): r.meets for r in plan_a_rows(synth("tokyo", *overrides).config)}

    assert not any(verdicts().values())  # as shipped: 870 s
    full = verdicts("standby_scale=full")
    assert full == {
        ("mysql", "unplanned"): False,
        ("mysql", "planned"): False,
        ("aurora-mysql", "unplanned"): True,
        ("aurora-mysql", "planned"): True,
    }
    # A measured override that is slower breaks it, naming nothing but the figures.
    slow = verdicts("standby_scale=full", "budget.aurora_global_failover=400")
    assert slow[("aurora-mysql", "unplanned")] is False
    assert (PLAN_A_RTO_SECONDS, PLAN_A_RPO_SECONDS) == (300, 60)


def test_rpo_over_a_minute_misses_plan_a_even_when_fast() -> None:
    rows = plan_a_rows(synth("tokyo", "standby_scale=full", "rds.max_lag_seconds=120").config)
    by = {(r.engine, r.mode): r for r in rows}
    assert not by[("aurora-mysql", "unplanned")].meets  # RPO 120 s
    assert by[("aurora-mysql", "planned")].meets  # planned: RPO 0


def test_pilot_light_has_only_its_unplanned_path() -> None:
    rows = plan_a_rows(synth("azure-pilot").config)
    assert [(r.engine, r.mode) for r in rows] == [("mysql", "unplanned")]
    assert not rows[0].meets


def test_preview_shows_the_plan_a_verdicts() -> None:
    from io import StringIO

    from drctl.preview import run_preview
    from drctl.preview_view import make_console, render_budget

    result = run_preview("tokyo", ("standby_scale=full",))
    rows = result.as_json()["plan_a"]
    assert {(r["engine"], r["mode"], r["meets_plan_a"]) for r in rows} >= {
        ("aurora-mysql", "unplanned", True),
        ("mysql", "unplanned", False),
    }
    out = StringIO()
    render_budget(result, make_console(file=out, width=200))
    text = out.getvalue()
    assert "Seed 001 Plan A (RTO ≤ 300s, RPO ≤ 60s), standby_scale full" in text
    assert "mysql, unplanned: RTO DNS 10s×3 + TTL 60s + promote 600s = 690s" in text
    assert "misses Plan A" in text and "meets Plan A" in text


def test_full_standby_smaller_than_the_primary_is_flagged() -> None:
    from drctl.standby_scale import full_size_overrides, size_shortfalls

    seoul = synth("seoul").config
    small = synth("tokyo", "standby_scale=full").config
    gaps = size_shortfalls(small, seoul)
    assert f"eks.desired_size 2 < seoul's {seoul.eks.desired_size}" in gaps
    assert "services.auth-deployment 1 < seoul's 2" in gaps
    sized = synth("tokyo", *full_size_overrides(small, seoul)).config
    assert size_shortfalls(sized, seoul) == []
    assert size_shortfalls(synth("tokyo").config, seoul) == []  # reduced: nothing promised


def test_planned_rds_terms_are_the_bounds_drctl_waits_for() -> None:
    # The worst case of a planned RDS switchover that still succeeds: the fence's apply
    # timeout (parameter group in-sync) and the drain timeout drctl refuses after.
    import inspect

    from drctl.failover.build import FailoverOptions
    from drctl.failover.rds_fence import RdsParameterGroupFence

    apply_timeout = inspect.signature(RdsParameterGroupFence).parameters["apply_timeout_seconds"]
    assert CONSTANTS["fence_writes"].value == apply_timeout.default
    assert CONSTANTS["drain_timeout"].value == FailoverOptions().drain_timeout_seconds
