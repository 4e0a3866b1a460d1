"""Planned switchover on RDS MySQL: fence the live primary through its DB parameter
group, prove in SQL that the fence holds, and call it drained once the replica has
*executed* the fenced primary's last binlog position.

* Fence: ``read_only = 1`` in the primary's DB parameter group. ``read_only`` is a
  dynamic parameter (``ApplyMethod=immediate``, no reboot); its engine default is the
  formula ``{TrueIfReplica}`` (1 on a read replica, 0 otherwise: RDS User Guide,
  "Specifying DB parameters"). A DEFAULT parameter group (``default.mysql8.0``) cannot
  be modified, so the fence needs a custom group on the primary.
* Confirmed, not assumed: the instance's ``ParameterApplyStatus`` is ``applying`` while
  RDS applies a change and ``in-sync`` afterwards (RDS API Reference,
  DBParameterGroupStatus,
  https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBParameterGroupStatus.html),
  but the status can still read ``in-sync`` before the apply has begun. The fence holds
  once the group shows ``in-sync`` AND ``SELECT @@GLOBAL.read_only`` on the primary,
  as the master user, returns 1.
* Refused before anything changes (``check``): a default group; a group the instance
  shows ``pending-reboot`` (a group newly associated with a running instance reaches the
  engine only at the next reboot: RDS User Guide, "Associating a DB parameter group with
  a DB instance",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.Associating.html),
  ``failed-to-apply`` or ``pending-database-upgrade``: a read_only set there would not
  reach the engine.
* Drained: the primary's binlog position, read under the confirmed fence, is reached by
  what the replica's SQL thread has executed (:mod:`drctl.failover.binlog_position`).
  ``ReplicaLag = 0`` is not used: it reads 0 while the I/O thread trails the source.
* Unfence: ``read_only = {TrueIfReplica}`` (the engine default: 0 on this primary, and
  still 1 on any replica that shares the group), not ``0``, which would make a replica
  that uses the same group writable; confirmed in SQL like the fence.

Whom ``read_only`` binds (MySQL 8.0 Reference Manual, ``read_only``,
https://dev.mysql.com/doc/refman/8.0/en/server-system-variables.html#sysvar_read_only):
every client without CONNECTION_ADMIN (or the deprecated SUPER); replication threads
still apply. On RDS for MySQL 8.0.36+ the master user holds the privileges of the
master-user table ("Master user account privileges",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html)
and the role ``rds_superuser_role`` ("Role-based privilege model for RDS for MySQL",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.MySQL.CommonDBATasks.privilege-model.html);
neither lists SUPER or CONNECTION_ADMIN, so the fence binds the master user too. It does
not bind RDS's own ``rdsadmin`` (its heartbeat keeps writing the binlog under the fence,
which is why the position is read once the fence holds, and reached-or-past is enough).
A user someone granted CONNECTION_ADMIN is not bound: the app must have its own user
without it (AWS advises against apps using the master user).

Planned mode only; this reads and changes the primary region.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drctl.failover.binlog_position import BinlogPosition, replica_progress, source_position
from drctl.mysql_dsn import MySQLDsn

READ_ONLY = "read_only"
ENGINE_DEFAULT = "{TrueIfReplica}"
IN_SYNC = "in-sync"
# Statuses under which a dynamic change does not reach the engine (DBParameterGroupStatus).
NOT_APPLIED = {
    "pending-reboot": "RDS applies it only after the instance reboots: "
    "aws rds reboot-db-instance --db-instance-identifier {instance}",
    "pending-database-upgrade": "RDS applies it only after the pending engine upgrade",
    "failed-to-apply": "RDS could not apply it (the group is in an invalid state)",
}


def unfence_parameter_group(rds: Any, group_name: str) -> None:
    """``read_only`` back to the engine default (see the module docstring)."""
    rds.modify_db_parameter_group(
        DBParameterGroupName=group_name,
        Parameters=[
            {
                "ParameterName": READ_ONLY,
                "ParameterValue": ENGINE_DEFAULT,
                "ApplyMethod": "immediate",
            }
        ],
    )


class FenceUnavailableError(RuntimeError):
    """The primary cannot be fenced this way (default or unapplied parameter group,
    no master credential); raised before anything is changed."""


class FenceNotAppliedError(RuntimeError):
    """read_only did not reach the engine within the apply timeout."""


@dataclass(frozen=True)
class FenceDsns:
    """The master user's connections to the primary and to the replica."""

    primary: MySQLDsn
    replica: MySQLDsn


def global_read_only(dsn: MySQLDsn, *, timeout: float = 5.0) -> bool:
    conn = dsn.connect(timeout=timeout, read_timeout=timeout)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.read_only")
            return int(cur.fetchone()[0]) == 1
    finally:
        conn.close()


