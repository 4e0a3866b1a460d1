"""What a source has committed, and whether a replica has *executed* it.

A lag figure is not a proof of catch-up: RDS's ``ReplicaLag`` reads 0 while the I/O
thread still trails the source, and -1 (``Seconds_Behind_Source`` NULL) while replication
is not running. A fenced source's executed GTID set is the last write it will ever
acknowledge; the replica has everything once it has executed that set.

MySQL 8 and MariaDB spell this differently (the sandbox runs MariaDB):
- MySQL: ``@@GLOBAL.gtid_executed`` (``uuid:1-42`` sets), waited for on the replica with
  ``WAIT_FOR_EXECUTED_GTID_SET(set, timeout)`` (0 reached, 1 timed out). Needs
  ``gtid_mode=ON`` on both servers.
  https://dev.mysql.com/doc/refman/8.0/en/gtid-functions.html
- MariaDB: ``@@GLOBAL.gtid_binlog_pos`` (``domain-server-seq`` positions), waited for
  with ``MASTER_GTID_WAIT(pos, timeout)`` (0 reached, -1 timed out).
  https://mariadb.com/kb/en/master_gtid_wait/
"""

from __future__ import annotations

from typing import Any

from drctl.mysql_dsn import MySQLDsn


def _is_mariadb(cursor: Any) -> bool:
    cursor.execute("SELECT VERSION()")
    return "mariadb" in str(cursor.fetchone()[0]).lower()


def executed_position(source: MySQLDsn, *, timeout: float = 5.0) -> str:
    """The source's executed GTIDs ('' when it has committed nothing)."""
    conn = source.connect(timeout=timeout, read_timeout=timeout)
    try:
        with conn.cursor() as cur:
            variable = "gtid_binlog_pos" if _is_mariadb(cur) else "gtid_executed"
            cur.execute(f"SELECT @@GLOBAL.{variable}")
            value = cur.fetchone()[0]
            return str(value or "").replace("\n", "")
    finally:
        conn.close()


def wait_executed(replica: MySQLDsn, position: str, timeout: float) -> bool:
    """True once ``replica`` has executed ``position``; False after ``timeout`` seconds."""
    if not position:
        return True
    conn = replica.connect(timeout=min(timeout, 5.0) or 1.0, read_timeout=timeout + 5.0)
    try:
        with conn.cursor() as cur:
            if _is_mariadb(cur):
                cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (position, timeout))
            else:
                cur.execute("SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s)", (position, timeout))
            return int(cur.fetchone()[0]) == 0
    finally:
        conn.close()
