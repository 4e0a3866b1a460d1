"""What a source has committed, and whether a replica has *executed* it.

A lag figure is not a proof of catch-up: RDS's ``ReplicaLag`` reads 0 while the I/O
thread still trails the source, and -1 (``Seconds_Behind_Source`` NULL) while replication
is not running. A source's binlog position, read once its writers are fenced, is the last
write it will ever acknowledge; the replica has everything once its SQL thread has
executed up to it.

Binlog coordinates, not GTIDs: RDS for MySQL runs ``gtid_mode=OFF`` by default, where
``@@gtid_executed`` is empty and would prove nothing (see ``binlog_position`` for the
RDS page that waits for a replica with exactly this comparison). MySQL 8 and MariaDB
answer the same statements, so the sandbox runs this code unchanged.
"""

from __future__ import annotations

import time

from drctl.failover.binlog_position import BinlogPosition, replica_progress, source_position
from drctl.mysql_dsn import MySQLDsn

POLL_SECONDS = 0.2


def executed_position(source: MySQLDsn, *, timeout: float = 5.0) -> BinlogPosition:
    """The source's current binlog position (raises when binary logging is off)."""
    return source_position(source, timeout=timeout)


def wait_executed(replica: MySQLDsn, position: BinlogPosition, timeout: float) -> bool:
    """True once ``replica``'s SQL thread has executed ``position``; False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        progress = replica_progress(replica)
        if progress is not None and position.reached_by(progress.executed):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
