"""`drctl drill --sandbox`: start the stand-ins, run the scenarios, write the reports.

One report per scenario run (seed 000 §9 Markdown + timeline chart, through
``drctl.report.write_report``), a summary with the per-scenario RTO/RPO table, and a
JSON document with every measurement. Everything started is stopped on the way out,
including on Ctrl-C and SIGTERM (see ``processes.py``).
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drctl.report import Objectives, write_report
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.objectives import StackTargets, stack_targets
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenario_runner import run_scenario
from drctl.sandbox.scenarios import (
    PROBE_INTERVAL,
    PROBE_THRESHOLD,
    SCENARIOS,
    ScenarioResult,
    ScenarioSettings,
)

# What the sandbox cannot show. Printed with every drill and written into every report.
NOT_COVERED = (
    "DynamoDB global-table and S3 cross-region replication: moto stores items and "
    "objects but replicates nothing; no DynamoDB/S3 data loss is measured.",
    "Real DNS propagation and resolver TTLs: the sandbox client follows the health "
    "check's inversion in moto within 0.2 s; the 60 s record TTL is only in the budget.",
    "Health-check failure detection by Route 53: moto never probes endpoints. Detection "
    "here is Prometheus (blackbox probe, the shipped primary-down rule at sandbox timings) "
    "through Alertmanager's webhook; with --no-monitoring, the drill's own probe "
    f"({PROBE_THRESHOLD} checks {PROBE_INTERVAL}s apart). Neither is Route 53's 10 s × 3.",
    "RDS promotion time: a MariaDB replica promotes in well under a second; RDS takes "
    "minutes (the budget model's figure).",
    "EKS scale-up, image pulls and Azure provisioning (MySQL Flexible Server, VMs, "
    "Application Gateway): processes start in about a second here.",
    "Cross-region latency: everything runs on loopback, so replication lag is near zero "
    "and the pilot-light backup interval is scaled down from 300 s to a few seconds.",
    # What the sandbox adapters still decide differently from production's, and why
    # (README "What the sandbox does not cover"):
    "The clouds' control planes: root plays them. It promotes a MariaDB replica (apply "
    "the relay log, stop replication, read_only off) where RDS's PromoteReadReplica runs, "
    "sets read_only where a parameter group would, creates the master user and the 'Azure' "
    "server; no KMS key, subnet group or security group is checked for a reverse replica.",
    "ReplicaLag as CloudWatch publishes it: in the warm scenarios lag_publisher puts "
    "Tokyo's Seconds_Behind_Master into moto's CloudWatch (-1 when NULL, as RDS documents) "
    "every 0.2 s at 1-second resolution, where RDS publishes once a minute; the failback's "
    "reverse replica and the in-process drctl exporter read SHOW SLAVE STATUS directly.",
    "RDS renames (the failback's endpoint swap): the sandbox's endpoint name moves at "
    "once, where RDS reboots the renamed instance and its DNS takes minutes; StopDBInstance "
    "and RDS refusing a name in use are checked against moto only.",
    "MySQL 8 itself: the sandbox runs MariaDB 10.11; the replay's binlog server is "
    "mariadbd here and Oracle's mysqld in the backup image (not run here).",
    "The pilot light's phases: production runs seed 001's phases as one `pulumi up` per "
    "toggle (emergency, run_restore); the drill runs them as the failover engine's "
    "promote step: the 'Azure' server, then the restore job's own command line.",
    "Kubernetes and ACI: a Deployment is one app process (0 or 1 replica); the backup, "
    "archiver and restore jobs are subprocesses running their containers' command lines "
    "and variable names (no image, read-only root filesystem or resource limits).",
    "RDS parameter-group apply times: the planned fence sees RDS's documented apply states "
    "(a stale in-sync, applying, pending-reboot) injected in front of moto at sub-second "
    "timings, and root's SET GLOBAL read_only stands in for RDS pushing the value into "
    "the engine; RDS's own apply time is only in the budget (fence <= 120 s).",
)


PLANNED_SCENARIO = "planned-switchover"


def target_key(stack: str, scenario: str) -> str:
    """Which prediction a scenario is compared with: the planned switchover has its own
    budget (no data loss, a fence and a drain before the promotion)."""
    return f"{stack}:planned" if scenario == PLANNED_SCENARIO else stack


@dataclass
class DrillOptions:
    report_dir: Path
    outputs_path: Path
    scenarios: Sequence[str] = SCENARIOS
    runs: int = 1
    warmup_seconds: float = 1.0
    backup_interval: float = 3.0
    workdir: Path | None = None  # default: a fresh temp dir, removed afterwards
    write_reports: bool = True
    # Prometheus/Alertmanager/blackbox/mysqld_exporter detect (alert_detection.py).
    monitoring: bool = False


@dataclass
class DrillResult:
    results: list[ScenarioResult]
    targets: dict[str, StackTargets]
    report_dir: Path
    outputs_path: Path
    reports: list[str] = field(default_factory=list)
    alert_checks: list[dict[str, Any]] = field(default_factory=list)
    monitoring: str = ""  # how detection ran, with the scaled timings
    metrics_seen: list[str] = field(default_factory=list)  # metric names Prometheus stored

    def summary_rows(self) -> list[dict[str, Any]]:
        rows = []
        for key in SCENARIOS:
            runs = [r for r in self.results if r.key == key]
            if not runs:
                continue
            targets = self.targets[target_key(runs[0].stack, key)]
            rtos = [r.rto_seconds for r in runs if r.rto_seconds is not None]
            rpos = [r.loss.rpo_seconds for r in runs if r.loss is not None]
            lost = [r.loss.lost for r in runs if r.loss is not None]
            rows.append(
                {
                    "scenario": key,
                    "stack": runs[0].stack,
                    "runs": len(runs),
                    "failed_runs": sum(1 for r in runs if r.error or r.rto_seconds is None),
                    "rto_median_s": _median(rtos),
                    "rto_worst_s": max(rtos) if rtos else None,
                    "lost_writes_median": _median(lost),
                    "lost_writes_worst": max(lost) if lost else None,
                    "rpo_median_s": _median(rpos),
                    "rpo_worst_s": max(rpos) if rpos else None,
                    "rto_objective_s": targets.rto_minutes * 60,
                    "rpo_objective_s": targets.rpo_seconds,
                    "rto_predicted_s": targets.predicted_rto_seconds,
                    "rpo_predicted_s": targets.predicted_rpo_seconds,
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary_rows(),
            "runs": [r.as_dict() for r in self.results],
            "targets": {name: t.as_dict() for name, t in self.targets.items()},
            "not_covered": list(NOT_COVERED),
            "reports": self.reports,
            "monitoring": self.monitoring,
            "alert_checks": self.alert_checks,
            "outputs_file": str(self.outputs_path),
        }


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def run_drill(options: DrillOptions, say: Callable[[str], None] = print) -> DrillResult:
    own_workdir = options.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="drctl-sandbox-")) if own_workdir else options.workdir
    assert workdir is not None
    supervisor = ProcessSupervisor(workdir / "logs")
    env = SandboxEnvironment(workdir, supervisor)
    targets = {stack: stack_targets(stack) for stack in ("tokyo", "azure-pilot")}
    targets[target_key("tokyo", PLANNED_SCENARIO)] = stack_targets("tokyo", "planned")
    results: list[ScenarioResult] = []
    detection = None
    alert_checks: list[dict[str, Any]] = []
    try:
        say("starting moto, Azurite (shared) …")
        env.start_shared()
        env.write_outputs(options.outputs_path)
        if options.monitoring:
            detection = start_alert_detection(env, supervisor, workdir, options, say)
        for run in range(1, options.runs + 1):
            for key in options.scenarios:
                if key == "failback":
                    continue  # runs right after region-failure, on its state
                say(f"[run {run}] {key}")
                env.reset_routing()
                settings = ScenarioSettings(
                    state_dir=workdir / "runs",
                    outputs_path=options.outputs_path,
                    run=run,
                    warmup_seconds=options.warmup_seconds,
                    backup_interval=options.backup_interval,
                    say=say,
                    detector=detection.detect if detection else None,
                    armed=detection.wait_armed if detection else None,
                )
                for result in run_scenario(key, env, settings):
                    results.append(result)
                    say(f"  {result.key}: {_one_line(result)}")
        if detection is not None:
            say("alert checks: replication stopped, backups stopped")
            alert_checks = detection.run_checks(say)
    finally:
        if detection is not None:
            detection.stop()
        env.stop()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    drill = DrillResult(results, targets, options.report_dir, options.outputs_path)
    drill.alert_checks = alert_checks
    drill.metrics_seen = detection.metrics_seen if detection else []
    drill.monitoring = detection.statement if detection else "drill probe loop (--no-monitoring)"
    if options.write_reports:
        _write_reports(drill)
    return drill


def start_alert_detection(
    env: SandboxEnvironment,
    supervisor: ProcessSupervisor,
    workdir: Path,
    options: DrillOptions,
    say: Callable[[str], None],
) -> Any:
    from drctl.sandbox.alert_detection import AlertDetection

    say("starting Prometheus, Alertmanager, blackbox_exporter, mysqld_exporter …")
    detection = AlertDetection(env, supervisor, workdir / "monitoring", options.backup_interval)
    detection.start()
    say(f"  {detection.statement}")
    return detection


def _one_line(result: ScenarioResult) -> str:
    if result.error:
        return f"FAILED: {result.error}"
    rto = "not restored" if result.rto_seconds is None else f"RTO {result.rto_seconds:.2f}s"
    loss = result.loss
    rpo = "" if loss is None else f", lost {loss.lost}/{loss.acknowledged} acked writes"
    rpo += "" if loss is None else f" (RPO {loss.rpo_seconds:.2f}s)"
    if loss is not None and "binlog_rpo_met" in result.extra:
        flush = result.extra["binlog_flush_seconds"]
        met = "met" if result.extra["binlog_rpo_met"] else "NOT met"
        rpo += f"; RPO ≤ one binlog flush ({flush:g}s): {met}"
    return rto + rpo


def _write_reports(drill: DrillResult) -> None:
    drill.report_dir.mkdir(parents=True, exist_ok=True)
    not_covered = "\n".join(f"- {line}" for line in NOT_COVERED)
    for result in drill.results:
        targets = drill.targets[target_key(result.stack, result.key)]
        objectives = Objectives(rto_minutes=targets.rto_minutes, rpo_seconds=targets.rpo_seconds)
        sections = [
            ("시나리오 (scenario)", f"{result.title} — sandbox run {result.run}"),
            ("데이터 손실 (acknowledged writes)", _loss_text(result)),
            ("예측 대비 (budget model)", _prediction_text(targets)),
            ("샌드박스가 다루지 않는 것 (not covered)", not_covered),
        ]
        if result.notes:
            sections.insert(2, ("참고 (notes)", "\n".join(f"- {n}" for n in result.notes)))
        if result.error:
            sections.insert(0, ("오류 (error)", result.error))
        md, _png = write_report(
            result.timeline,
            objectives,
            result.loss.rpo_seconds if result.loss else None,
            drill.report_dir,
            sections,
            basename=f"{result.key}-run{result.run}",
        )
        drill.reports.append(str(md))
    summary = drill.report_dir / "drill-summary.md"
    summary.write_text(render_summary(drill), encoding="utf-8")
    (drill.report_dir / "drill-summary.json").write_text(
        json.dumps(drill.as_dict(), indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    drill.reports.append(str(summary))


def _loss_text(result: ScenarioResult) -> str:
    loss = result.loss
    if loss is None:
        return "not measured (the scenario did not finish)"
    text = (
        f"- acknowledged writes: {loss.acknowledged}\n- lost (acknowledged, missing after "
        f"recovery): {loss.lost}\n- RPO: {loss.rpo_seconds:.3f}s (fault time minus the oldest "
        "lost write's acknowledgement)"
    )
    if loss.lost:
        text += f"\n- lost between {loss.first_lost_at} and {loss.last_lost_at}"
    if result.extra.get("restored_backup"):
        text += (
            f"\n- restored backup: {result.extra['restored_backup']} (restore point "
            f"{result.extra['restore_point_rpo_seconds']}s before the failure)"
        )
    return text


def _prediction_text(targets: StackTargets) -> str:
    if targets.predicted_rto_seconds is None:
        lines = ["- no prediction available", *[f"- {line}" for line in targets.prediction_lines]]
        return "\n".join(lines)
    return "\n".join(
        [
            f"- production worst case for `{targets.stack}` ({targets.source}):",
            *[f"  - {line}" for line in targets.prediction_lines],
            "- the sandbox leaves out the slow terms (detection interval, TTL, RDS promotion, "
            "provisioning); its figures show the runbook works, not production timing",
        ]
    )


def _fmt(value: float | None, unit: str = "s") -> str:
    return "—" if value is None else f"{value:.2f}{unit}" if unit else f"{value:g}"


def render_summary(drill: DrillResult) -> str:
    lines = [
        "# Sandbox DR drill — summary",
        "",
        "| scenario | runs | RTO median / worst | lost writes median / worst | "
        "RPO median / worst | objective RTO / RPO | predicted (prod) RTO / RPO |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in drill.summary_rows():
        failed = f" ({row['failed_runs']} failed)" if row["failed_runs"] else ""
        lines.append(
            f"| {row['scenario']} ({row['stack']}) | {row['runs']}{failed} | "
            f"{_fmt(row['rto_median_s'])} / {_fmt(row['rto_worst_s'])} | "
            f"{_fmt(row['lost_writes_median'], '')} / {_fmt(row['lost_writes_worst'], '')} | "
            f"{_fmt(row['rpo_median_s'])} / {_fmt(row['rpo_worst_s'])} | "
            f"{row['rto_objective_s']:g}s / {row['rpo_objective_s']:g}s | "
            f"{_fmt(row['rto_predicted_s'])} / {_fmt(row['rpo_predicted_s'])} |"
        )
    lines += _binlog_rpo_section(drill)
    lines += ["", "## Detection", f"- {drill.monitoring}"]
    lines += [f"- {_check_line(check)}" for check in drill.alert_checks]
    lines += ["", "## Not covered by the sandbox", *[f"- {line}" for line in NOT_COVERED], ""]
    lines += ["## Reports", *[f"- {Path(p).name}" for p in drill.reports], ""]
    return "\n".join(lines)


def binlog_goal_lines(drill: DrillResult) -> list[str]:
    """One line per pilot-light run with the archive: RPO against one flush interval."""
    lines = []
    for r in drill.results:
        if r.loss is None or "binlog_rpo_met" not in r.extra:
            continue
        verdict = "met" if r.extra["binlog_rpo_met"] else "NOT met"
        lines.append(
            f"{r.key} run {r.run}: RPO {r.loss.rpo_seconds:.2f}s vs one binlog flush interval "
            f"{r.extra['binlog_flush_seconds']:g}s: {verdict}"
        )
    return lines


def _binlog_rpo_section(drill: DrillResult) -> list[str]:
    """Pilot light with the binlog archive: each run's RPO against one flush interval."""
    rows = [r for r in drill.results if r.loss is not None and "binlog_rpo_met" in r.extra]
    if not rows:
        return []
    lines = [
        "",
        "## Pilot-light RPO against one binlog flush interval (the goal)",
        "",
        "| run | RPO | flush interval | lost writes (goal) | goal |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        assert r.loss is not None
        lines.append(
            f"| {r.key} #{r.run} | {r.loss.rpo_seconds:.2f}s | "
            f"{r.extra['binlog_flush_seconds']:g}s | {r.loss.lost} "
            f"({r.extra.get('lost_writes_goal')}) | "
            f"{'met' if r.extra['binlog_rpo_met'] else 'NOT met'} |"
        )
    return lines


def _check_line(check: dict[str, Any]) -> str:
    if check.get("error"):
        return f"{check['check']}: FAILED ({check['error']})"
    return (
        f"{check['check']}: {check['alert']} fired {check['fired_after_s']:.2f}s later, "
        f"webhook at +{check['webhook_after_s']:.2f}s"
    )
