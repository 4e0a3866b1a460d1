"""The table fence (RDS MySQL's exact dump position) against MariaDB's own, under write load.

MariaDB records the binlog position *inside* its consistent snapshot
(``binlog_snapshot_file``, written by ``--master-data``): the ground truth. The fence
must name the same position while a writer commits to the dumped database all along;
the position read just before the dump (the old MySQL method) must not, or this test
could not tell them apart. What the sandbox cannot check: mysqldump 8's own order of
statements and RDS's privileges (a MySQL 8 server is not part of the sandbox).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.binlog.pitr import plan_pitr, run_pitr
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.dump_options import ServerFlavour
from drctl.pilotlight.dump_stream import DumpPosition, DumpStream
from drctl.pilotlight.position_fence import PositionFence
from drctl.pilotlight.restore import RestoreOptions
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.mariadb import MariaDBServer

from .binlog_support import archiving, server_position, wait_archived
from .conftest import seed_database

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]

ROUNDS = 4


@contextmanager
def writing(server: MariaDBServer, database: str) -> Iterator[list[int]]:
    """Commit one row at a time into ``database`` until the block ends; yields the count."""
    stop = threading.Event()
    committed = [0]
    conn = server.master_dsn(database).connect()

    def run() -> None:
        key = 1_000_000
        with conn.cursor() as cur:
            while not stop.is_set():
                key += 1
                cur.execute(f"INSERT INTO owners VALUES ({key}, 'load {key}')")
                conn.commit()
                committed[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield committed
    finally:
        stop.set()
        thread.join(timeout=10)
        conn.close()


def _dump_position(
    server: MariaDBServer, database: str, fence: PositionFence | None
) -> DumpPosition:
    with DumpStream(
        server.master_dsn(), database, record_position=True, flavour=ServerFlavour.MARIADB
    ) as dump:
        for _chunk in dump.chunks():
            if fence is not None:
                fence.snapshot_taken()
        dump.finish()
    return dump.position


def test_fence_names_the_snapshot_position_while_writes_go_on(
    source_db: MariaDBServer, database_name: str
) -> None:
    seed_database(source_db, database_name, rows=20000)  # > 1 MiB: released mid-dump
    with writing(source_db, database_name) as committed:
        for _round in range(ROUNDS):
            before = committed[0]
            with PositionFence(source_db.master_dsn(), database_name) as fence:
                truth = _dump_position(source_db, database_name, fence)
            assert fence.exact
            assert fence.position == truth
            assert committed[0] > before or _wait_for_writes(committed, before)


def test_position_read_before_the_dump_is_not_exact_under_writes(
    source_db: MariaDBServer, database_name: str
) -> None:
    """The control: without the fence, commits land between the read and the snapshot."""
    seed_database(source_db, database_name, rows=20000)
    misses = 0
    with writing(source_db, database_name):
        for _round in range(ROUNDS):
            before = DumpPosition(*server_position(source_db))
            misses += before != _dump_position(source_db, database_name, None)
    assert misses > 0


def test_fenced_dump_plus_binlog_restores_exactly_under_writes(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    seed_database(source_db, database_name, rows=3000)
    with archiving(source_db, container, tmp_path / "spool"):
        with writing(source_db, database_name):
            result = run_backup(
                source_db.master_dsn(),
                container,
                BackupOptions(database_name, position_method="fence"),
            )
        wait_archived(container, source_db)
    assert result.position_exact

    plan = plan_pitr(container, database_name, None)
    run_pitr(
        container,
        target_db.master_dsn(),
        RestoreOptions(database_name, verify=False),
        plan,
        accept_gap=False,
    )

    assert fingerprints(target_db.master_dsn(), database_name) == fingerprints(
        source_db.master_dsn(), database_name
    )


def _wait_for_writes(committed: list[int], before: int) -> bool:
    event = threading.Event()
    for _ in range(50):
        if committed[0] > before:
            return True
        event.wait(0.05)
    return False


def test_fence_refuses_in_one_line_behind_an_open_write_transaction(
    source_db: MariaDBServer, database_name: str
) -> None:
    from drctl.pilotlight.position_fence import FenceFailed

    seed_database(source_db, database_name, rows=10)
    writer = source_db.master_dsn(database_name).connect()
    try:
        with writer.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO owners VALUES (99, 'open')")  # not committed
        fence = PositionFence(source_db.master_dsn(), database_name, lock_wait_seconds=1)
        with pytest.raises(FenceFailed, match=f"could not lock the tables of '{database_name}'"):
            fence.__enter__()
    finally:
        writer.rollback()
        writer.close()
