"""Where a source's binary log stands, and how far a replica has *executed* it.

The planned switchover's drain proof. ``ReplicaLag`` (``Seconds_Behind_Source``) is no
proof: it reads 0 while the replica's I/O thread still trails the source, because it
only measures what the SQL thread has applied against what the I/O thread has received.
A fenced source's binlog position is the last write it will ever acknowledge from a
bound account; the replica has everything once its SQL thread has executed up to it.

Binlog coordinates, not GTIDs: RDS for MySQL runs ``gtid_mode=OFF`` by default and
turning it on for a running source and replica is the documented staged change
OFF -> OFF_PERMISSIVE -> ON_PERMISSIVE -> ON with a reboot of both instances at each
step ("Enabling GTID-based replication for existing read replicas",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-replication-gtid.configuring-existing-read-replicas.html),
which a ``pulumi up`` cannot sequence. That same page waits for a replica with exactly
this comparison: ``SHOW MASTER STATUS`` on the source, then the replica's progress
against that file and position. It needs no GTIDs, and MySQL 8 and MariaDB (the
sandbox) answer it with the same statements, so the sandbox runs this very code.

Statements and privileges (REPLICATION CLIENT on MySQL; BINLOG MONITOR and SLAVE
MONITOR on MariaDB; the RDS master user has them):
- source: ``SHOW BINARY LOG STATUS`` (MySQL 8.2+; 8.4 removed the old name) or
  ``SHOW MASTER STATUS`` (MySQL 8.0, MariaDB);
- replica: ``SHOW REPLICA STATUS`` (MySQL 8.0.22+, MariaDB 10.5.1+): executed up to
  ``Relay_Source_Log_File``/``Exec_Source_Log_Pos`` (MariaDB: ``Relay_Master_Log_File``/
  ``Exec_Master_Log_Pos``), received up to ``Source_Log_File``/``Read_Source_Log_Pos``
  (MariaDB: ``Master_Log_File``/``Read_Master_Log_Pos``).
  https://dev.mysql.com/doc/refman/8.0/en/show-replica-status.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drctl.mysql_dsn import MySQLDsn


class PositionUnavailableError(RuntimeError):
    """The server does not say where its binary log stands (binary logging off)."""


@dataclass(frozen=True)
class BinlogPosition:
    file: str
    pos: int

    def _key(self) -> tuple[str, int, int]:
        base, _, number = self.file.rpartition(".")
        return base, int(number) if number.isdigit() else -1, self.pos

    def reached_by(self, other: BinlogPosition | None) -> bool:
        """True when ``other`` is at or past this position of the same binary log."""
        if other is None:
            return False
        mine, theirs = self._key(), other._key()
        return mine[0] == theirs[0] and theirs[1:] >= mine[1:]

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}"


@dataclass(frozen=True)
class ReplicaProgress:
    executed: BinlogPosition | None  # what the SQL thread has applied (source coordinates)
    received: BinlogPosition | None  # what the I/O thread has read from the source
    io_running: str
    sql_running: str

    def describe(self) -> str:
        return (
            f"executed {self.executed or '?'}, received {self.received or '?'} "
            f"(I/O thread {self.io_running}, SQL thread {self.sql_running})"
        )


def _rows(dsn: MySQLDsn, statement: str, timeout: float) -> list[dict[str, Any]]:
    import pymysql.cursors

    conn = dsn.connect(timeout=timeout, read_timeout=timeout)
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(statement)
            return [dict(row) for row in cur.fetchall()]
    finally:
        conn.close()


def source_position(source: MySQLDsn, *, timeout: float = 5.0) -> BinlogPosition:
    import pymysql

    rows: list[dict[str, Any]] = []
    # MySQL 8.4 removed SHOW MASTER STATUS; 8.0 and MariaDB do not know the new name.
    for statement in ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"):
        try:
            rows = _rows(source, statement, timeout)
            break
        except pymysql.err.ProgrammingError:
            continue
    if not rows:
        raise PositionUnavailableError(
            f"{source.endpoint()} reports no binary log position: binary logging is off "
            "(on RDS it is on while automated backups are, which a read replica's source needs)"
        )
    return BinlogPosition(str(rows[0]["File"]), int(rows[0]["Position"]))


def _position(row: dict[str, Any], files: tuple[str, str], positions: tuple[str, str]) -> Any:
    file = next((row[name] for name in files if row.get(name)), None)
    pos = next((row[name] for name in positions if row.get(name) is not None), None)
    return BinlogPosition(str(file), int(pos)) if file and pos is not None else None


def replica_progress(replica: MySQLDsn, *, timeout: float = 5.0) -> ReplicaProgress | None:
    """None when the server replicates from nothing."""
    rows = _rows(replica, "SHOW REPLICA STATUS", timeout)
    if not rows:
        return None
    row = rows[0]
    return ReplicaProgress(
        executed=_position(
            row,
            ("Relay_Source_Log_File", "Relay_Master_Log_File"),
            ("Exec_Source_Log_Pos", "Exec_Master_Log_Pos"),
        ),
        received=_position(
            row,
            ("Source_Log_File", "Master_Log_File"),
            ("Read_Source_Log_Pos", "Read_Master_Log_Pos"),
        ),
        io_running=str(row.get("Replica_IO_Running") or row.get("Slave_IO_Running") or "?"),
        sql_running=str(row.get("Replica_SQL_Running") or row.get("Slave_SQL_Running") or "?"),
    )
