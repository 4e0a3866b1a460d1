"""Binlog replay as the Azure Flexible Server admin: no BINLOG statement, plain SQL only.

Production restores into Azure Database for MySQL as its admin, whose documented grants
have no SUPER, BINLOG_ADMIN or REPLICATION_APPLIER (MariaDB: BINLOG REPLAY), so every
test here replays as a user with exactly those grants (binlog_support.azure_admin_dsn).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from drctl.binlog.pitr import plan_pitr, run_pitr
from drctl.binlog.replay import ReplayFailed
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.restore import RestoreOptions
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.mariadb import MariaDBServer

from .binlog_support import archiving, azure_admin_dsn, wait_archived

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]

KINDS = (
    "CREATE TABLE kinds (id INT PRIMARY KEY AUTO_INCREMENT, note VARCHAR(200), "
    "payload MEDIUMBLOB, amount DECIMAL(14,4), created DATETIME(6), day DATE, span TIME(3), "
    "flags BIT(5), tags SET('a','b','c'), mood ENUM('ok','bad'), ratio DOUBLE, "
    "small FLOAT, big BIGINT UNSIGNED, stamp TIMESTAMP(3) NULL, doc JSON, "
    "twice INT AS (id * 2) VIRTUAL) DEFAULT CHARSET=utf8mb4"
)
NOKEY = "CREATE TABLE nokey (a INT, b VARCHAR(20), c BLOB) DEFAULT CHARSET=utf8mb4"
AWKWARD = "UNHEX('00275C22FF0D0A1A')"  # NUL, quote, backslash, dq, 0xFF, CR LF, ^Z


def _rows(dsn_server: MariaDBServer, database: str, table: str) -> list[tuple[Any, ...]]:
    return dsn_server.execute(f"SELECT * FROM `{database}`.`{table}` ORDER BY 1, 2")


def _same_rows(target: MariaDBServer, source: MariaDBServer, database: str, table: str) -> None:
    restored, wanted = _rows(target, database, table), _rows(source, database, table)
    assert len(restored) == len(wanted), (table, len(restored), len(wanted))
    for got, row in zip(restored, wanted, strict=True):
        cells = [(i, a, b) for i, (a, b) in enumerate(zip(got, row, strict=True)) if a != b]
        assert not cells, (table, row[0], cells)


def _seed(source: MariaDBServer, database: str) -> None:
    source.execute(f"CREATE DATABASE `{database}`")
    source.execute(KINDS, NOKEY, database=database)
    source.execute(
        "INSERT INTO kinds (note, payload, amount, created, day, span, flags, tags, mood, "
        "ratio, small, big, stamp, doc) VALUES "
        "('before the dump', 'x', 1.5, '2025-01-01 00:00:00.5', '2025-01-01', '01:02:03', "
        "b'101', 'a', 'ok', 0.1, 1.25, 1, '2025-01-01 00:00:01', '{\"k\": 1}')",
        "INSERT INTO nokey VALUES (1, 'one', NULL), (1, 'one', NULL), (2, 'two', 'b')",
        database=database,
    )


def _changes(source: MariaDBServer, database: str) -> None:
    """Every kind of change, after the dump: what the replay must carry."""
    source.execute(
        "INSERT INTO kinds (note, payload, amount, created, day, span, flags, tags, mood, "
        "ratio, small, big, stamp, doc) VALUES "
        f"('서울 😀 \\'q\\' \"dq\" \\\\ back', {AWKWARD}, -12345678.9012, "
        "'2024-02-29 23:59:59.999999', '1999-12-31', '-838:59:59.999', b'11111', 'a,c', "
        "'bad', -1.5e-300, 3.5, 18446744073709551615, '2038-01-19 03:14:07.999', "
        '\'{"서울": [1, 2.5, null, "x"]}\'), '
        "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        "UPDATE kinds SET note = 'changed', payload = REPEAT(UNHEX('FF00'), 40000), "
        "amount = amount * 2 WHERE id = 1",
        "UPDATE kinds SET note = NULL, tags = '' WHERE id = 2",
        "INSERT INTO nokey VALUES (3, 'three', " + AWKWARD + ")",
        "UPDATE nokey SET b = 'uno' WHERE a = 1 LIMIT 1",  # one of two identical rows
        "DELETE FROM nokey WHERE a = 2",
        "DELETE FROM kinds WHERE id = 3",
        # DDL in the binlog, then rows that need it.
        "ALTER TABLE kinds ADD COLUMN extra VARCHAR(10) DEFAULT 'x' AFTER note",
        "CREATE TABLE later (id BIGINT PRIMARY KEY, v TEXT) DEFAULT CHARSET=utf8mb4",
        "INSERT INTO later SELECT seq, CONCAT('row ', seq) FROM seq_1_to_3000",
        "UPDATE later SET v = CONCAT(v, ' updated') WHERE id % 3 = 0",
        "DELETE FROM later WHERE id % 5 = 0",
        "UPDATE kinds SET extra = 'set' WHERE id = 1",
        database=database,
    )
    source.execute(
        "BEGIN", "INSERT INTO later VALUES (-1, 'in a transaction')", "COMMIT", database=database
    )


def _restore(container: ContainerClient, target: MariaDBServer, database: str, stop_at=None):
    plan = plan_pitr(container, database, stop_at)
    options = RestoreOptions(database, verify=False)
    return run_pitr(container, azure_admin_dsn(target), options, plan, accept_gap=False)


def _archive(
    source: MariaDBServer, container: ContainerClient, database: str, tmp_path: Path, writes
) -> None:
    with archiving(source, container, tmp_path / "spool"):
        run_backup(source.master_dsn(), container, BackupOptions(database))
        writes()
        wait_archived(container, source)


def test_replay_as_the_azure_admin_round_trips_every_kind_of_change(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    _seed(source_db, database_name)
    other = database_name + "_other"
    source_db.execute(
        f"CREATE DATABASE `{other}`", f"CREATE TABLE `{other}`.t (id INT PRIMARY KEY)"
    )

    def writes() -> None:
        _changes(source_db, database_name)
        source_db.execute(f"INSERT INTO `{other}`.t VALUES (1)", database=other)

    _archive(source_db, container, database_name, tmp_path, writes)

    result = _restore(container, target_db, database_name)

    for table in ("kinds", "nokey", "later"):
        _same_rows(target_db, source_db, database_name, table)
    assert fingerprints(target_db.master_dsn(), database_name) == fingerprints(
        source_db.master_dsn(), database_name
    )
    # --database: the other database's changes are not replayed into the target.
    assert not target_db.execute(f"SHOW DATABASES LIKE '{other}'")
    assert result.replayed_segments >= 1


def test_the_target_numbers_replayed_transactions_with_its_own_gtids(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    """gtid_strict_mode on a target that is a primary of its own (server 2)."""
    _seed(source_db, database_name)
    _archive(
        source_db,
        container,
        database_name,
        tmp_path,
        lambda: source_db.execute(
            "INSERT INTO nokey VALUES (7, 'seven', NULL)", database=database_name
        ),
    )
    before = str(target_db.execute("SELECT @@gtid_binlog_pos")[0][0])

    _restore(container, target_db, database_name)

    after = str(target_db.execute("SELECT @@gtid_binlog_pos")[0][0])
    assert after != before
    assert all(gtid.split("-")[1] == "2" for gtid in after.split(",") if gtid)
    assert _rows(target_db, database_name, "nokey") == _rows(source_db, database_name, "nokey")


def test_triggers_on_the_target_do_not_fire_a_second_time(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    """The source logged the trigger's own row changes; running them as SQL must not
    make the restored trigger add them again."""
    _seed(source_db, database_name)
    source_db.execute(
        "CREATE TABLE audit (id INT PRIMARY KEY AUTO_INCREMENT, what VARCHAR(50))",
        "CREATE TRIGGER nokey_audit AFTER INSERT ON nokey FOR EACH ROW "
        "INSERT INTO audit (what) VALUES (CONCAT('added ', NEW.b))",
        database=database_name,
    )
    _archive(
        source_db,
        container,
        database_name,
        tmp_path,
        lambda: source_db.execute(
            "INSERT INTO nokey VALUES (8, 'eight', NULL), (9, 'nine', NULL)",
            database=database_name,
        ),
    )

    _restore(container, target_db, database_name)

    assert _rows(target_db, database_name, "audit") == _rows(source_db, database_name, "audit")
    assert target_db.execute(f"SHOW TRIGGERS FROM `{database_name}`")[0][0] == "nokey_audit"


def test_a_segment_corrupted_after_the_check_stops_at_the_last_consistent_point(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    _seed(source_db, database_name)
    with archiving(source_db, container, tmp_path / "spool"):
        run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
        source_db.execute("INSERT INTO nokey VALUES (10, 'kept', NULL)", database=database_name)
        wait_archived(container, source_db)
        kept = _rows(source_db, database_name, "nokey")
        source_db.execute("INSERT INTO nokey VALUES (11, 'lost', NULL)", database=database_name)
        wait_archived(container, source_db)
    plan = plan_pitr(container, database_name, None)  # verified: every segment good
    bad = plan.chain.segments[-1]
    blob = container.get_blob_client(bad.name)
    data = bytearray(blob.download_blob().readall())
    data[len(data) // 2] ^= 0xFF  # changed between the plan's check and the replay
    blob.upload_blob(bytes(data), overwrite=True, metadata=blob.get_blob_properties().metadata)

    with pytest.raises(ReplayFailed) as failed:
        run_pitr(
            container,
            azure_admin_dsn(target_db),
            RestoreOptions(database_name, verify=False),
            plan,
            accept_gap=False,
        )

    message = str(failed.value)
    assert "\n" not in message
    assert f"segment {bad.name} is corrupt" in message
    assert f"last consistent point {plan.chain.segments[-2].point()}" in message
    assert _rows(target_db, database_name, "nokey") == kept


def test_a_binlog_without_column_names_is_refused_in_one_line(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    """binlog_row_metadata=MINIMAL: no names to write SQL with; never guess them.

    Set while the archiver runs (it refuses such a source when it starts).
    """
    import time

    _seed(source_db, database_name)
    with archiving(source_db, container, tmp_path / "spool") as archiver:
        run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
        deadline = time.monotonic() + 10
        while not archiver.file and time.monotonic() < deadline:
            time.sleep(0.05)  # past its start-up check
        source_db.execute("SET GLOBAL binlog_row_metadata = 'MINIMAL'")
        try:
            source_db.execute(
                "INSERT INTO nokey VALUES (12, 'nameless', NULL)", database=database_name
            )
        finally:
            source_db.execute("SET GLOBAL binlog_row_metadata = 'FULL'")
        wait_archived(container, source_db)

    with pytest.raises(ReplayFailed, match=r"without binlog_row_metadata=FULL") as failed:
        _restore(container, target_db, database_name)
    assert "\n" not in str(failed.value)
    assert "last consistent point" in str(failed.value)


def test_to_time_cuts_between_transactions(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    import time

    _seed(source_db, database_name)
    marks: dict[str, Any] = {}

    def writes() -> None:
        source_db.execute("INSERT INTO nokey VALUES (20, 'before', NULL)", database=database_name)
        marks["at_t"] = _rows(source_db, database_name, "nokey")
        boundary = int(time.time()) + 1
        time.sleep(boundary - time.time() + 0.05)
        marks["t"] = datetime.fromtimestamp(boundary, UTC)
        source_db.execute("INSERT INTO nokey VALUES (21, 'after', NULL)", database=database_name)

    _archive(source_db, container, database_name, tmp_path, writes)

    result = _restore(container, target_db, database_name, marks["t"])

    assert _rows(target_db, database_name, "nokey") == marks["at_t"]
    assert datetime.fromisoformat(result.last_event_time) < marks["t"]