class RdsParameterGroupFence:
    def __init__(
        self,
        primary_rds: Any,
        primary_instance_id: str,
        dsns: Callable[[], FenceDsns],
        *,
        apply_timeout_seconds: float = 120.0,
        poll_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rds = primary_rds
        self._instance_id = primary_instance_id
        self._load_dsns = dsns
        self._dsns: FenceDsns | None = None
        self._apply_timeout = apply_timeout_seconds
        self._poll = poll_seconds
        self._sleep = sleep
        self.position: BinlogPosition | None = None
        self.detail = ""  # what the last fence/unfence confirmed, for the run's report

    @property
    def primary_rds(self) -> Any:
        """The primary region's RDS client this fence changes the group through."""
        return self._rds

    # --- the parameter group ------------------------------------------------------

    def _group(self) -> dict[str, Any]:
        instance = self._rds.describe_db_instances(DBInstanceIdentifier=self._instance_id)
        group: dict[str, Any] = instance["DBInstances"][0]["DBParameterGroups"][0]
        return group

    def group_name(self) -> str:
        name = str(self._group()["DBParameterGroupName"])
        if name.startswith("default."):
            raise FenceUnavailableError(
                f"{self._instance_id} uses the default DB parameter group {name}, which RDS "
                "does not let anyone modify: planned mode needs a custom parameter group on "
                "the primary (the IaC must attach one) to set read_only; use --mode unplanned"
            )
        return name

    def _refuse_unapplied(self, group: dict[str, Any]) -> None:
        status = str(group.get("ParameterApplyStatus") or "")
        if status in NOT_APPLIED:
            why = NOT_APPLIED[status].format(instance=self._instance_id)
            raise FenceUnavailableError(
                f"{self._instance_id}: its DB parameter group {group['DBParameterGroupName']} "
                f"is {status}, so a read_only set there would not reach the engine ({why}); "
                "fix that and rerun, or use --mode unplanned"
            )

    def dsns(self) -> FenceDsns:
        if self._dsns is None:
            self._dsns = self._load_dsns()
        return self._dsns

    def check(self) -> None:
        """Refuse before the run changes anything when the fence cannot work."""
        self.group_name()
        self._refuse_unapplied(self._group())
        dsns = self.dsns()
        try:
            global_read_only(dsns.primary)
            progress = replica_progress(dsns.replica)
        except Exception as exc:
            raise FenceUnavailableError(
                f"planned mode proves the fence and the drain in SQL as the master user, and "
                f"that failed: {_one_line(exc)}; run drctl where both databases answer "
                f"({dsns.primary.endpoint()}, {dsns.replica.endpoint()}) or use --mode unplanned"
            ) from None
        if progress is None:
            raise FenceUnavailableError(
                f"{dsns.replica.endpoint()} replicates from nothing: there is no replica to drain"
            )

    def _set_read_only(self, value: str, *, expect: bool) -> str:
        self._rds.modify_db_parameter_group(
            DBParameterGroupName=self.group_name(),
            Parameters=[
                {"ParameterName": READ_ONLY, "ParameterValue": value, "ApplyMethod": "immediate"}
            ],
        )
        return self._wait_applied(expect)

    def _wait_applied(self, expect: bool) -> str:
        """Until the group is in-sync and the engine itself answers read_only=expect."""
        deadline = time.monotonic() + self._apply_timeout
        primary = self.dsns().primary
        while True:
            group = self._group()
            self._refuse_unapplied(group)
            status = group.get("ParameterApplyStatus")
            engine = global_read_only(primary)
            if status == IN_SYNC and engine == expect:
                return f"parameter group in-sync and SELECT @@GLOBAL.read_only = {int(engine)}"
            if time.monotonic() >= deadline:
                raise FenceNotAppliedError(
                    f"{self._instance_id}: waited {self._apply_timeout:g}s for read_only = "
                    f"{int(expect)}; the parameter group shows {status!r} and SELECT "
                    f"@@GLOBAL.read_only still returns {int(engine)}"
                )
            self._sleep(self._poll)

    # --- the WriteFence protocol --------------------------------------------------

    def fence(self) -> None:
        detail = self._set_read_only("1", expect=True)
        self.position = source_position(self.dsns().primary)
        self.detail = f"{detail}; binlog position under the fence {self.position}"

    def unfence(self) -> None:
        self.detail = self._set_read_only(ENGINE_DEFAULT, expect=False)

    def drained(self) -> tuple[bool, str]:
        dsns = self.dsns()
        if not global_read_only(dsns.primary):
            return False, f"{self._instance_id} is not read-only: its position still moves"
        if self.position is None:
            # A resumed run: under the fence, the position now covers every bound write.
            self.position = source_position(dsns.primary)
        progress = replica_progress(dsns.replica)
        if progress is None:
            return False, f"{dsns.replica.endpoint()} no longer replicates"
        if self.position.reached_by(progress.executed):
            return True, f"replica executed the fenced position {self.position}"
        return False, f"replica {progress.describe()}; fenced primary at {self.position}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
