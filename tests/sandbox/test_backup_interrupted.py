"""Azurite dies in the middle of an upload: nothing partial becomes visible, a retry works."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drctl.pilotlight import block_upload
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.catalog import list_backups, read_latest_marker
from drctl.pilotlight.storage import open_container
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.processes import ProcessSupervisor

from .conftest import seed_database, start_azurite


def wait_until_persisted(azurite: AzuriteServer, *names: str, timeout: float = 15) -> None:
    """Azurite saves its metadata every few seconds; a SIGKILL loses what is unsaved.

    Real Azure never loses a committed blob, so wait until Azurite has written the
    earlier backups to disk before simulating the outage.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "".join(
            path.read_text(errors="replace") for path in azurite.location.glob("__azurite_db_blob*")
        )
        if all(name in text for name in names):
            return
        time.sleep(0.2)
    raise AssertionError(f"Azurite did not persist {names} within {timeout}s")


@pytest.mark.mariadb
@pytest.mark.azurite
def test_killed_storage_never_leaves_a_partial_latest(
    supervisor: ProcessSupervisor,
    source_db: MariaDBServer,
    tmp_path: Path,
    database_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    azurite = start_azurite(supervisor, tmp_path / "azurite")
    seed_database(source_db, database_name, rows=40_000)
    # Hard-to-compress data, so the stream spans many blocks.
    source_db.execute(f"UPDATE `{database_name}`.orders SET payload = UNHEX(SHA2(id, 512))")
    container = open_container(azurite.connection_string, "mysql-backups", create=True, retries=1)
    options = BackupOptions(database_name, block_bytes=64 << 10)
    good = run_backup(source_db.master_dsn(), container, options)
    wait_until_persisted(azurite, good.name, "latest")

    staged = 0
    original_stage = block_upload.StagedBlockWriter._stage

    def stage_then_kill(self: block_upload.StagedBlockWriter, block: bytes) -> None:
        nonlocal staged
        staged += 1
        if staged == 4:  # three blocks are up; now the storage account "goes away"
            azurite.kill()
        original_stage(self, block)

    monkeypatch.setattr(block_upload.StagedBlockWriter, "_stage", stage_then_kill)
    with pytest.raises(Exception):  # noqa: B017 - whatever the SDK raises for a dead peer
        run_backup(source_db.master_dsn(), container, options)
    assert staged >= 4
    monkeypatch.undo()

    # Storage comes back (same data directory, new port).
    azurite = start_azurite(supervisor, tmp_path / "azurite")
    container = open_container(azurite.connection_string, "mysql-backups")
    assert [entry.name for entry in list_backups(container)] == [good.name]
    assert (read_latest_marker(container) or {})["name"] == good.name
    # The aborted upload exists only as uncommitted blocks, invisible to readers.
    committed = {blob.name for blob in container.list_blobs()}
    assert committed == {good.name, "latest"}

    retry = run_backup(source_db.master_dsn(), container, options)
    assert retry.name > good.name
    assert (read_latest_marker(container) or {})["name"] == retry.name
    assert [entry.name for entry in list_backups(container)] == [retry.name, good.name]
    azurite.stop()
