"""What stands in for RDS behind the planned fence: the engine side of a parameter group.

Production's fence is ``RdsParameterGroupFence``: it changes ``read_only`` in the
primary's DB parameter group, waits for the apply, proves it with ``SELECT
@@GLOBAL.read_only`` as the master user, and proves the drain from binlog positions.
The sandbox runs that same class against moto (the parameter group, with RDS's apply
states injected by :mod:`drctl.sandbox.rds_apply_states`) and the sandbox's MariaDB as
the master user. The one thing neither moto nor drctl does is RDS pushing a dynamic
parameter into the engine; :class:`MariaDbParameterEngine` does it as root, which is
the cloud's control plane here, never a step drctl runs.
"""

from __future__ import annotations

import secrets

from drctl.mysql_dsn import MySQLDsn
from drctl.sandbox.accounts import RDS_MASTER
from drctl.sandbox.mariadb import MariaDBServer

TRUE_IF_REPLICA = "{TrueIfReplica}"


def _is_replica(server: MariaDBServer) -> bool:
    return bool(server.execute("SHOW SLAVE STATUS"))


class MariaDbParameterEngine:
    """``(instance id, {parameter: value})`` -> the MariaDB of that instance runs it.

    Only ``read_only`` is pushed (the one dynamic parameter drctl changes); its RDS
    default is the formula ``{TrueIfReplica}``: 1 on a read replica, 0 otherwise.
    """

    def __init__(self, servers: dict[str, MariaDBServer]) -> None:
        self.servers = servers

    def __call__(self, instance_id: str, values: dict[str, str]) -> None:
        server = self.servers.get(instance_id)
        if server is None or "read_only" not in values:
            return
        value = values["read_only"]
        if value == TRUE_IF_REPLICA:
            value = "1" if _is_replica(server) else "0"
        server.execute(f"SET GLOBAL read_only = {int(value)}")


def master_user_dsns(*servers: MariaDBServer, password: str | None = None) -> list[MySQLDsn]:
    """RDS's master user (accounts.RDS_MASTER grants) on each server, one password for
    all (one secret in production; a read replica has its source's users).

    Created here, as root and outside the binlog, until the sandbox servers create
    their accounts themselves.
    """
    password = password or secrets.token_urlsafe(16)
    user = RDS_MASTER.user
    for server in servers:
        server.execute(
            "SET SESSION sql_log_bin = 0",
            f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'",
            f"ALTER USER '{user}'@'%' IDENTIFIED BY '{password}'",
            RDS_MASTER.grant_statement(),
        )
        server.master_password = password  # the server's other steps log in with it too
    return [
        MySQLDsn(host="127.0.0.1", port=server.port, user=user, password=password)
        for server in servers
    ]
