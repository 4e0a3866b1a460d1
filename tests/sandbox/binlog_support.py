"""Helpers for the binlog archive tests: the archiver in a thread, waiting for it."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from drctl.binlog.archiver import ArchiverOptions, BinlogArchiver
from drctl.binlog.segments import list_segments
from drctl.mysql_dsn import MySQLDsn
from drctl.sandbox.accounts import AZURE_ADMIN, NEVER_GRANTED, Account
from drctl.sandbox.environment import archiver_source_dsn
from drctl.sandbox.mariadb import MariaDBServer


def server_position(server: MariaDBServer) -> tuple[str, int]:
    row = server.execute("SHOW MASTER STATUS")[0]
    return str(row[0]), int(row[1])


def wait_archived(container: Any, server: MariaDBServer, timeout: float = 30.0) -> None:
    """Until the committed segments reach the source's current position."""
    wanted = server_position(server)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        segments = list_segments(container)
        if segments and (segments[-1].binlog_file, segments[-1].end) >= wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"archive did not reach {wanted}")


@contextmanager
def archiving(
    server: MariaDBServer, container: Any, spool: Path, **options: Any
) -> Iterator[BinlogArchiver]:
    archiver = BinlogArchiver(
        archiver_source_dsn(server), container, spool, ArchiverOptions(flush_seconds=0.3, **options)
    )
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            archiver.run(should_stop=stop.is_set)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield archiver
    finally:
        stop.set()
        thread.join(timeout=15)
    if errors:
        raise errors[0]


def assert_continuous(container: Any) -> None:
    """Every segment starts where the previous one ended (or a new file after a rotate)."""
    segments = list_segments(container)
    for before, after in itertools.pairwise(segments):
        if before.ends_file:
            assert after.start == 0 and after.binlog_file > before.binlog_file, (before, after)
        else:
            assert (after.binlog_file, after.start) == (before.binlog_file, before.end), (
                before,
                after,
            )


REPLAY_ADMIN = "replay_azureadmin"


def azure_admin_dsn(server: MariaDBServer, database: str = "") -> MySQLDsn:
    """A user with exactly the Azure Flexible Server admin's grants (accounts.AZURE_ADMIN).

    Production restores and replays as that admin, who has no SUPER, BINLOG_ADMIN or
    REPLICATION_APPLIER (MariaDB: no BINLOG REPLAY): the tests' target user must lack
    them too. Created here, by root, until the sandbox creates its accounts from
    accounts.py for every step; then this returns that account's DSN.
    """
    password = "replay-" + server.app_password
    account = Account(REPLAY_ADMIN, AZURE_ADMIN.privileges)
    server.execute(
        f"CREATE USER IF NOT EXISTS '{REPLAY_ADMIN}'@'%' IDENTIFIED BY '{password}'",
        f"ALTER USER '{REPLAY_ADMIN}'@'%' IDENTIFIED BY '{password}'",
        f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{REPLAY_ADMIN}'@'%'",
        account.grant_statement(),
    )
    granted = " ".join(
        str(row[0]) for row in server.execute(f"SHOW GRANTS FOR '{REPLAY_ADMIN}'@'%'")
    )
    assert not [p for p in NEVER_GRANTED if p in granted.upper()], granted
    return MySQLDsn(
        host="127.0.0.1", port=server.port, user=REPLAY_ADMIN, password=password, database=database
    )
