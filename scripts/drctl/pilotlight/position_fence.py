"""An exact binlog position for a dump of one database on RDS MySQL 8, without a global lock.

Why not the usual ways (all checked against RDS MySQL 8.0/8.4):

- ``mysqldump --source-data`` / ``--lock-all-tables`` / ``--flush-logs`` take
  ``FLUSH TABLES WITH READ LOCK``, which RDS refuses to its master user (error 1045;
  https://repost.aws/knowledge-center/mysqldump-error-rds-mysql-mariadb).
- ``--single-transaction --set-gtid-purged=ON``: before mysqldump 8.0.32 the recorded
  ``GTID_EXECUTED`` is read *after* the snapshot with nothing holding commits back, so it
  can name transactions the snapshot lacks (Bug #33630199); from 8.0.32 mysqldump fixes
  that by taking FLUSH TABLES WITH READ LOCK, i.e. fails on RDS (MySQL bug #109685).
- ``performance_schema.log_status`` is consistent with itself, not with an InnoDB read
  view opened by another connection, and needs BACKUP_ADMIN.
- MySQL (unlike MariaDB's ``binlog_snapshot_file``) exposes no binlog position of a
  consistent snapshot.
- ``gtid_mode=ON`` and a replay that skips GTIDs the target already has: it needs the
  exact GTID set of the snapshot, the same unknown as the position (and turning GTIDs on
  an RDS primary is a four-step online change of its own). With the exact position the
  binlog's own positions suffice, so GTID mode is left as the primary has it.

The fence: ``LOCK TABLES <every base table of the database> READ`` in a session of our
own (the master user has LOCK TABLES). Granting it waits until every transaction that
wrote one of those tables has committed (its metadata lock lasts to the commit, binlog
included); while it is held no session can write them. The binlog position read under
it therefore splits the database's history exactly: everything before it is committed,
nothing after it can commit. The dump's ``START TRANSACTION WITH CONSISTENT SNAPSHOT``
then runs while the fence still stands (a READ lock does not block the dump's reads), so
its snapshot holds exactly the transactions before the position. The fence is released
as soon as the dump has produced its first chunk: ``CHUNK_BYTES`` (1 MiB) of output is
far more than the header mysqldump writes before its snapshot, so a first chunk (or a
finished dump) proves the snapshot exists. mydumper's ``--sync-thread-lock-mode=LOCK_ALL``,
its mode for RDS, uses the same lock.

Writes to *this* database wait while the fence stands: the dump's connect plus its
first MiB (milliseconds to a few hundred on a busy server). Acquiring it waits for the
longest open write transaction on these tables, and new writers queue behind it, so
``lock_wait_timeout`` is short and a fence that cannot be had fails the backup in one
line rather than stalling the application. Writes to other databases are not blocked;
they move the binlog position, and replay filters them out (``--database``, which is
exact only with ``binlog_format=ROW``: the primary's parameter group sets it).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight import remote
from drctl.pilotlight.dump_stream import DumpPosition
from drctl.pilotlight.schema_objects import base_table_names, quote

LOCK_WAIT_SECONDS = 5  # how long writers may queue behind the fence while it is acquired
MAX_HOLD_SECONDS = 30.0  # a dump that produced nothing by then: release, position inexact
_ATTEMPTS = 3


class FenceFailed(RuntimeError):
    """The fence could not be taken (a long write transaction, or DDL kept changing tables)."""


@dataclass
class PositionFence:
    source: MySQLDsn
    database: str
    lock_wait_seconds: int = LOCK_WAIT_SECONDS
    max_hold_seconds: float = MAX_HOLD_SECONDS
    position: DumpPosition = field(default_factory=DumpPosition)
    gtid_executed: str = ""
    tables: list[str] = field(default_factory=list)
    # False when the fence was released before the dump proved its snapshot (timer).
    held_until_snapshot: bool = True
    _conn: Any = None
    _timer: threading.Timer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> PositionFence:
        self._conn = remote.connect(self.source, "source")
        try:
            self._take()
        except BaseException:
            self._close()
            raise
        self._timer = threading.Timer(self.max_hold_seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def _take(self) -> None:
        with self._conn.cursor() as cur:
            cur.execute(f"SET SESSION lock_wait_timeout = {int(self.lock_wait_seconds)}")
            for _attempt in range(_ATTEMPTS):
                tables = base_table_names(cur, self.database)
                if tables:
                    try:
                        cur.execute(
                            "LOCK TABLES "
                            + ", ".join(f"{quote(self.database)}.{quote(t)} READ" for t in tables)
                        )
                    except Exception as exc:
                        raise FenceFailed(
                            f"could not lock the tables of {self.database!r} within "
                            f"{self.lock_wait_seconds} s (a long write transaction?): "
                            f"{remote.first_line(exc)}"
                        ) from exc
                # A table created between the listing and the lock is not fenced: look again.
                if base_table_names(cur, self.database) == tables:
                    self.tables = tables
                    self.position, self.gtid_executed = _binlog_position(cur)
                    return
                cur.execute("UNLOCK TABLES")
        raise FenceFailed(f"the tables of {self.database!r} kept changing while being locked")

    def snapshot_taken(self) -> None:
        """The dump produced its first chunk (or finished): release the fence."""
        self._close()

    def _expire(self) -> None:
        with self._lock:
            if self._conn is not None:
                self.held_until_snapshot = False
        self._close()

    def _close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if self._timer is not None:
                self._timer.cancel()
        if conn is not None:
            # Closing the session releases its table locks (no UNLOCK round trip needed).
            with contextlib.suppress(Exception):
                conn.close()

    @property
    def exact(self) -> bool:
        return self.held_until_snapshot and bool(self.position.binlog_file)

    def __exit__(self, *exc: object) -> None:
        self._close()


def _binlog_position(cur: Any) -> tuple[DumpPosition, str]:
    row = None
    # MySQL 8.4 removed SHOW MASTER STATUS; 8.0 and MariaDB do not know the new name.
    for statement in ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"):
        try:
            cur.execute(statement)
            row = cur.fetchone()
            break
        except Exception:
            continue
    gtid = ""
    with contextlib.suppress(Exception):
        cur.execute("SELECT @@GLOBAL.gtid_executed")
        gtid = str((cur.fetchone() or [""])[0] or "").replace("\n", "")
    if not row:
        return DumpPosition(), gtid
    return DumpPosition(str(row[0]), int(row[1])), gtid
