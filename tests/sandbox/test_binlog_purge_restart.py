"""The archive restarts by its runbook: after the source purged binlog the archiver still
needed, a fresh `drctl backup` restarts archiving from the dump's position, point-in-time
restore to the latest point works again, and `drctl status` and the exporter report the
gap (start and end) until the dumps' retention removes every dump that needs it.

As production runs them: `drctl` command lines, the source read with the RDS master
user's grants, the restore target written with the Azure admin's; root only stands in
for the source's own binlog retention (PURGE BINARY LOGS).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from drctl.binlog.segments import list_segments
from drctl.binlog.status import read_status
from drctl.exporter import ExporterSources, make_registry
from drctl.pilotlight.catalog import list_backups
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.environment import archiver_source_dsn
from drctl.sandbox.mariadb import MariaDBServer
from drctl.stack_outputs import StackOutputs
from drctl.status_checks import FAIL, OK, StatusContext, check_binlog_archive

from .binlog_support import server_position, wait_archived
from .conftest import seed_database

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]

GAPS = "drstack_binlog_archive_gaps"
GAP_START = "drstack_binlog_archive_gap_start_timestamp_seconds"
GAP_END = "drstack_binlog_archive_gap_end_timestamp_seconds"


def _drctl(args: list[str], env: dict[str, str], timeout: float = 120) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "drctl.pilotlight", *args],
        env={**os.environ, **env},
        capture_output=True,
        timeout=timeout,
    )


def _archive_until(env: dict[str, str], where: list[str], done: Any, timeout: float = 60) -> None:
    """Run `drctl binlog-archive` until ``done()``, then SIGTERM it: it must exit 0."""
    archiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drctl.pilotlight",
            "binlog-archive",
            "--flush-seconds",
            "0.3",
            *where,
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout
    try:
        while not done() and time.monotonic() < deadline and archiver.poll() is None:
            time.sleep(0.2)
    finally:
        archiver.send_signal(signal.SIGTERM)
        _out, err = archiver.communicate(timeout=30)
    assert archiver.returncode == 0, err
    assert done(), err


def _exported(container: ContainerClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = make_registry(ExporterSources(stack="azure-pilot", container=container))
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in registry.collect():
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _status(container: ContainerClient) -> Any:
    """`drctl status`'s binlog archive check (AZURE_STORAGE_CONNECTION_STRING is set)."""
    outputs = StackOutputs(
        {"azure-pilot": {"backup_container": container.container_name}}, source="test"
    )
    [result] = check_binlog_archive(StatusContext(outputs=outputs, factory=None))  # type: ignore[arg-type]
    return result


def test_a_fresh_dump_restarts_archiving_after_the_source_purged_a_needed_binlog(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    seed_database(source_db, database_name, rows=50)
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_SOURCE_DSN": source_db.master_dsn(database_name).url(),
        "DRCTL_BINLOG_SOURCE_DSN": archiver_source_dsn(source_db).url(),
        "DRCTL_TARGET_DSN": target_db.master_dsn(database_name).url(),
    }
    where = ["--container", container.container_name, "--spool-dir", str(tmp_path / "spool")]
    table = f"`{database_name}`.owners"

    first_dump = _drctl(["backup", "--container", container.container_name], env)
    assert first_dump.returncode == 0, first_dump.stderr
    source_db.execute(f"INSERT INTO {table} VALUES (100, 'archived')")
    _archive_until(env, where, lambda: _reached(container, source_db))
    archived_to = list_segments(container)[-1]

    # The archiver is down; the source writes on, rotates and purges what it has not sent.
    source_db.execute(f"INSERT INTO {table} VALUES (101, 'lost with the purged binlog')")
    source_db.execute("FLUSH BINARY LOGS", "FLUSH BINARY LOGS")
    current = server_position(source_db)[0]
    _purge_to(source_db, current)
    gap_start = f"{archived_to.binlog_file}:{archived_to.end}"

    refused = _drctl(["binlog-archive", "--flush-seconds", "0.3", *where], env, timeout=60)
    assert refused.returncode == 1, refused.stderr
    # The archiver logs as it runs (INFO); its error is one line, the last, no traceback.
    err = refused.stderr.decode()
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert f"purged {archived_to.binlog_file} before it was archived" in lines[-1]
    assert "take a fresh dump (drctl backup)" in lines[-1]
    open_gap = _exported(container)
    assert open_gap[GAPS][0][1] == 1
    [(labels, start_time)] = open_gap[GAP_START]
    assert (labels["start"], labels["end"]) == (gap_start, "open")
    assert start_time == archived_to.last_event_time
    assert _status(container).status == FAIL

    fresh_dump = _drctl(["backup", "--container", container.container_name], env)
    assert fresh_dump.returncode == 0, fresh_dump.stderr
    dump_file = list_backups(container)[0].metadata.binlog_file
    assert dump_file == current
    source_db.execute(f"INSERT INTO {table} VALUES (102, 'after the fresh dump')")
    _archive_until(
        env, where, lambda: _reached(container, source_db) and _gap_end_in_status(container)
    )
    restarted = [s for s in list_segments(container) if s.binlog_file == dump_file]
    assert restarted and restarted[0].start == 0  # from the first byte of the dump's file

    closed = _exported(container)
    [(labels, end_time)] = closed[GAP_END]
    assert (labels["start"], labels["end"]) == (gap_start, f"{dump_file}:0")
    assert end_time >= archived_to.last_event_time > 0
    reported = _status(container)
    assert reported.status == OK and gap_start in reported.detail and dump_file in reported.detail

    restore = _drctl(
        ["restore", "--to-latest", "--yes", "--json", "--container", container.container_name],
        env,
    )
    assert restore.returncode == 0, restore.stderr
    assert json.loads(restore.stdout)["stopped_at_gap"] is None
    assert fingerprints(target_db.master_dsn(), database_name) == fingerprints(
        source_db.master_dsn(), database_name
    )
    assert target_db.execute(f"SELECT COUNT(*) FROM {table} WHERE id = 102")[0][0] == 1

    # The next dump's retention removes the dump before the gap: nothing needs it any more.
    pruning = _drctl(
        ["backup", "--container", container.container_name, "--retention-days", "0"], env
    )
    assert pruning.returncode == 0, pruning.stderr
    assert all(e.metadata.binlog_file >= dump_file for e in list_backups(container))
    assert _status(container).status == OK
    assert gap_start not in _status(container).detail
    _archive_until(env, where, lambda: _no_gap_in_status(container))
    assert _exported(container)[GAPS][0][1] == 0
    assert GAP_START not in _exported(container)


def _reached(container: ContainerClient, source_db: MariaDBServer) -> bool:
    try:
        wait_archived(container, source_db, timeout=0.1)
    except AssertionError:
        return False
    return True


def _no_gap_in_status(container: ContainerClient) -> bool:
    status = read_status(container)
    return status is not None and status.checked_at > 0 and not status.gaps


def _gap_end_in_status(container: ContainerClient) -> bool:
    status = read_status(container)
    return status is not None and any(gap["end_time"] for gap in status.gaps)


def _purge_to(server: MariaDBServer, current: str, timeout: float = 15) -> None:
    """As root (the source's own binlog retention). The server skips a file a binlog dump
    thread still reads: the stopped archiver's connection may linger for a moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.execute(f"PURGE BINARY LOGS TO '{current}'")
        if str(server.execute("SHOW BINARY LOGS")[0][0]) == current:
            return
        time.sleep(0.2)
    raise AssertionError(f"the source kept binlogs before {current}")
