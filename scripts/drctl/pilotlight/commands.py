"""`drctl backup` and `drctl restore` (seed 001's pilot-light data path)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from drctl.failures import conflicting
from drctl.instants import FORMAT_HELP, InstantError, optional_instant
from drctl.mysql_dsn import DsnError, MySQLDsn
from drctl.mysql_tools import ToolMissing
from drctl.pilotlight import remote
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.catalog import list_backups, prune, read_latest_marker
from drctl.pilotlight.cli_support import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    _print_result,
    support,
)
from drctl.pilotlight.dump_stream import DumpFailed
from drctl.pilotlight.formats import BackupFormat
from drctl.pilotlight.memory import bound_malloc
from drctl.pilotlight.progress import byte_progress
from drctl.pilotlight.remote import Deadline, DeadlineExceeded
from drctl.pilotlight.restore import BackupRefused, Refusal, RestoreOptions, plan, run_restore
from drctl.pilotlight.storage import StorageConfigError, open_container, resolve_container
from drctl.pilotlight.swap import SwapFailed
from drctl.stack_outputs import OutputsError, load_outputs_file

# --timeout defaults. A backup slower than the RPO objective (600 s for azure-pilot: one
# 5-minute interval + one dump) is useless anyway; a restore gets an hour of the
# 240-minute RTO, leaving the rest for the server, the VMs and the DNS switch.
BACKUP_TIMEOUT_SECONDS = 600.0
RESTORE_TIMEOUT_SECONDS = 3600.0


OutputsOpt = Annotated[
    Path | None,
    typer.Option(
        "--outputs", help="Stack outputs JSON; the azure-pilot entry names the container."
    ),
]
ContainerOpt = Annotated[
    str | None,
    typer.Option("--container", help="Blob container (default: outputs, else mysql-backups)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
]


def _timeout_option(default: float) -> Any:
    return typer.Option(
        "--timeout",
        min=1.0,
        help=f"Give up after this many seconds (default {default:g}); every remote call "
        "is also bounded on its own.",
    )


@contextmanager
def _bounded(command: str, deadline: Deadline, unchanged: str) -> Iterator[Deadline]:
    """Run under ``deadline``; turn every remote failure into one line, never a traceback.

    ``unchanged`` says what is untouched when the command stops before committing
    anything; once it has committed, ``deadline.committed`` says what did change.
    """
    try:
        with remote.sigterm_as_interrupt(), remote.enforced(deadline):
            yield deadline
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        support.fail(f"{command} interrupted; {_state(deadline, unchanged)}", EXIT_INTERRUPTED)
    except BackupRefused as exc:
        support.fail(str(exc), code=EXIT_REFUSED)
    except (DeadlineExceeded, Exception) as exc:
        reason = remote.failure_reason(exc, deadline)
        if reason is not None:
            support.fail(f"{command} gave up: {reason}; {_state(deadline, unchanged)}", 1)
        # Every line of the message (a tool's cause is often on its last), as one line.
        detail = " | ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        where = f" ({deadline.endpoint})" if isinstance(exc, DumpFailed) else ""
        name = (
            ""
            if isinstance(exc, DumpFailed | ToolMissing | SwapFailed)
            else f"{type(exc).__name__}: "
        )
        support.fail(
            f"{command} failed: {name}{detail}{where}; {_state(deadline, unchanged)}",
            EXIT_FAILED,
        )


def _state(deadline: Deadline, unchanged: str) -> str:
    return f"{deadline.committed} (nothing after that)" if deadline.committed else unchanged


def _dsn(text: str, flag: str) -> MySQLDsn:
    try:
        return MySQLDsn.parse(text)
    except DsnError as exc:
        support.fail(f"{flag}: {exc}")


def _locate_container(outputs_path: Path | None, container: str | None) -> tuple[str, str]:
    """(connection string, container name), or a one-line usage error."""
    try:
        outputs = load_outputs_file(outputs_path) if outputs_path else None
    except OutputsError as exc:
        support.fail(str(exc))
    try:
        return resolve_container(container=container, outputs=outputs)
    except StorageConfigError as exc:
        support.fail(str(exc))


def _open(where: tuple[str, str], deadline: Deadline, *, create: bool) -> Any:
    blobs = open_container(*where, create=False)
    deadline.blob_endpoint = remote.blob_label(blobs)
    deadline.on_blob()
    if create:
        open_container(*where, create=True)
    return blobs


def _refuse_backup_conflicts(every: float | None, list_only: bool, dry_run: bool) -> None:
    once = "--every repeats backups; the other runs once"
    for problem in (
        conflicting({"--every": every, "--list": list_only}, once),
        conflicting({"--every": every, "--dry-run": dry_run}, once),
        conflicting({"--list": list_only, "--dry-run": dry_run}, "--list changes nothing"),
    ):
        if problem:
            support.fail(problem)


def backup(
    source: Annotated[
        str,
        typer.Option(
            "--source",
            envvar="DRCTL_SOURCE_DSN",
            help="Source DSN mysql://user:pass@host:port/db (prefer the env var: ps shows flags).",
        ),
    ],
    database: Annotated[
        str | None, typer.Option("--database", help="Database to dump (default: from the DSN).")
    ] = None,
    fmt: Annotated[
        BackupFormat, typer.Option("--format", help="zstd (fast, default) or gzip (seed 001).")
    ] = BackupFormat.ZSTD,
    level: Annotated[int | None, typer.Option("--level", help="Compression level.")] = None,
    threads: Annotated[
        int,
        typer.Option(
            "--threads", min=0, help="zstd worker threads (0: compress in the calling thread)."
        ),
    ] = 0,
    retention_days: Annotated[
        float, typer.Option("--retention-days", min=0.0, help="Prune backups older than this.")
    ] = 14.0,
    every: Annotated[
        float | None,
        typer.Option(
            "--every", min=1.0, help="Repeat every N seconds (seed 001: 300) until Ctrl-C."
        ),
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the backups and exit.")] = False,
    container: ContainerOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
    dry_run: DryRunOpt = False,
    timeout: Annotated[float, _timeout_option(BACKUP_TIMEOUT_SECONDS)] = BACKUP_TIMEOUT_SECONDS,
) -> None:
    """Stream a consistent dump, compressed, into Azure Blob; move `latest`; prune."""
    bound_malloc()
    _refuse_backup_conflicts(every, list_only, dry_run)
    out, progress_console = support.consoles(as_json)
    source_dsn = _dsn(source, "--source")
    database = database or source_dsn.database
    if not database:
        support.fail("--database: not given and the --source DSN names no database")
    where = _locate_container(outputs, container)
    retention = timedelta(days=retention_days)
    if list_only or dry_run:
        with _bounded("backup", Deadline(timeout), "nothing was changed") as deadline:
            blobs = _open(where, deadline, create=False)
            if list_only:
                _print_catalog(blobs, as_json, out)
                return
            doomed = prune(blobs, now=datetime.now(UTC), retention=retention, dry_run=True)
        report = {
            "dry_run": True,
            "source": source_dsn.redacted(),
            "database": database,
            "container": blobs.container_name,
            "format": fmt.value,
            "would_prune": doomed,
        }
        _print_result(report, as_json, out, "backup plan (dry run, nothing written)")
        return
    options = BackupOptions(
        database=database, fmt=fmt, level=level, threads=threads, retention=retention
    )
    while True:
        unchanged = "nothing was committed (the latest backup is unchanged)"
        with _bounded("backup", Deadline(timeout), unchanged) as deadline:
            blobs = _open(where, deadline, create=True)
            with byte_progress(progress_console, f"dump {database}", None) as advance:
                result = run_backup(source_dsn, blobs, options, on_progress=advance)
        _print_result(result.as_dict(), as_json, out, f"backup {result.name} committed")
        if every is None:
            return
        time.sleep(every)


def _print_catalog(blobs, as_json: bool, out) -> None:
    entries = list_backups(blobs)
    marker = read_latest_marker(blobs)
    if as_json:
        support.print_json(
            {
                "container": blobs.container_name,
                "latest": marker,
                "backups": [e.summary() for e in entries],
            }
        )
        return
    table = Table(title=f"backups in {blobs.container_name}")
    for column in ("name", "size", "restore point", "gtid", "latest"):
        table.add_column(column)
    latest_name = (marker or {}).get("name")
    for entry in entries:
        table.add_row(
            entry.name,
            f"{entry.size:,}",
            entry.restore_point.isoformat(timespec="seconds"),
            entry.metadata.gtid_position or "-",
            "←" if entry.name == latest_name else "",
        )
    out.print(table)


# long: the typer signature declares one Annotated option per CLI flag; the work is in helpers
def restore(
    target: Annotated[
        str,
        typer.Option(
            "--target",
            envvar="DRCTL_TARGET_DSN",
            help="Target DSN (Azure Flexible Server, or a local MariaDB).",
        ),
    ],
    database: Annotated[
        str | None, typer.Option("--database", help="Database to restore (default: from the DSN).")
    ] = None,
    backup_name: Annotated[
        str | None, typer.Option("--backup", help="A specific backup blob (default: newest).")
    ] = None,
    fallback: Annotated[
        bool, typer.Option("--fallback", help="If a backup is refused, try the previous one.")
    ] = False,
    failure_time: Annotated[
        str | None,
        typer.Option(
            "--failure-time",
            metavar="TIME",
            help=f"When the primary failed, for the RPO ({FORMAT_HELP}). Default: now.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source", envvar="DRCTL_SOURCE_DSN", help="Compare with this source when reachable."
        ),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Row counts + CHECKSUM TABLE afterwards.")
    ] = True,
    container: ContainerOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
    dry_run: DryRunOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    timeout: Annotated[float, _timeout_option(RESTORE_TIMEOUT_SECONDS)] = RESTORE_TIMEOUT_SECONDS,
    to_time: Annotated[
        str | None,
        typer.Option(
            "--to-time",
            metavar="TIME",
            help="Point-in-time: newest dump at or before T + archived binlog up to T "
            f"({FORMAT_HELP}).",
        ),
    ] = None,
    to_latest: Annotated[
        bool, typer.Option("--to-latest", help="Newest dump + all archived binlog after it.")
    ] = False,
    accept_gap: Annotated[
        bool,
        typer.Option("--accept-gap", help="On a gap or corrupt segment, restore up to it."),
    ] = False,
) -> None:
    """Restore the newest backup that passes its checks; refuse corrupt or partial ones."""
    bound_malloc()
    _refuse_conflicts(to_time, to_latest, backup_name, fallback, accept_gap)
    stop_at = _instant("--to-time", to_time)
    when = _instant("--failure-time", failure_time)
    target_dsn = _dsn(target, "--target")
    database = database or target_dsn.database
    if not database:
        support.fail("--database: not given and the --target DSN names no database")
    options = RestoreOptions(
        database=database,
        backup_name=backup_name,
        fallback=fallback,
        failure_time=when,
        verify=verify,
        source=_dsn(source, "--source") if source else None,
    )
    where = _locate_container(outputs, container)
    if stop_at is not None or to_latest:
        from drctl.binlog.pitr_command import restore_to_point

        with _bounded("restore", Deadline(timeout), _UNCHANGED) as deadline:
            blobs = _open(where, deadline, create=False)
            restore_to_point(
                blobs,
                target_dsn,
                options,
                stop_at,
                accept_gap=accept_gap,
                as_json=as_json,
                dry_run=dry_run,
                yes=yes,
            )
        return
    _restore_dump(where, target_dsn, options, timeout, as_json, dry_run, yes)


_UNCHANGED = "the target database was not changed"


def _instant(flag: str, text: str | None) -> datetime | None:
    try:
        return optional_instant(flag, text)
    except InstantError as exc:
        support.fail(str(exc))


def _refuse_conflicts(
    to_time: str | None, to_latest: bool, backup_name: str | None, fallback: bool, accept_gap: bool
) -> None:
    """Flags that contradict each other, or that the chosen path would silently ignore."""
    point = {"--to-time": to_time, "--to-latest": to_latest}
    problems = (
        conflicting(point, "--to-latest replays every archived event, --to-time stops at T"),
        conflicting(
            {"--backup": backup_name, "--to-time/--to-latest": to_time or to_latest},
            "point-in-time restore picks the newest dump at or before T itself",
        ),
        conflicting(
            {"--fallback": fallback, "--to-time/--to-latest": to_time or to_latest},
            "an older dump would need binlog from an older position; point-in-time restore "
            "never falls back",
        ),
    )
    for problem in problems:
        if problem:
            support.fail(problem)
    if accept_gap and not (to_time or to_latest):
        support.fail("--accept-gap applies to --to-time or --to-latest only")


def _restore_dump(
    where: tuple[str, str],
    target_dsn: MySQLDsn,
    options: RestoreOptions,
    timeout: float,
    as_json: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    out, progress_console = support.consoles(as_json)
    with _bounded("restore", Deadline(timeout), _UNCHANGED) as deadline:
        blobs = _open(where, deadline, create=False)
        tried = plan(blobs, options)
    if dry_run:
        report = {
            "dry_run": True,
            "target": target_dsn.redacted(),
            "database": options.database,
            "would_try": [entry.summary() for entry in tried],
        }
        _print_result(report, as_json, out, "restore plan (dry run, target untouched)")
        return
    if not yes and not typer.confirm(
        f"Replace database {options.database!r} on {target_dsn.redacted()} with {tried[0].name}?",
        default=False,
    ):
        support.fail("aborted by user", code=EXIT_FAILED)

    def refused(refusal: Refusal) -> None:
        progress_console.print(
            f"[yellow]refused {escape(refusal.name)}:[/] {escape(refusal.reason)}", highlight=False
        )

    # A fresh deadline: the confirmation prompt waits for a person, not for a server.
    with _bounded("restore", Deadline(timeout), _UNCHANGED) as deadline:
        blobs = _open(where, deadline, create=False)
        with byte_progress(
            progress_console, f"restore {options.database}", tried[0].size
        ) as advance:
            result = run_restore(
                blobs, target_dsn, options, on_progress=advance, on_refusal=refused
            )
    data = result.as_dict()
    _print_result(data, as_json, out, f"restored {result.backup['name']} into {options.database}")
    check = result.source_check
    if check and check.get("reachable") and not check.get("matches"):
        # Expected when the source kept taking writes after the snapshot; worth a look
        # when it did not.
        progress_console.print(
            "[yellow]the restore differs from the live source (it changed since the backup?)[/]"
        )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
