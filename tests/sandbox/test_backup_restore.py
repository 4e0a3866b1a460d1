"""Backup → Azurite → restore, for real: checksums, refusals, fallback, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import ContainerClient

from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.catalog import list_backups, read_latest_marker
from drctl.pilotlight.formats import BackupFormat
from drctl.pilotlight.restore import BackupRefused, RestoreOptions, run_restore
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.mariadb import MariaDBServer

from .conftest import seed_database


@pytest.mark.mariadb
@pytest.mark.azurite
@pytest.mark.parametrize("fmt", [BackupFormat.ZSTD, BackupFormat.GZIP])
def test_round_trip_restores_identical_tables(
    fmt: BackupFormat,
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
) -> None:
    seed_database(source_db, database_name)
    result = run_backup(source_db.master_dsn(), container, BackupOptions(database_name, fmt=fmt))

    assert result.name.endswith(f".sql.{fmt.extension}")
    assert result.gtid_position  # the source's GTID state at the snapshot
    [entry] = list_backups(container)
    assert entry.metadata.sha256 == result.sha256
    assert entry.metadata.uncompressed_bytes == result.uncompressed_bytes > result.compressed_bytes
    assert (read_latest_marker(container) or {})["name"] == result.name

    restored = run_restore(
        container,
        target_db.master_dsn(),
        RestoreOptions(database_name, source=source_db.master_dsn()),
    )
    source_prints = fingerprints(source_db.master_dsn(), database_name)
    target_prints = fingerprints(target_db.master_dsn(), database_name)
    assert target_prints == source_prints
    assert source_prints["orders"].rows == 5000
    assert restored.source_check == {"reachable": True, "matches": True, "differences": []}
    assert restored.refused == []
    assert 0 <= restored.rpo_seconds < 300


def _corrupt(container: ContainerClient, name: str, *, truncate: bool = False) -> None:
    """Flip one byte in the middle (or cut the blob short), keeping the metadata."""
    blob = container.get_blob_client(name)
    metadata = blob.get_blob_properties().metadata
    data = bytearray(blob.download_blob().readall())
    if truncate:
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x01
    blob.upload_blob(bytes(data), overwrite=True, metadata=metadata)


@pytest.mark.mariadb
@pytest.mark.azurite
@pytest.mark.parametrize("truncate", [False, True], ids=["bit-flip", "truncated"])
def test_corrupt_backup_is_refused_and_target_untouched(
    truncate: bool,
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
) -> None:
    seed_database(source_db, database_name)
    good = run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    source_db.execute(f"INSERT INTO `{database_name}`.owners VALUES (3, 'Eduardo Rodriquez')")
    bad = run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    _corrupt(container, bad.name, truncate=truncate)

    # What is in the target before must still be there after the refusal.
    target_db.execute(f"CREATE DATABASE `{database_name}`")
    target_db.execute(f"CREATE TABLE `{database_name}`.keep (id INT PRIMARY KEY)")
    target_db.execute(f"INSERT INTO `{database_name}`.keep VALUES (42)")

    with pytest.raises(BackupRefused) as refused:
        run_restore(container, target_db.master_dsn(), RestoreOptions(database_name))
    message = str(refused.value)
    assert bad.name in message
    assert "--fallback" in message and good.name in message
    assert target_db.execute(f"SELECT id FROM `{database_name}`.keep") == [(42,)]
    staging = target_db.execute(f"SHOW DATABASES LIKE '{database_name}\\_\\_drctl%'")
    assert staging == []

    # Asked to fall back, the restore takes the previous good backup (two owners).
    result = run_restore(
        container, target_db.master_dsn(), RestoreOptions(database_name, fallback=True)
    )
    assert result.backup["name"] == good.name
    assert result.fallback_used
    assert [r.name for r in result.refused] == [bad.name]
    assert result.tables["owners"]["rows"] == 2
    assert target_db.execute(f"SHOW TABLES FROM `{database_name}` LIKE 'keep'") == []


@pytest.mark.mariadb
@pytest.mark.azurite
def test_blob_without_metadata_is_refused(
    source_db: MariaDBServer, target_db: MariaDBServer, container: ContainerClient
) -> None:
    # A zstd blob someone uploaded by hand: no sha256, so it cannot be trusted.
    container.upload_blob("backup_20250101T000000.000Z.sql.zst", b"\x28\xb5\x2f\xfd garbage")
    with pytest.raises(BackupRefused, match="no sha256"):
        run_restore(container, target_db.master_dsn(), RestoreOptions("whatever"))


@pytest.mark.mariadb
@pytest.mark.azurite
def test_retention_prunes_old_backups_but_keeps_latest(
    source_db: MariaDBServer, container: ContainerClient, database_name: str
) -> None:
    seed_database(source_db, database_name, rows=10)
    now = datetime.now(UTC)
    ages = [timedelta(days=20), timedelta(days=15), timedelta(days=13), timedelta(days=1)]
    old_names = []
    for age in ages:
        taken_at = now - age
        made = run_backup(
            source_db.master_dsn(),
            container,
            BackupOptions(database_name, retention=timedelta(days=10_000)),
            now=lambda taken_at=taken_at: taken_at,  # type: ignore[misc]
        )
        old_names.append(made.name)
    assert len(list_backups(container)) == 4

    fresh = run_backup(
        source_db.master_dsn(),
        container,
        BackupOptions(database_name, retention=timedelta(days=14)),
    )

    assert sorted(fresh.pruned) == sorted(old_names[:2])  # the 20- and 15-day-old ones
    remaining = {entry.name for entry in list_backups(container)}
    assert remaining == {old_names[2], old_names[3], fresh.name}
    assert (read_latest_marker(container) or {})["name"] == fresh.name
