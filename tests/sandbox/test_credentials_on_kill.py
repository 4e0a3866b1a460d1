"""A killed backup or restore leaves no password behind: not in the temp dir, not anywhere.

The client tools read the credential from an anonymous memory file (memfd), which the
kernel frees with the process however it ends; SIGTERM unwinds like Ctrl-C (children
killed, staging dropped).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.mariadb import MariaDBServer

from .conftest import seed_database
from .test_interrupt import _children

ROWS = 60_000


def seed_slow(server: MariaDBServer, database: str) -> None:
    """Hard-to-compress rows, so the dump and the load each run for a moment."""
    seed_database(server, database, rows=ROWS)
    server.execute(f"UPDATE `{database}`.orders SET payload = UNHEX(SHA2(id, 512))")


def start(command: list[str], env: dict[str, str], tmpdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "drctl.pilotlight", *command],
        env={**os.environ, **env, "TMPDIR": str(tmpdir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for_child(process: subprocess.Popen[bytes], name: str) -> None:
    """Until ``name`` (the mariadb-dump or mariadb client) runs under ``process``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"finished before {name} was seen: {process.stderr.read()!r}")  # type: ignore[union-attr]
        if any(name in cmd.split(" ", 1)[0] for cmd in _children(process.pid).values()):
            return
        time.sleep(0.005)
    pytest.fail(f"{name} never started")


def files_holding(directory: Path, secret: str) -> list[Path]:
    return [
        path
        for path in directory.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> str:
    os.kill(process.pid, sig)
    try:
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return err.decode(errors="replace")


@pytest.mark.mariadb
@pytest.mark.azurite
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_killed_backup_leaves_no_password(
    sig: signal.Signals,
    source_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    seed_slow(source_db, database_name)
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_SOURCE_DSN": source_db.master_dsn(database_name).url(),
    }
    backup = start(["backup", "--container", container.container_name], env, tmp_path)
    wait_for_child(backup, "mariadb-dump")
    errors = stop(backup, sig)

    assert files_holding(tmp_path, source_db.master_password) == []
    assert backup.returncode != 0
    if sig == signal.SIGTERM:
        assert "backup interrupted; nothing was committed" in errors
        assert "Traceback" not in errors


@pytest.mark.mariadb
@pytest.mark.azurite
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_killed_restore_leaves_no_password(
    sig: signal.Signals,
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    seed_slow(source_db, database_name)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_TARGET_DSN": target_db.master_dsn(database_name).url(),
    }
    restore = start(["restore", "--yes", "--container", container.container_name], env, tmp_path)
    wait_for_child(restore, "mariadb")
    errors = stop(restore, sig)

    assert files_holding(tmp_path, target_db.master_password) == []
    assert restore.returncode != 0
    if sig == signal.SIGTERM:
        assert "restore interrupted; the target database was not changed" in errors
        assert "Traceback" not in errors
        # Unwound like Ctrl-C: the half-loaded staging database is gone too.
        staging = target_db.execute(f"SHOW DATABASES LIKE '{database_name}\\_\\_drctl%'")
        assert staging == []
