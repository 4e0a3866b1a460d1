"""Pilot-light RPO with binlog archiving: flush + one segment upload + dead-archiver detection."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from observability.rules import BINLOG_BEHIND, build_rules
from observability.stack_config import load_stack_config
from policy.budget import backup_rpo_seconds, compute_budget
from stacks.config import StackConfig


def _pilot(*, archive: bool, rpo_seconds: int | None = None, **backup: Any) -> StackConfig:
    cfg = load_stack_config("azure-pilot")
    cfg = replace(cfg, backup=replace(cfg.backup, binlog_archive=archive, **backup))
    if rpo_seconds is not None:
        cfg = replace(cfg, objectives=replace(cfg.objectives, rpo_seconds=rpo_seconds))
    return cfg


def test_archiving_replaces_the_dump_terms_and_ignores_the_dump_size() -> None:
    cfg = _pilot(archive=True, binlog_flush_seconds=5)
    budget = compute_budget(cfg)
    assert budget is not None
    assert [t.key for t in budget.rpo_terms] == [
        "binlog_flush",
        "binlog_segment_upload",
        "binlog_dead_archiver",
    ]
    assert budget.rpo_seconds == 5 + 16 / 62.9 + 90
    bigger = compute_budget(replace(cfg, budget={**cfg.budget, "database_size_gb": 4000}))
    assert bigger is not None and bigger.rpo_seconds == budget.rpo_seconds
    assert bigger.rto_seconds > budget.rto_seconds  # the restore still grows with size


def test_seed_001_five_minutes_fits_with_archiving_and_not_without() -> None:
    with_archive = compute_budget(_pilot(archive=True, rpo_seconds=300))
    assert with_archive is not None and with_archive.rpo_fits
    dump_only = compute_budget(_pilot(archive=False, rpo_seconds=300))
    assert dump_only is not None and not dump_only.rpo_fits


def test_the_dump_age_alert_still_watches_dumps() -> None:
    cfg = _pilot(archive=True, interval_minutes=60)
    assert backup_rpo_seconds(cfg) >= 3600


def test_archiver_behind_alert_only_where_archiving_is_on() -> None:
    on = build_rules(_pilot(archive=True, binlog_flush_seconds=4))["groups"][0]["rules"]
    [rule] = [r for r in on if r["alert"] == BINLOG_BEHIND]
    assert rule["expr"] == (
        "drstack_binlog_archiver_lag_seconds > 12 or "
        "time() - drstack_binlog_archiver_checked_timestamp_seconds > 90"
    )
    off = build_rules(_pilot(archive=False))["groups"][0]["rules"]
    assert BINLOG_BEHIND not in {r["alert"] for r in off}
