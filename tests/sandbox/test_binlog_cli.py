"""`drctl binlog-archive` and `drctl restore --to-latest` as processes: SIGKILL, restart, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.binlog.segments import list_segments
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.environment import archiver_source_dsn
from drctl.sandbox.mariadb import MariaDBServer

from .binlog_support import (
    assert_continuous,
    server_position,
    wait_archived,
)
from .conftest import seed_database

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]


def _drctl(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "drctl.pilotlight", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def _processes_using(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(path).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait_mirrored(spool: Path, wanted: tuple[str, int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mirrored = spool / wanted[0]
        if mirrored.exists() and mirrored.stat().st_size >= wanted[1]:
            return
        time.sleep(0.05)
    pytest.fail(f"the client never mirrored {wanted}")


def test_sigkill_mid_segment_then_restart_loses_and_repeats_nothing(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    seed_database(source_db, database_name, rows=100)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_BINLOG_SOURCE_DSN": archiver_source_dsn(source_db).url(),
        "DRCTL_TARGET_DSN": target_db.master_dsn(database_name).url(),
    }
    spool = tmp_path / "spool"
    where = ["--container", container.container_name, "--spool-dir", str(spool)]

    # A long flush interval: the events below are mirrored but not yet a segment.
    first = _drctl(["binlog-archive", "--flush-seconds", "3600", *where], env)
    source_db.execute(f"INSERT INTO `{database_name}`.owners VALUES (500, 'pending')")
    _wait_mirrored(spool, server_position(source_db))
    first.send_signal(signal.SIGKILL)
    first.wait()
    time.sleep(0.5)
    assert _processes_using(spool) == []  # the binlog client died with the archiver
    archived = list_segments(container)
    assert not archived or (archived[-1].binlog_file, archived[-1].end) < server_position(source_db)

    second = _drctl(["binlog-archive", "--flush-seconds", "0.3", *where], env)
    source_db.execute(f"INSERT INTO `{database_name}`.owners VALUES (501, 'after restart')")
    wait_archived(container, source_db)
    second.send_signal(signal.SIGTERM)
    _out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert archiver_source_dsn(source_db).password.encode() not in err

    assert_continuous(container)
    names = [segment.name for segment in list_segments(container)]
    assert len(names) == len(set(names))

    restore = subprocess.run(
        [
            sys.executable,
            "-m",
            "drctl.pilotlight",
            "restore",
            "--to-latest",
            "--yes",
            "--json",
            "--container",
            container.container_name,
        ],
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
    )
    assert restore.returncode == 0, restore.stderr
    report = json.loads(restore.stdout)
    assert report["replayed_segments"] >= 1
    assert report["rpo_seconds"] < 60
    assert fingerprints(target_db.master_dsn(), database_name) == fingerprints(
        source_db.master_dsn(), database_name
    )


def test_restore_refuses_a_gap_in_one_line(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    from .binlog_support import archiving

    seed_database(source_db, database_name, rows=10)
    with archiving(source_db, container, tmp_path / "spool"):
        run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
        for key in range(600, 606):
            source_db.execute(f"INSERT INTO `{database_name}`.owners VALUES ({key}, 'x')")
            time.sleep(0.4)  # several segments
        wait_archived(container, source_db)
    segments = list_segments(container)
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_TARGET_DSN": target_db.master_dsn(database_name).url(),
    }
    planned = subprocess.run(
        [
            sys.executable,
            "-m",
            "drctl.pilotlight",
            "restore",
            "--to-latest",
            "--dry-run",
            "--json",
            "--container",
            container.container_name,
        ],
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
    )
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["dry_run"] is True and plan["problem"] is None and plan["segments"] >= 2
    assert target_db.master_password not in planned.stdout.decode()

    container.delete_blob(segments[-2].name)
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "drctl.pilotlight",
            "restore",
            "--to-latest",
            "--yes",
            "--container",
            container.container_name,
        ],
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
    )
    assert refused.returncode == 3
    lines = refused.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert (
        f"gap: no archived segment starts at {segments[-2].binlog_file}:{segments[-2].start}"
        in lines[0]
    )
    assert "last consistent point" in lines[0] and "--accept-gap" in lines[0]


def test_dry_run_reads_the_backup_jobs_dsn_variable_and_names_the_resume_point(
    source_db: MariaDBServer, azurite: AzuriteServer, container: ContainerClient
) -> None:
    # The Deployment reuses the backup job's secret-to-DSN step, which sets DRCTL_SOURCE_DSN.
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_SOURCE_DSN": archiver_source_dsn(source_db).url(),
    }
    env_without = {k: v for k, v in os.environ.items() if k != "DRCTL_BINLOG_SOURCE_DSN"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "drctl.pilotlight",
            "binlog-archive",
            "--dry-run",
            "--json",
            "--container",
            container.container_name,
        ],
        env={**env_without, **env},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    oldest = str(source_db.execute("SHOW BINARY LOGS")[0][0])
    assert report["resume_at"] == f"{oldest}:0"  # an empty archive starts at the oldest binlog
    assert source_db.master_password not in done.stdout.decode()
    assert list_segments(container) == []  # a dry run writes nothing


def test_archiver_refuses_a_binlog_without_column_names_in_one_line(
    source_db: MariaDBServer, azurite: AzuriteServer, container: ContainerClient
) -> None:
    """binlog_row_metadata=MINIMAL: the archive would fill with events no restore can
    replay as the Azure admin (plain SQL needs the column names)."""
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_BINLOG_SOURCE_DSN": archiver_source_dsn(source_db).url(),
    }
    source_db.execute("SET GLOBAL binlog_row_metadata = 'MINIMAL'")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "drctl.pilotlight",
                "binlog-archive",
                "--dry-run",
                "--container",
                container.container_name,
            ],
            env={**os.environ, **env},
            capture_output=True,
            timeout=60,
        )
    finally:
        source_db.execute("SET GLOBAL binlog_row_metadata = 'FULL'")
    assert done.returncode == 1, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "binlog_row_metadata=MINIMAL" in lines[0]
    assert "needs binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL" in lines[0]
