"""Binlog archive + point-in-time restore, for real: MariaDB with binlog, and Azurite."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.binlog.pitr import PitrRefused, plan_pitr, run_pitr
from drctl.binlog.segments import list_segments
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.restore import RestoreOptions
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.mariadb import MariaDBServer

from .binlog_support import archiving, assert_continuous, wait_archived
from .conftest import seed_database

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]


def _insert(server: MariaDBServer, database: str, first: int, count: int, note: str) -> None:
    for key in range(first, first + count):
        server.execute(
            f"INSERT INTO `{database}`.owners VALUES ({key}, '{note} {key}')", database=database
        )


def _next_second() -> datetime:
    """Sleep past the next whole second and return it (binlog times have 1 s resolution)."""
    now = time.time()
    boundary = int(now) + 1
    time.sleep(boundary - now + 0.05)
    return datetime.fromtimestamp(boundary, UTC)


def _owner_ids(server: MariaDBServer, database: str) -> set[int]:
    return {row[0] for row in server.execute(f"SELECT id FROM `{database}`.owners")}


def _restore(container, target_db, database, stop_at, *, accept_gap=False):
    plan = plan_pitr(container, database, stop_at)
    options = RestoreOptions(database, verify=False)
    return run_pitr(container, target_db.master_dsn(), options, plan, accept_gap=accept_gap)


def _dump_then_writes(
    source_db: MariaDBServer, container: ContainerClient, database: str, tmp_path: Path
) -> tuple[datetime, dict]:
    """Dump, rows 100.. (before T), T, rows 200.. (after T); all archived. Returns T, prints at T."""
    seed_database(source_db, database, rows=300)
    with archiving(source_db, container, tmp_path / "spool"):
        run_backup(source_db.master_dsn(), container, BackupOptions(database))
        _insert(source_db, database, 100, 20, "before")
        source_db.execute(f"UPDATE `{database}`.orders SET amount = amount + 1 WHERE id < 50")
        at_t = fingerprints(source_db.master_dsn(), database)
        wait_archived(container, source_db)  # no segment holds events from both sides of T
        stop_at = _next_second()
        _insert(source_db, database, 200, 20, "after")
        # Archived apart, so the first segment after T always has a successor (the gap
        # test deletes it: a missing last segment would look like an archive that ends).
        wait_archived(container, source_db)
        source_db.execute(f"DELETE FROM `{database}`.orders WHERE id > 250")
        wait_archived(container, source_db)
    assert_continuous(container)
    return stop_at, at_t


def test_point_in_time_round_trip(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    stop_at, at_t = _dump_then_writes(source_db, container, database_name, tmp_path)

    result = _restore(container, target_db, database_name, stop_at)

    ids = _owner_ids(target_db, database_name)
    assert set(range(100, 120)) <= ids  # written before T: present
    assert not ids & set(range(200, 220))  # written after T: absent
    assert fingerprints(target_db.master_dsn(), database_name) == at_t
    assert result.replayed_segments >= 1
    assert result.stopped_at_gap is None
    assert datetime.fromisoformat(result.last_event_time) < stop_at


def test_to_latest_replays_everything(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    _dump_then_writes(source_db, container, database_name, tmp_path)

    result = _restore(container, target_db, database_name, None)

    assert fingerprints(target_db.master_dsn(), database_name) == fingerprints(
        source_db.master_dsn(), database_name
    )
    assert result.rpo_seconds < 60


def test_restart_mid_segment_has_no_gap_and_no_duplicate(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    seed_database(source_db, database_name, rows=50)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    # A flush interval longer than the run: the archiver stops with a segment pending.
    with archiving(
        source_db,
        container,
        tmp_path / "spool",
    ) as archiver:
        archiver.options.flush_seconds = 3600
        _insert(source_db, database_name, 100, 10, "pending")
        time.sleep(1.0)
    committed_before = list_segments(container)
    with archiving(source_db, container, tmp_path / "spool"):
        _insert(source_db, database_name, 300, 10, "after restart")
        wait_archived(container, source_db)

    assert_continuous(container)
    names = [segment.name for segment in list_segments(container)]
    assert len(names) == len(set(names))
    assert len(names) > len(committed_before)
    _restore(container, target_db, database_name, None)
    assert fingerprints(target_db.master_dsn(), database_name) == fingerprints(
        source_db.master_dsn(), database_name
    )


def _segments_after_dump(container: ContainerClient, database: str):
    plan = plan_pitr(container, database, None)
    return plan.chain.segments


def test_corrupt_segment_is_refused_and_accept_gap_stops_before_it(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    stop_at, at_t = _dump_then_writes(source_db, container, database_name, tmp_path)
    after_t = [
        s
        for s in _segments_after_dump(container, database_name)
        if s.first_event_time >= int(stop_at.timestamp())
    ]
    bad = after_t[0]
    blob = container.get_blob_client(bad.name)
    data = bytearray(blob.download_blob().readall())
    data[len(data) // 2] ^= 0xFF
    blob.upload_blob(bytes(data), overwrite=True, metadata=blob.get_blob_properties().metadata)

    with pytest.raises(
        PitrRefused, match=rf"segment {bad.name} is corrupt: sha256.*last consistent point"
    ):
        _restore(container, target_db, database_name, None)

    result = _restore(container, target_db, database_name, None, accept_gap=True)
    assert "corrupt" in (result.stopped_at_gap or "")
    ids = _owner_ids(target_db, database_name)
    assert set(range(100, 120)) <= ids
    assert fingerprints(target_db.master_dsn(), database_name) == at_t


def test_missing_segment_is_a_gap(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    stop_at, at_t = _dump_then_writes(source_db, container, database_name, tmp_path)
    after_t = [
        s
        for s in _segments_after_dump(container, database_name)
        if s.first_event_time >= int(stop_at.timestamp())
    ]
    container.delete_blob(after_t[0].name)

    with pytest.raises(
        PitrRefused,
        match=rf"gap: no archived segment starts at {after_t[0].binlog_file}:{after_t[0].start}",
    ):
        _restore(container, target_db, database_name, None)

    result = _restore(container, target_db, database_name, None, accept_gap=True)
    assert result.stopped_at_gap
    assert fingerprints(target_db.master_dsn(), database_name) == at_t


def test_retention_keeps_what_the_kept_dump_needs(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    from drctl.binlog.retention import prune_segments
    from drctl.pilotlight.catalog import list_backups

    seed_database(source_db, database_name, rows=20)
    with archiving(source_db, container, tmp_path / "spool"):
        old = run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
        source_db.execute("FLUSH BINARY LOGS")
        _insert(source_db, database_name, 100, 3, "between")
        kept = run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
        _insert(source_db, database_name, 200, 3, "after")
        wait_archived(container, source_db)
    assert old.binlog_file < kept.binlog_file
    assert prune_segments(container) == []  # the old dump still needs its file

    container.delete_blob(old.name)  # the dump retention let it go
    assert [b.name for b in list_backups(container)] == [kept.name]
    pruned = prune_segments(container)

    assert pruned and all(name.split("/")[1] < kept.binlog_file for name in pruned)
    remaining = list_segments(container)
    assert remaining[0].binlog_file == kept.binlog_file and remaining[0].start == 0
    _restore(container, target_db, database_name, None)
    assert fingerprints(target_db.master_dsn(), database_name) == fingerprints(
        source_db.master_dsn(), database_name
    )


def test_to_time_inside_one_segment_stops_at_t(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    seed_database(source_db, database_name, rows=30)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    with archiving(source_db, container, tmp_path / "spool") as archiver:
        wait_archived(container, source_db)
        archiver.options.flush_seconds = 3600  # hold the next events in one segment
        _insert(source_db, database_name, 100, 5, "before")
        at_t = fingerprints(source_db.master_dsn(), database_name)
        stop_at = _next_second()
        _insert(source_db, database_name, 200, 5, "after")
        archiver.options.flush_seconds = 0.0  # now commit them, together
        wait_archived(container, source_db)
    t = int(stop_at.timestamp())
    assert any(s.first_event_time < t <= s.last_event_time for s in list_segments(container))

    _restore(container, target_db, database_name, stop_at)

    assert fingerprints(target_db.master_dsn(), database_name) == at_t
