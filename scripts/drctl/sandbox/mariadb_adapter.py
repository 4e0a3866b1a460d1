"""The failover engine's ``Database`` protocol for the sandbox's MariaDB pair.

Promotion is what RDS does for a cross-region replica, done by hand: let the SQL
thread apply what it already received, stop replication, forget the source, and
accept writes. A *planned* promotion (failback) also fences the old primary first
(``read_only``) and waits for its last GTID, so no write acknowledged there is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from drctl.sandbox.environment import failback_dsn
from drctl.sandbox.mariadb import MariaDBServer


def _slave_status(server: MariaDBServer) -> dict[str, Any] | None:
    conn = failback_dsn(server).connect(timeout=2)
    try:
        import pymysql.cursors

        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
            return dict(row) if row else None
    finally:
        conn.close()


def _variable(server: MariaDBServer, name: str) -> str:
    rows = server.execute_as(failback_dsn(server), f"SELECT @@GLOBAL.{name}")
    return str(rows[0][0]) if rows else ""


class MariaDbDatabase:
    """A replica (``server``) of ``source``; ``make_reverse`` builds the failback replica.

    ``find_reverse`` finds a failback replica built by an earlier process, like the RDS
    adapter finds its reverse replica by identifier: a resumed failback must use the
    replica that already exists, never build a second one.
    """

    def __init__(
        self,
        server: MariaDBServer,
        *,
        source: MariaDBServer | None = None,
        make_reverse: Callable[[MariaDBServer], MariaDBServer] | None = None,
        find_reverse: Callable[[], MariaDBServer | None] | None = None,
        apply_timeout: float = 10.0,
    ) -> None:
        self.server = server
        self.source = source
        self._make_reverse = make_reverse
        self._find_reverse = find_reverse
        self._reverse: MariaDBServer | None = None
        self._apply_timeout = apply_timeout

    @property
    def identifier(self) -> str:
        return self.server.name

    def replica_lag_seconds(self) -> float | None:
        status = _slave_status(self.server)
        if status is None:
            return 0.0 if self.is_promoted() else None
        behind = status.get("Seconds_Behind_Master")
        if behind is None:
            # The IO thread is not connected: what the source committed since is unknown,
            # exactly like RDS's ReplicaLag going missing when the source is gone.
            return None
        return float(behind)

    def is_promoted(self) -> bool:
        return _slave_status(self.server) is None and _variable(self.server, "read_only") == "0"

    def promote(self) -> None:
        if self.is_promoted():
            return
        self._fence_source()
        self._wait_relay_applied()
        self.server.execute("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = 0")

    def _fence_source(self) -> None:
        """Planned switchover: stop writes on a live source and wait for its last GTID."""
        if self.source is None or not self.source.alive():
            return
        try:
            self.source.execute("SET GLOBAL read_only = 1")
            target = _variable(self.source, "gtid_binlog_pos")
        except Exception:
            return  # the source is gone after all: nothing to fence
        wait = f"SELECT MASTER_GTID_WAIT('{target}', {self._apply_timeout})"
        self.server.execute_as(failback_dsn(self.server), wait)

    def _wait_relay_applied(self) -> None:
        """Apply what the replica already received (RDS does this before promoting)."""
        deadline = time.monotonic() + self._apply_timeout
        while time.monotonic() < deadline:
            status = _slave_status(self.server)
            if status is None or status.get("Slave_SQL_Running") != "Yes":
                return
            received = str(status.get("Gtid_IO_Pos") or "")
            applied = _variable(self.server, "gtid_slave_pos")
            if not received or received == applied:
                return
            time.sleep(0.05)

    def wait_promoted(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while not self.is_promoted():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.identifier} not writable after {timeout_seconds}s")
            time.sleep(0.05)

    def _existing_reverse(self) -> MariaDBServer | None:
        if self._reverse is None and self._find_reverse is not None:
            self._reverse = self._find_reverse()
        return self._reverse

    def start_reverse_replication(self) -> None:
        if self._existing_reverse() is not None:
            return
        if self._make_reverse is None:
            raise RuntimeError("no primary-region server to replicate back to")
        self._reverse = self._make_reverse(self.server)

    def reverse_replica(self) -> MariaDbDatabase:
        reverse = self._existing_reverse()
        if reverse is None:
            raise RuntimeError("reverse replication has not been started")
        return MariaDbDatabase(reverse, source=self.server)
