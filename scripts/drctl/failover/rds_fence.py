"""Planned switchover on RDS MySQL: fence the live primary through its DB parameter
group, and call it drained once the replica reports zero lag after the fence.

* Fence: ``read_only = 1`` in the primary's DB parameter group. ``read_only`` is a
  dynamic parameter (``ApplyMethod=immediate``, no reboot); its engine default is the
  formula ``{TrueIfReplica}`` (1 on a read replica, 0 otherwise: RDS User Guide,
  "Specifying DB parameters"). A DEFAULT parameter group (``default.mysql8.0``) cannot
  be modified, so the fence needs a custom group on the primary; ``check()`` refuses
  before anything is changed when it has none.
* Unfence: ``read_only = {TrueIfReplica}`` (the engine default: 0 on this primary, and
  still 1 on any replica that shares the group), not ``0``, which would make a replica
  that uses the same group writable. ResetDBParameterGroup would do the same but moto
  5.2.5 does not implement it.
* Drained: the documented RDS way to promote without losing writes is "stop writes on
  the source, then wait until ReplicaLag is 0" (RDS User Guide, "Promoting a read
  replica"). drctl waits for ReplicaLag datapoints whose whole period starts after the
  fence took effect, all at 0. This is AWS's signal, not a GTID comparison: it needs
  replication running (a stopped replica reports no datapoints or -1, and is refused).

The fence only stops accounts without CONNECTION_ADMIN/SUPER: the app must not write
as the RDS master user. Planned mode only; this reads and changes the primary region.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

READ_ONLY = "read_only"
ENGINE_DEFAULT = "{TrueIfReplica}"
PERIOD_SECONDS = 60


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
    """The primary cannot be fenced this way (no custom parameter group)."""


class RdsParameterGroupFence:
    def __init__(
        self,
        primary_rds: Any,
        primary_instance_id: str,
        replica_cloudwatch: Any,
        replica_instance_id: str,
        *,
        apply_timeout_seconds: float = 120.0,
        poll_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rds = primary_rds
        self._instance_id = primary_instance_id
        self._cloudwatch = replica_cloudwatch
        self._replica_id = replica_instance_id
        self._apply_timeout = apply_timeout_seconds
        self._poll = poll_seconds
        self._clock = clock
        self._sleep = sleep
        self.fenced_at: float | None = None

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

    def check(self) -> None:
        """Refuse before the run changes anything when the fence cannot work."""
        self.group_name()

    def read_only_value(self) -> str | None:
        pages = self._rds.get_paginator("describe_db_parameters").paginate(
            DBParameterGroupName=self.group_name()
        )
        for page in pages:
            for parameter in page["Parameters"]:
                if parameter["ParameterName"] == READ_ONLY:
                    return parameter.get("ParameterValue")
        return None

    def _set_read_only(self, value: str) -> None:
        self._rds.modify_db_parameter_group(
            DBParameterGroupName=self.group_name(),
            Parameters=[
                {"ParameterName": READ_ONLY, "ParameterValue": value, "ApplyMethod": "immediate"}
            ],
        )
        self._wait_in_sync()

    def _wait_in_sync(self) -> None:
        """A dynamic change is live once the instance shows the group 'in-sync'."""
        deadline = time.monotonic() + self._apply_timeout
        while True:
            status = self._group().get("ParameterApplyStatus")
            if status == "in-sync":
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self._instance_id}: parameter group still {status!r} after "
                    f"{self._apply_timeout:g}s"
                )
            self._sleep(self._poll)

    def fence(self) -> None:
        self._set_read_only("1")
        self.fenced_at = self._clock()

    def unfence(self) -> None:
        self._set_read_only(ENGINE_DEFAULT)

    def drained(self) -> tuple[bool, str]:
        # A resumed run does not know when the fence took effect: count from now.
        if self.fenced_at is None:
            self.fenced_at = self._clock()
        first = _next_period_start(self.fenced_at)
        points = self._lag_points_since(first)
        if not points:
            return False, (
                f"no ReplicaLag datapoint of {self._replica_id} for a period starting after "
                f"the fence ({first.isoformat()}) yet"
            )
        worst = max(float(p["Maximum"]) for p in points)
        if min(float(p["Minimum"]) for p in points) < 0:
            # RDS reports -1 while replication is not running: nothing proves catch-up.
            return False, f"ReplicaLag of {self._replica_id} is -1: replication is not running"
        detail = f"ReplicaLag of {self._replica_id} since the fence: max {worst:g}s"
        return worst == 0.0, detail

    def _lag_points_since(self, first: datetime) -> list[dict[str, Any]]:
        response = self._cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName="ReplicaLag",
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": self._replica_id}],
            StartTime=first,
            EndTime=first + timedelta(hours=1),
            Period=PERIOD_SECONDS,
            Statistics=["Maximum", "Minimum"],
        )
        return [p for p in response.get("Datapoints", []) if p["Timestamp"] >= first]


def _next_period_start(epoch: float) -> datetime:
    """The first whole metric period that begins at or after ``epoch``."""
    start = math.ceil(epoch / PERIOD_SECONDS) * PERIOD_SECONDS
    return datetime.fromtimestamp(start, UTC)
