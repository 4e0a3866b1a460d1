"""Prometheus alerting rules for a DR stack, generated from its config and the budget model.

``python -m observability.rules`` rewrites ``observability/rules/<stack>.rules.yml`` for
every shipped DR stack; ``tests/observability`` fails when a checked-in file is stale and
runs ``promtool check rules`` / ``promtool test rules`` on them.

Why each threshold is what it is:
- primary down: ``for:`` = the budget's detection term (health-check interval × failure
  threshold), so the alert fires when the RTO model says detection is over, not before;
- replica lag: over ``rds.max_lag_seconds`` (the RPO budget), or replication not running
  (MySQL reports no lag at all when the IO thread is down: unknown lag is over budget);
- backup age: older than the budget's backup RPO (interval + dump/upload time).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from observability import metrics as m
from observability.stack_config import REPO_ROOT, RULE_STACKS, load_stack_config
from policy.budget import backup_rpo_seconds, binlog_alert_limits, detection_seconds
from stacks.config import StackConfig

RULES_DIR = Path(__file__).resolve().parent / "rules"
RUNBOOK = "README.md#{anchor}"
# How long after a failover run finished its alert keeps saying so (someone must
# set the config toggles so IaC matches, seed 000 §5 last step).
FAILOVER_RECENT_SECONDS = 3600.0

PRIMARY_DOWN = "DrstackPrimaryDown"
REPLICA_LAG = "DrstackReplicaLagHigh"
STANDBY_NOT_READY = "DrstackStandbyNotReady"
BACKUP_TOO_OLD = "DrstackBackupTooOld"
FAILOVER_OCCURRED = "DrstackFailoverOccurred"
BINLOG_BEHIND = "DrstackBinlogArchiverBehind"
EXPORTER_DOWN = "DrstackExporterDown"
# Scrapes in a row the exporter (or one of its sources) must miss before it alerts.
EXPORTER_MISSED_SCRAPES = 3


@dataclass(frozen=True)
class RuleTiming:
    """Every number a rule uses. Production values come from the config; the sandbox
    passes its own, scaled down, and says so in its report."""

    probe_interval_seconds: float
    detection_seconds: float
    lag_limit_seconds: float
    lag_for_seconds: float
    standby_for_seconds: float
    backup_max_age_seconds: float | None  # None: the stack runs no backup job
    failover_recent_seconds: float = FAILOVER_RECENT_SECONDS
    # (lag limit, stale-status limit) when backup.binlog_archive is on; None: no archiver.
    binlog_limits: tuple[float, float] | None = None


def timing_for(cfg: StackConfig) -> RuleTiming:
    detect = detection_seconds(cfg)
    return RuleTiming(
        probe_interval_seconds=float(cfg.dns.health_check.interval),
        detection_seconds=detect,
        lag_limit_seconds=float(cfg.rds.max_lag_seconds),
        # A lag spike shorter than one detection window is noise, not an incident.
        lag_for_seconds=detect,
        standby_for_seconds=detect,
        backup_max_age_seconds=backup_rpo_seconds(cfg) if cfg.strategy == "pilot-light" else None,
        binlog_limits=binlog_alert_limits(cfg) if cfg.backup.binlog_archive else None,
    )


def duration(seconds: float) -> str:
    """A Prometheus duration ("30s", "1500ms"): whole seconds when exact."""
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def _number(seconds: float) -> str:
    return f"{seconds:g}"


def _rule(
    name: str, expr: str, for_s: float, severity: str, stack: str, summary: str, description: str
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_s > 0:
        rule["for"] = duration(for_s)
    rule["labels"] = {"severity": severity, "stack": stack, "team": "dr"}
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook_url": RUNBOOK.format(anchor=name.lower()),
    }
    return rule


def _primary_down(stack: str, t: RuleTiming) -> dict[str, Any]:
    rule = _rule(
        PRIMARY_DOWN,
        f'{m.PROBE_SUCCESS}{{job="{m.JOB_PRIMARY}"}} == 0',
        t.detection_seconds,
        "critical",
        stack,
        "The primary's health endpoint {{ $labels.instance }} is failing",
        f"Every probe for {duration(t.detection_seconds)} failed (the detection budget). "
        f"The failover decision (drctl.failover.guards) runs on this alert; to fail over "
        f"by hand: drctl failover --to {stack}.",
    )
    # The facts the failover guard needs (drctl.alert_webhook): how long and how often.
    rule["annotations"]["detection_seconds"] = _number(t.detection_seconds)
    rule["annotations"]["probe_interval_seconds"] = _number(t.probe_interval_seconds)
    return rule


def _replica_lag(stack: str, t: RuleTiming, aurora: bool) -> dict[str, Any]:
    limit = _number(t.lag_limit_seconds)
    expr = f"{m.REPLICA_LAG} > {limit} or {m.REPLICA_LAG_KNOWN} == 0"
    if not aurora:
        # An Aurora secondary has no replication threads for mysqld_exporter to read:
        # its lag is AuroraGlobalDBReplicationLag, which drctl exporter reports above.
        expr += (
            f" or {m.MYSQL_LAG} > {limit}"
            f" or {m.MYSQL_IO_RUNNING} == 0"
            f" or {m.MYSQL_SQL_RUNNING} == 0"
        )
    return _rule(
        REPLICA_LAG,
        expr,
        t.lag_for_seconds,
        "critical",
        stack,
        f"The standby replica is more than {limit}s behind, or not replicating",
        f"Lag over rds.max_lag_seconds ({limit}s, the RPO budget) or replication stopped "
        "(lag unknown). A failover now would lose that much data.",
    )


def _standby_not_ready(stack: str, t: RuleTiming, pilot_light: bool) -> dict[str, Any]:
    if pilot_light:
        expr = f"{m.BACKUP_UP} == 0"
        what = "The pilot light's backup storage cannot be read"
    else:
        expr = f'{m.PROBE_SUCCESS}{{job="{m.JOB_STANDBY}"}} == 0'
        what = "The standby's health endpoint {{ $labels.instance }} is failing"
    return _rule(
        STANDBY_NOT_READY,
        expr,
        t.standby_for_seconds,
        "warning",
        stack,
        what,
        f"A failover to {stack} would not succeed right now: fix the DR site first.",
    )


def _backup_too_old(stack: str, max_age: float) -> dict[str, Any]:
    limit = _number(max_age)
    return _rule(
        BACKUP_TOO_OLD,
        f"time() - {m.BACKUP_LAST_SUCCESS} > {limit}",
        0,
        "critical",
        stack,
        f"The newest good backup is older than {limit}s",
        "Backups have stopped or are failing (seed 001): the pilot-light RPO "
        f"(backup interval + dump/upload = {limit}s) no longer holds.",
    )


def _binlog_behind(stack: str, limits: tuple[float, float]) -> dict[str, Any]:
    lag, stale = (_number(x) for x in limits)
    return _rule(
        BINLOG_BEHIND,
        f"{m.BINLOG_LAG} > {lag} or time() - {m.BINLOG_CHECKED} > {stale}",
        0,
        "critical",
        stack,
        f"The binlog archiver is more than {lag}s behind, or has not checked in for {stale}s",
        "drctl binlog-archive is behind or dead: the pilot-light RPO (flush interval + one "
        "segment upload) no longer holds; a disaster now loses everything since its last "
        "committed segment. Check the archiver Deployment's log (it exits 4 when behind).",
    )


def _exporter_down(stack: str, t: RuleTiming) -> dict[str, Any]:
    """Without drctl exporter every alert on backups, lag and runs goes silent, not
    red: its own scrape failing, or a source it cannot read, is an alert of its own."""
    missed = EXPORTER_MISSED_SCRAPES * t.probe_interval_seconds
    return _rule(
        EXPORTER_DOWN,
        f'{m.SCRAPE_UP}{{job="{m.JOB_DRCTL}"}} == 0 or {m.EXPORTER_SOURCE_UP} == 0',
        missed,
        "critical",
        stack,
        "drctl exporter {{ $labels.instance }} is not answering"
        "{{ if $labels.source }} for its source {{ $labels.source }}{{ end }}",
        f"For {duration(missed)} Prometheus could not scrape drctl exporter, or the exporter "
        "could not read this source within the scrape timeout: the backup, lag, archiver "
        "and failover alerts are blind meanwhile, not green.",
    )


def _failover_occurred(stack: str, t: RuleTiming) -> dict[str, Any]:
    recent = _number(t.failover_recent_seconds)
    return _rule(
        FAILOVER_OCCURRED,
        f"{m.FAILOVER_ACTIVE} == 1 or (time() - {m.FAILOVER_LAST_FINISHED}) < {recent}",
        0,
        "critical",
        stack,
        "A {{ $labels.kind }} run is in progress or finished recently",
        "Traffic may be on the DR site. Check the run's timeline, then set the config "
        "toggles drctl printed so the next pulumi up matches reality.",
    )


def build_rules(cfg: StackConfig, timing: RuleTiming | None = None) -> dict[str, Any]:
    t = timing or timing_for(cfg)
    stack = cfg.stack
    pilot_light = cfg.strategy == "pilot-light"
    rules = [_primary_down(stack, t)]
    if not pilot_light:
        rules.append(_replica_lag(stack, t, cfg.rds.engine == "aurora-mysql"))
    rules.append(_standby_not_ready(stack, t, pilot_light))
    if t.backup_max_age_seconds is not None:
        rules.append(_backup_too_old(stack, t.backup_max_age_seconds))
    if t.binlog_limits is not None:
        rules.append(_binlog_behind(stack, t.binlog_limits))
    rules.append(_failover_occurred(stack, t))
    rules.append(_exporter_down(stack, t))
    return {"groups": [{"name": f"drstack-{stack}", "rules": rules}]}


HEADER = "# Generated by `python -m observability.rules` from Pulumi.{stack}.yaml: do not edit.\n"


def render_rules(cfg: StackConfig, timing: RuleTiming | None = None) -> str:
    body = yaml.safe_dump(build_rules(cfg, timing), sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(stack=cfg.stack) + body


def rules_path(stack: str) -> Path:
    return RULES_DIR / f"{stack}.rules.yml"


def write_all(root: Path = REPO_ROOT) -> list[Path]:
    written = []
    for stack in RULE_STACKS:
        path = rules_path(stack)
        path.write_text(render_rules(load_stack_config(stack, root)), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all():
        sys.stdout.write(f"wrote {written_path}\n")
