"""One session on the restored database that runs the replay's plain SQL, in batches.

Statements are sent many at a time (one multi-statement round trip per ~1 MiB), so a
row costs no round trip of its own; transactions keep the source's boundaries
(``START TRANSACTION`` ... ``COMMIT`` at each XID), and DDL runs alone, as the source
ran it. The session knows which COMMIT the server reached when a statement fails, so
the error names the last transaction that is really in the target.

The session runs as whatever account the restore uses (on Azure: the Flexible Server
admin): it sets only session variables any account may set.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight.remote import first_line
from drctl.pilotlight.schema_objects import quote

BATCH_BYTES = 1 << 20
# A batch or one DDL (an ALTER of a big table) may take long; a dead server may not hang
# the restore job forever.
READ_SECONDS = 3600
# Row images carry every value as it was stored: no auto-increment on an explicit 0,
# no strict-mode rejection of a value the source accepted (a zero date), times in UTC
# (the decoder reads TIMESTAMP columns as UTC).
_SESSION = "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00'"
_GENERATED = (
    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
    "AND TABLE_NAME = %s AND COALESCE(GENERATION_EXPRESSION, '') <> ''"
)


class ApplyFailed(RuntimeError):
    """A statement failed on the target; the message names the last committed point."""


@dataclass(frozen=True)
class Point:
    where: str  # binlog file:position just after the transaction
    when: int  # its commit event's timestamp (epoch seconds)


class TargetSession:
    def __init__(self, dsn: MySQLDsn, database: str, start: Point) -> None:
        import pymysql
        from pymysql.constants import CLIENT

        kwargs = dsn.pymysql_kwargs()
        kwargs["database"] = database
        self.conn = pymysql.connect(
            charset="utf8mb4",
            client_flag=CLIENT.MULTI_STATEMENTS,
            connect_timeout=5,
            read_timeout=READ_SECONDS,
            **kwargs,
        )
        self.database = database
        self.committed = start
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._commits: list[tuple[int, Point]] = []  # (statements before it, point)
        self._open_at: int | None = None  # START TRANSACTION's index (-1: already sent)
        self._error = ""
        self._fk_checks = True
        self._generated: dict[str, frozenset[str]] = {}
        self._run(_SESSION)

    def close(self) -> None:
        self.conn.close()

    def _run(self, *statements: str) -> None:
        with self.conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)

    # -- rows --------------------------------------------------------------------

    def add(self, statements: list[str], *, foreign_key_checks: bool = True) -> None:
        """Row statements of the open transaction (opened on the first one)."""
        if not statements:
            return
        if self._open_at is None:
            self._open_at = len(self._pending)
            self._queue("START TRANSACTION")
        if foreign_key_checks != self._fk_checks:  # the source's session had them off
            self._queue(f"SET SESSION foreign_key_checks = {int(foreign_key_checks)}")
            self._fk_checks = foreign_key_checks
        for statement in statements:
            self._queue(statement)
        if self._pending_bytes >= BATCH_BYTES:
            self.flush()

    def commit(self, point: Point) -> None:
        if self._open_at is not None:
            self._queue("COMMIT")
            self._open_at = None
        self._commits.append((len(self._pending), point))
        if not self._pending or self._pending_bytes >= BATCH_BYTES:
            self.flush()

    def _queue(self, statement: str) -> None:
        self._pending.append(statement)
        self._pending_bytes += len(statement)

    def flush(self) -> None:
        if self._pending:
            done = self._send(";\n".join(self._pending))
            if done < len(self._pending):
                self._failed(done)
        if self._commits:
            self.committed = self._commits[-1][1]
        if self._open_at is not None:
            self._open_at = -1
        self._pending, self._pending_bytes, self._commits = [], 0, []

    def _send(self, batch: str) -> int:
        """How many statements of the batch succeeded (all of them, or up to the failure)."""
        import pymysql

        done = 0
        self._error = ""
        with self.conn.cursor() as cur:
            try:
                # Binary values travel as raw bytes inside _binary'...' (row_sql.literal).
                cur.execute(batch.encode("utf-8", "surrogateescape"))
                done = 1
                while cur.nextset():
                    done += 1
            except pymysql.err.MySQLError as exc:
                self._error = first_line(exc)
        return done

    def _failed(self, done: int) -> None:
        for before, point in self._commits:
            if before <= done:
                self.committed = point
        self._open_at = None
        self._pending, self._pending_bytes, self._commits = [], 0, []
        error = self._error
        with contextlib.suppress(Exception):  # a session that is gone rolled back itself
            self._run("ROLLBACK")
        raise ApplyFailed(f"the target refused a replayed statement: {error}")

    def rollback_open(self) -> None:
        """Drop the transaction in progress (a cut at --to-time, or the chain's end)."""
        if self._open_at is not None and self._open_at >= 0:
            del self._pending[self._open_at :]  # never sent: just forget it
            self._pending_bytes = sum(len(s) for s in self._pending)
            self._open_at = None
        self.flush()
        if self._open_at is not None:  # began in an earlier batch: the server holds it
            self._run("ROLLBACK")
            self._open_at = None

    # -- DDL ---------------------------------------------------------------------

    def ddl(self, statement: str, sql_mode: int | None, point: Point) -> None:
        """A statement as the source ran it, alone, under the source's sql_mode."""
        self.flush()
        mode = f"SET SESSION sql_mode = {int(sql_mode)}" if sql_mode is not None else ""
        done = self._send(";\n".join(s for s in (mode, statement, _SESSION) if s))
        if done < (3 if mode else 2):
            self._run(_SESSION)
            raise ApplyFailed(f"the target refused a replayed statement: {self._error}")
        self.committed = point
        self._generated.clear()  # DDL may add or drop generated columns

    def generated_columns(self, table: str) -> frozenset[str]:
        if table not in self._generated:
            with self.conn.cursor() as cur:
                cur.execute(_GENERATED, (self.database, table))
                self._generated[table] = frozenset(str(row[0]) for row in cur.fetchall())
        return self._generated[table]

    def table_ref(self, table: str) -> str:
        return f"{quote(self.database)}.{quote(table)}"
