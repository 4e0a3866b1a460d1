"""`drctl drill`: the whole DR rehearsal; `--sandbox` runs it locally with no cloud account."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from drctl import command_support as support
from drctl.mysql_tools import ToolMissing
from drctl.sandbox.azurite import AzuriteUnavailable, azurite_available
from drctl.sandbox.drill import (
    NOT_COVERED,
    DrillOptions,
    DrillResult,
    binlog_goal_lines,
    run_drill,
)
from drctl.sandbox.mariadb import mariadb_available
from drctl.sandbox.scenarios import SCENARIOS, TITLES


def drill(
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Run against local stand-ins (no cloud account).")
    ] = False,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help=f"Run only these (repeatable): {', '.join(SCENARIOS)}."),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Repeat every scenario.")] = 1,
    report_dir: Annotated[
        Path | None,
        typer.Option("--report-dir", help="Where reports go (default drill-output/<time>/)."),
    ] = None,
    outputs_file: Annotated[
        Path | None,
        typer.Option("--outputs-file", help="Write the sandbox's stack outputs here."),
    ] = None,
    backup_interval: Annotated[
        float, typer.Option("--backup-interval", min=1.0, help="Pilot-light backup period (s).")
    ] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; start nothing.")
    ] = False,
    monitoring: Annotated[
        bool,
        typer.Option(
            "--monitoring/--no-monitoring",
            help="Detect with Prometheus + Alertmanager (default) or the drill's own probe.",
        ),
    ] = True,
) -> None:
    """Inject the seed 002 §8 failures under write load; measure RTO/RPO; write reports."""
    out, progress = support.consoles(as_json)
    if not sandbox:
        support.fail(
            "only --sandbox is supported: against real stacks, run `drctl failover` and "
            "`drctl failback` during a scheduled drill (seed 000 §5-6)"
        )
    chosen = _chosen_scenarios(scenario)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    reports = report_dir or Path("drill-output") / stamp
    outputs = outputs_file or reports / "sandbox-outputs.json"
    if dry_run:
        _print_plan(out, as_json, _drill_plan(chosen, runs, reports, outputs, monitoring))
        return
    support.check_writable_dir(reports, "--report-dir")
    support.check_writable_file(outputs, "--outputs-file")
    _require_tools(monitoring)
    options = DrillOptions(
        report_dir=reports,
        outputs_path=outputs,
        scenarios=[name for name in SCENARIOS if name in chosen],
        runs=runs,
        backup_interval=backup_interval,
        monitoring=monitoring,
    )
    try:
        result = run_drill(options, say=lambda line: progress.print(escape(line), highlight=False))
    except (ToolMissing, AzuriteUnavailable) as exc:
        support.fail(str(exc))
    if as_json:
        support.print_json(result.as_dict())
    else:
        _print_table(out, result)
    if any(r.error or r.rto_seconds is None for r in result.results) or any(
        check.get("error") for check in result.alert_checks
    ):
        raise typer.Exit(1)


def _chosen_scenarios(scenario: list[str] | None) -> list[str]:
    chosen = list(scenario or SCENARIOS)
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        support.fail(f"--scenario {unknown[0]!r}: unknown; choose from {', '.join(SCENARIOS)}")
    if "failback" in chosen and "region-failure" not in chosen:
        chosen.append("region-failure")  # failback starts from the failed-over state
    return chosen


def _drill_plan(
    chosen: list[str], runs: int, reports: Path, outputs: Path, monitoring: bool
) -> dict[str, Any]:
    return {
        "dry_run": True,
        "starts": [
            "moto server",
            "Azurite (blob)",
            "MariaDB primary + GTID replica",
            "app as seoul",
            "app as tokyo",
            *(
                [
                    "Prometheus + Alertmanager + blackbox_exporter + mysqld_exporter "
                    "(detection; alert checks for lag and backup age)"
                ]
                if monitoring
                else []
            ),
        ],
        "scenarios": [f"{name}: {TITLES[name]}" for name in SCENARIOS if name in chosen],
        "runs": runs,
        "report_dir": str(reports),
        "outputs_file": str(outputs),
        "not_covered": list(NOT_COVERED),
    }


def _print_plan(out: Console, as_json: bool, plan: dict[str, Any]) -> None:
    if as_json:
        support.print_json(plan)
        return
    for key, value in plan.items():
        out.print(f"{key}: {escape(str(value))}", highlight=False)


def _require_tools(monitoring: bool) -> None:
    if not mariadb_available():
        support.fail("MariaDB is not installed: run `make services`")
    if not azurite_available():
        support.fail("Azurite (or node) is not installed: run `make services`")
    if monitoring:
        from drctl.sandbox.monitoring import monitoring_available

        missing = monitoring_available()
        if missing:
            support.fail(f"{missing} is not installed: run `make services` (or --no-monitoring)")


def _print_table(out: Console, result: DrillResult) -> None:
    table = Table(title="sandbox drill: measured RTO / RPO per scenario")
    for column in (
        "scenario",
        "runs",
        "RTO med/worst",
        "lost writes med/worst",
        "RPO med/worst",
        "objective RTO/RPO",
        "predicted prod RTO/RPO",
    ):
        table.add_column(column)

    def f(value: float | None, unit: str = "s") -> str:
        return "—" if value is None else (f"{value:.2f}{unit}" if unit else f"{value:g}")

    for row in result.summary_rows():
        table.add_row(
            f"{row['scenario']} ({row['stack']})",
            str(row["runs"]) + (f" ({row['failed_runs']} failed)" if row["failed_runs"] else ""),
            f"{f(row['rto_median_s'])} / {f(row['rto_worst_s'])}",
            f"{f(row['lost_writes_median'], '')} / {f(row['lost_writes_worst'], '')}",
            f"{f(row['rpo_median_s'])} / {f(row['rpo_worst_s'])}",
            f"{row['rto_objective_s']:g}s / {row['rpo_objective_s']:g}s",
            f"{f(row['rto_predicted_s'])} / {f(row['rpo_predicted_s'])}",
        )
    out.print(table)
    for line in binlog_goal_lines(result):
        out.print(f"goal: {escape(line)}", highlight=False)
    out.print("[bold]Not covered by the sandbox (never faked):[/]")
    for line in NOT_COVERED:
        out.print(f"  - {escape(line)}", highlight=False)
    out.print(f"detection: {escape(result.monitoring)}", highlight=False)
    for check in result.alert_checks:
        out.print(f"  alert check: {escape(str(check))}", highlight=False)
    out.print(f"reports: {escape(str(result.report_dir))}", highlight=False)
    out.print(f"outputs file: {escape(str(result.outputs_path))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("drill")(drill)
