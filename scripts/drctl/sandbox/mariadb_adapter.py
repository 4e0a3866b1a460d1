"""The failover engine's ``Database`` protocol for the sandbox's MariaDB pair.

Every method does what the RDS control plane does for the same call, with root
standing in for the control plane (never a decision of its own):
- promote = PromoteReadReplica: apply what the replica already received, stop
  replication, forget the source, accept writes. Nothing else: the DR database's fence
  and the wait for its last GTID are the failback's own steps (fence_dr_writes,
  promote_primary), as in production.
- start_reverse_replication = CreateDBInstanceReadReplica of the DR database under the
  identifier ``<primary>-failback`` (an ``EndpointDirectory`` name).
- retire_old_primary / take_primary_endpoint = the renames of RDS's endpoint swap
  (``drctl.failover.rds_swap``): the old primary leaves the primary's name, is fenced
  (its own read_only=1 parameter group) and stopped; the reverse replica takes the name.
- fence_writes = the DR database moved to a read_only=1 parameter group.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from drctl.failover.lag import LagReading, known_lag, reader_reading
from drctl.failover.rds import LagReader
from drctl.mysql_dsn import MySQLDsn
from drctl.sandbox.endpoints import EndpointDirectory
from drctl.sandbox.environment import failback_dsn
from drctl.sandbox.lag_publisher import NOT_REPLICATING
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
        endpoints: EndpointDirectory | None = None,
        primary_name: str = "seoul-db",
        lag_reader: LagReader | None = None,
    ) -> None:
        self.server = server
        # Production's CloudWatchLagReader over what lag_publisher puts into moto, as
        # RDS publishes ReplicaLag; None: read SHOW SLAVE STATUS directly.
        self.lag_reader = lag_reader
        self.source = source
        self._make_reverse = make_reverse
        self._find_reverse = find_reverse
        self._reverse: MariaDBServer | None = None
        self._apply_timeout = apply_timeout
        self._endpoints = endpoints
        self._primary_name = primary_name

    @property
    def identifier(self) -> str:
        return self.server.name

    def dsn(self) -> MySQLDsn:
        """Where the failback proves catch-up (drctl.failover.positions): the master user."""
        return failback_dsn(self.server)

    def replica_lag_seconds(self) -> float | None:
        return self.replica_lag_reading().seconds

    def replica_lag_reading(self) -> LagReading:
        if self.lag_reader is not None:
            return reader_reading(self.lag_reader)
        status = _slave_status(self.server)
        if status is None:
            return LagReading(0.0, last_good=0.0) if self.is_promoted() else LagReading()
        # Seconds_Behind_Master NULL (the IO thread is not connected) is RDS's -1:
        # unknown, never caught up.
        behind = status.get("Seconds_Behind_Master")
        value = NOT_REPLICATING if behind is None else float(behind)
        return LagReading(value, last_good=known_lag(value))

    def is_promoted(self) -> bool:
        return _slave_status(self.server) is None and _variable(self.server, "read_only") == "0"

    def promote(self) -> None:
        if self.is_promoted():
            return
        self._wait_relay_applied()
        self.server.execute("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = 0")

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
        if self._endpoints is not None:
            self._endpoints.register(self._reverse_name(), self._reverse)

    def _reverse_name(self) -> str:
        return f"{self._primary_name}-failback"

    def reverse_replica(self) -> MariaDbDatabase:
        reverse = self._existing_reverse()
        if reverse is None:
            raise RuntimeError("reverse replication has not been started")
        return MariaDbDatabase(reverse, source=self.server, endpoints=self._endpoints)

    # --- the endpoint swap (as drctl.failover.rds_swap does it on RDS) -----------
    def _directory(self) -> EndpointDirectory:
        if self._endpoints is None:
            raise RuntimeError("no endpoint directory: the sandbox has no RDS names")
        return self._endpoints

    def retire_old_primary(self, timeout_seconds: float) -> str:
        names = self._directory()
        old = names.resolve(self._primary_name)
        reverse = self._existing_reverse()
        details: list[str] = []
        if old is not None and old is not reverse:
            aside = f"{self._primary_name}-retired-{old.server_id}"
            names.rename(self._primary_name, aside)
            details.append(f"{self._primary_name} renamed to {aside}")
        for name in names.names():
            retired = names.resolve(name)
            if name.startswith(f"{self._primary_name}-retired-") and retired is not None:
                details.append(_fence_and_stop(name, retired))
        return "; ".join(details) or f"no old primary named {self._primary_name}: nothing to retire"

    def take_primary_endpoint(self, timeout_seconds: float) -> str:
        names = self._directory()
        holder = names.resolve(self._primary_name)
        if holder is not None and holder is self._existing_reverse():
            return f"{self._primary_name} is already the reverse replica (renamed earlier)"
        names.rename(self._reverse_name(), self._primary_name)  # refuses a taken name
        return f"{self._reverse_name()} renamed to {self._primary_name}"

    def fence_writes(self, timeout_seconds: float) -> str:
        """Control plane: this server's own parameter group, read_only=1."""
        self.server.execute("SET GLOBAL read_only = 1")
        return f"{self.identifier} is in a read_only=1 parameter group: it refuses writes"


def _fence_and_stop(name: str, server: MariaDBServer) -> str:
    """Control plane: the retired instance's own read_only=1 group, then StopDBInstance."""
    if not server.alive():
        return f"{name} is stopped (fenced by its own read_only=1 group once started)"
    server.execute("SET GLOBAL read_only = 1")
    server.stop()
    return f"{name} is in its own read_only=1 parameter group; stopped"
