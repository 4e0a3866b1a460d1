"""``drctl binlog-archive``: the long-running archiver (a Deployment next to the dump CronJob)."""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from drctl.binlog.archiver import (
    DEFAULT_FLUSH_SECONDS,
    ArchiverBehind,
    ArchiverFailed,
    ArchiverOptions,
    BinlogArchiver,
)
from drctl.binlog.retention_hours import DEFAULT_HOURS, RDS_MAX_HOURS
from drctl.pilotlight.commands import (
    EXIT_FAILED,
    ContainerOpt,
    DryRunOpt,
    JsonOpt,
    OutputsOpt,
    _dsn,
    _locate_container,
    _print_result,
    support,
)
from drctl.pilotlight.storage import open_container

EXIT_BEHIND = 4  # the archive trails the source for too long: restart me, page someone


# long: the typer signature declares one Annotated option per CLI flag
def binlog_archive(
    source: Annotated[
        str,
        typer.Option(
            "--source",
            # DRCTL_SOURCE_DSN too: the Deployment reuses the backup job's secret-to-DSN step.
            envvar=["DRCTL_BINLOG_SOURCE_DSN", "DRCTL_SOURCE_DSN"],
            help="Source DSN of an account with REPLICATION SLAVE and REPLICATION CLIENT "
            "(prefer the env var: ps shows flags).",
        ),
    ],
    flush_seconds: Annotated[
        float,
        typer.Option(
            "--flush-seconds",
            min=0.1,
            help="Commit a segment when its oldest event waited this long "
            "(backup.binlog_flush_seconds).",
        ),
    ] = DEFAULT_FLUSH_SECONDS,
    max_segment_mb: Annotated[
        float, typer.Option("--max-segment-mb", min=0.01, help="...or when this much piled up.")
    ] = 4.0,
    warn_behind: Annotated[
        float,
        typer.Option("--warn-behind", min=1.0, help="Log a warning after this many s behind."),
    ] = 15.0,
    fail_behind: Annotated[
        float,
        typer.Option(
            "--fail-behind", min=1.0, help=f"Exit {EXIT_BEHIND} after this many s behind."
        ),
    ] = 120.0,
    spool_dir: Annotated[
        Path | None,
        typer.Option("--spool-dir", help="Where the client mirrors binlog files (an emptyDir)."),
    ] = None,
    start_file: Annotated[
        str, typer.Option("--start-file", help="First binlog when the archive is empty.")
    ] = "",
    retention_hours: Annotated[
        int,
        typer.Option(
            "--binlog-retention-hours",
            min=1,
            max=RDS_MAX_HOURS,
            help="RDS MySQL: the source's 'binlog retention hours' the archiver needs "
            "(an outage longer than this is a gap); warn when lower.",
        ),
    ] = DEFAULT_HOURS,
    set_retention: Annotated[
        bool,
        typer.Option(
            "--set-binlog-retention",
            help="RDS MySQL: raise 'binlog retention hours' to --binlog-retention-hours "
            "(mysql.rds_set_configuration) instead of only warning.",
        ),
    ] = False,
    heartbeat_file: Annotated[
        Path | None,
        typer.Option(
            "--heartbeat-file", help="Touched by the archive loop (a liveness probe reads it)."
        ),
    ] = None,
    container: ContainerOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Stream the source's binlog into Blob segments; resume where the archive ends."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    out, _ = support.consoles(as_json)
    source_dsn = _dsn(source, "--source")
    where = _locate_container(outputs, container)
    options = ArchiverOptions(
        flush_seconds=flush_seconds,
        max_segment_bytes=int(max_segment_mb * (1 << 20)),
        warn_behind_seconds=warn_behind,
        fail_behind_seconds=fail_behind,
        start_file=start_file,
        retention_hours=retention_hours,
        set_retention=set_retention and not dry_run,  # a dry run changes nothing
        heartbeat_file=heartbeat_file,
    )
    blobs = open_container(*where, create=not dry_run)
    spool = spool_dir or Path(tempfile.gettempdir()) / "drctl-binlog-spool"
    archiver = BinlogArchiver(source_dsn, blobs, spool, options)
    try:
        if dry_run:
            point = archiver.resume(dry_run=True)
            report = {
                "dry_run": True,
                "source": source_dsn.redacted(),
                "container": blobs.container_name,
                "resume_at": f"{point.binlog_file}:{point.offset}",
                "gaps": [gap.describe() for gap in archiver.gaps],
                "binlog_retention": archiver.retention.message if archiver.retention else "",
            }
            _print_result(report, as_json, out, "binlog-archive plan (dry run, nothing written)")
            return
        _run_until_stopped(archiver)
    except ArchiverBehind as exc:
        support.fail(str(exc), EXIT_BEHIND)
    except ArchiverFailed as exc:
        support.fail(str(exc), EXIT_FAILED)
    except Exception as exc:  # storage or source unreachable: one line, no traceback
        from drctl.pilotlight.remote import first_line

        support.fail(f"binlog-archive failed: {type(exc).__name__}: {first_line(exc)}", EXIT_FAILED)


def _run_until_stopped(archiver: BinlogArchiver) -> None:
    """SIGTERM/Ctrl-C: stop the client, commit the whole events already mirrored, exit 0."""
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        archiver.run(should_stop=lambda: bool(stopping))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    archiver.flush()
    logging.getLogger("drctl.binlog").info(
        "binlog-archive stopped at %s:%d", archiver.file, archiver.offset
    )


def register(app: typer.Typer) -> None:
    app.command("binlog-archive")(binlog_archive)
