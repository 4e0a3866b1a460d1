"""The ``WriteFence`` of a MariaDB source/replica pair (planned switchover).

``SET GLOBAL read_only = 1`` waits for transactions that are committing and then refuses
writes from every account without READ_ONLY ADMIN/SUPER (the app's account has neither,
like RDS's master user). After that, the source's ``gtid_binlog_pos`` is the last write
it will ever acknowledge; ``MASTER_GTID_WAIT`` on the replica says whether it has
applied it.
"""

from __future__ import annotations

from drctl.sandbox.environment import fence_dsn
from drctl.sandbox.mariadb import MariaDBServer

WAIT_STEP_SECONDS = 0.5  # one MASTER_GTID_WAIT; the engine polls until its own timeout


def _position(server: MariaDBServer) -> str:
    rows = server.execute_as(fence_dsn(server), "SELECT @@GLOBAL.gtid_binlog_pos")
    return str(rows[0][0]) if rows and rows[0][0] is not None else ""


class MariaDbWriteFence:
    def __init__(self, source: MariaDBServer, replica: MariaDBServer) -> None:
        self.source = source
        self.replica = replica

    def fence(self) -> None:
        self.source.execute("SET GLOBAL read_only = 1")

    def unfence(self) -> None:
        self.source.execute("SET GLOBAL read_only = 0")

    def is_fenced(self) -> bool:
        rows = self.source.execute_as(fence_dsn(self.source), "SELECT @@GLOBAL.read_only")
        return str(rows[0][0]) == "1"

    def drained(self) -> tuple[bool, str]:
        if not self.is_fenced():
            return False, "the source is not fenced: its position still moves"
        target = _position(self.source)
        if not target:
            return True, "the source has committed nothing"
        # 0: reached; -1: timed out (replication stopped, or still applying).
        waited = self.replica.execute_as(
            fence_dsn(self.replica), f"SELECT MASTER_GTID_WAIT('{target}', {WAIT_STEP_SECONDS})"
        )
        applied = _position_applied(self.replica)
        if waited and int(waited[0][0]) == 0:
            return True, f"replica applied source GTID {target}"
        return False, f"replica at GTID {applied or '?'}, source at {target}"


def _position_applied(server: MariaDBServer) -> str:
    rows = server.execute_as(fence_dsn(server), "SELECT @@GLOBAL.gtid_slave_pos")
    return str(rows[0][0]) if rows and rows[0][0] is not None else ""
