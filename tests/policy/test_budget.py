"""The RTO/RPO budget model: term by term, where the objective is breached, overrides."""

from __future__ import annotations

from dataclasses import replace

import pytest

from policy.budget import CONSTANTS, compute_budget, known_budget_names
from stacks.config import ConfigError
from tests.policy.conftest import synth


def test_tokyo_as_shipped_renders_term_by_term() -> None:
    budget = compute_budget(synth("tokyo").config)
    assert budget is not None and budget.fits
    assert budget.rto_line() == (
        "DNS 10s×3 + TTL 60s + promote 600s + scale-up 180s = 870s ≤ objective 1800s ✓"
    )
    assert budget.rpo_line() == "replica lag 5s = 5s ≤ objective 5s ✓"
    assert [t.key for t in budget.rto_terms] == [
        "dns_detection",
        "dns_ttl",
        "rds_promotion",
        "eks_scale_up",
    ]


def test_slow_dns_against_a_five_minute_rto_fails_and_names_the_terms() -> None:
    cfg = synth(
        "tokyo",
        "dns.ttl=300",
        "dns.health_check.interval=30",
        "dns.health_check.failure_threshold=3",
        "objectives.rto_minutes=5",
    ).config
    budget = compute_budget(cfg)
    assert budget is not None and not budget.fits and not budget.rto_fits
    assert budget.rto_seconds == 30 * 3 + 300 + 600 + 180
    [message] = budget.breaches()
    for term in (
        "DNS 30s×3",
        "TTL 300s",
        "promote 600s",
        "scale-up 180s",
        "= 1170s > objective 300s ✗",
    ):
        assert term in message
    assert "promote (rds_promotion)" in message  # the largest term is named


def test_a_fitting_config_passes() -> None:
    cfg = synth("tokyo", "objectives.rto_minutes=15").config
    budget = compute_budget(cfg)
    assert budget is not None and budget.fits and budget.breaches() == []


def test_budget_overrides_change_the_result() -> None:
    base = synth("tokyo", "objectives.rto_minutes=14").config  # 840s < 870s
    before = compute_budget(base)
    assert before is not None and not before.rto_fits
    measured = synth("tokyo", "objectives.rto_minutes=14", "budget.rds_promotion=420").config
    after = compute_budget(measured)
    assert after is not None and after.rto_fits
    assert after.rto_seconds == before.rto_seconds - 180
    assert "promote 420s" in after.rto_line()
    # a whole term can be replaced by a measured figure too
    whole = compute_budget(replace(base, budget={"dns_detection": 12}))
    assert whole is not None and "DNS 12s" in whole.rto_line()


def test_unknown_budget_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"budget\.rds_promtion"):
        synth("tokyo", "budget.rds_promtion=420")


def test_pilot_light_terms() -> None:
    dump_only = synth("azure-pilot", "backup.binlog_archive=false").config
    budget = compute_budget(dump_only)
    assert budget is not None
    assert [t.key for t in budget.rto_terms] == ["provisioning", "restore", "switch_over"]
    assert [t.key for t in budget.rpo_terms] == ["backup_interval", "backup_upload"]
    assert budget.rpo_terms[0].seconds == 300
    assert budget.rpo_seconds > 300  # interval + upload: never the bare interval
    smaller = compute_budget(replace(dump_only, budget={"database_size_gb": 1}))
    assert smaller is not None and smaller.rpo_seconds < budget.rpo_seconds


def test_shipped_pilot_light_promises_seed_001s_five_minutes_with_the_binlog_archive() -> None:
    cfg = synth("azure-pilot").config
    budget = compute_budget(cfg)
    assert budget is not None and cfg.backup.binlog_archive
    assert budget.rpo_terms[0].key == "binlog_flush"
    assert budget.rpo_seconds <= cfg.objectives.rpo_seconds <= 300


def test_primary_has_no_budget() -> None:
    assert compute_budget(synth("seoul").config) is None


def test_constants_table_is_sourced_and_dated() -> None:
    for constant in CONSTANTS.values():
        assert constant.source and constant.checked and constant.unit
    assert set(CONSTANTS) <= set(known_budget_names())
