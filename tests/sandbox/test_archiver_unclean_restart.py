"""The archive goes on after the source is killed and restarted on the same datadir.

A SIGKILLed MariaDB (like a crashed RDS instance, or a Multi-AZ failover) leaves binlog
N without a rotate or stop event and opens N+1 when it comes back. The restarted
archiver (the Deployment restarts it: its client lost the connection) must close N and
archive N+1, and a point-in-time restore of that chain must give the source's rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.binlog.archiver import ArchiverOptions, BinlogArchiver
from drctl.binlog.segments import list_segments
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.environment import (
    archiver_source_dsn,
    backup_source_dsn,
    restore_target_dsn,
)
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.processes import ProcessSupervisor

from .binlog_support import archiving, assert_continuous, server_position, wait_archived
from .conftest import seed_database, start_mariadb

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]


@pytest.fixture
def crashy_db(supervisor: ProcessSupervisor, tmp_path: Path) -> Iterator[MariaDBServer]:
    """A source of its own: this test kills it."""
    server = start_mariadb(supervisor, tmp_path, "crashy", 31)
    yield server
    server.remove()


def _insert(server: MariaDBServer, database: str, keys: range) -> None:
    for key in keys:
        server.execute(f"INSERT INTO `{database}`.owners VALUES ({key}, 'owner {key}')")


class _Failures(threading.Thread):
    error: BaseException | None = None


def _archive_until_it_fails(
    source: MariaDBServer, container: ContainerClient, spool: Path
) -> _Failures:
    archiver = BinlogArchiver(
        archiver_source_dsn(source), container, spool, ArchiverOptions(flush_seconds=0.3)
    )

    def run() -> None:
        try:
            archiver.run()
        except BaseException as exc:  # inspected by the test
            thread.error = exc

    thread = _Failures(target=run, daemon=True)
    thread.start()
    return thread


def _restore_to_latest(azurite: AzuriteServer, container: ContainerClient, target: str) -> dict:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "drctl.pilotlight", "restore", "--to-latest", "--yes"),
            *("--json", "--container", container.container_name),
        ],
        env={
            **os.environ,
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "DRCTL_TARGET_DSN": target,
        },
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize("archiving_at_the_crash", [True, False], ids=["running", "stopped"])
def test_archive_closes_the_crashed_file_and_goes_on(
    crashy_db: MariaDBServer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
    archiving_at_the_crash: bool,
) -> None:
    source, spool = crashy_db, tmp_path / "spool"
    seed_database(source, database_name, rows=50)
    run_backup(backup_source_dsn(source), container, BackupOptions(database_name))
    crashed_file = server_position(source)[0]

    if archiving_at_the_crash:
        # The archiver loses the source and exits (after committing what it had
        # mirrored); its Deployment restarts it.
        failures = _archive_until_it_fails(source, container, spool)
        _insert(source, database_name, range(900, 905))
        wait_archived(container, source)
        source.crash()
        failures.join(timeout=15)
        # Its client lost the source (ArchiverFailed), or its own status query did first.
        assert not failures.is_alive() and isinstance(failures.error, Exception)
    else:
        # The archiver was down: the tail of the crashed file is not archived yet.
        with archiving(source, container, spool):
            _insert(source, database_name, range(900, 903))
            wait_archived(container, source)
        _insert(source, database_name, range(903, 905))
        source.crash()

    source.start()  # the same datadir: crash recovery, then a new binlog file
    _insert(source, database_name, range(910, 915))
    assert server_position(source)[0] > crashed_file
    with archiving(source, container, spool):
        wait_archived(container, source)

    assert_continuous(container)
    segments = list_segments(container)
    in_crashed = [s for s in segments if s.binlog_file == crashed_file]
    assert in_crashed and in_crashed[-1].ends_file
    assert any(s.binlog_file > crashed_file for s in segments)

    target = restore_target_dsn(target_db, database_name)
    report = _restore_to_latest(azurite, container, target.url())
    assert report["replayed_segments"] >= 2
    assert fingerprints(target, database_name) == fingerprints(
        backup_source_dsn(source), database_name
    )
