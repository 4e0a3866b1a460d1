"""RDS's parameter-group apply states, which moto lacks, injected in front of moto.

moto 5.2.5 shows every instance's group ``in-sync`` the moment ModifyDBParameterGroup
returns, and runs no engine. RDS documents more, and drctl's fence reads it
(``DBInstances[].DBParameterGroups[].ParameterApplyStatus``, RDS API Reference,
DBParameterGroupStatus:
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBParameterGroupStatus.html):

- ``applying`` while a change is being applied, ``in-sync`` once it is synchronized
  with the database. The status is not updated in the same instant as the modify call,
  so for a moment the instance still shows ``in-sync`` before the apply has begun:
  emulated as ``stale_in_sync_seconds`` of ``in-sync`` first, then ``applying`` for
  ``applying_seconds``; only then does the value reach the engine (``engine`` callback).
- ``pending-reboot``: a parameter group newly associated with a running instance takes
  effect only after a reboot (RDS User Guide, "Associating a DB parameter group with a
  DB instance",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.Associating.html;
  the binlog group's README note). ``associate_without_reboot`` puts an instance there;
  RebootDBInstance applies the group and clears it.

Every other call passes through to moto unchanged. Used by the planned-switchover drill
scenario and by the moto tests of ``RdsParameterGroupFence``: one implementation of the
injected behaviour, never a decision of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

# (instance id, {parameter: value}) -> the engine now runs with these values.
EngineApply = Callable[[str, dict[str, str]], None]


class ParameterApplyStates:
    def __init__(
        self,
        rds: Any,
        engine: EngineApply,
        *,
        stale_in_sync_seconds: float = 0.2,
        applying_seconds: float = 0.3,
    ) -> None:
        self._rds = rds
        self._engine = engine
        self._stale = stale_in_sync_seconds
        self._applying = applying_seconds
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}  # instance -> when the last change was asked
        self._pending: dict[str, threading.Timer] = {}
        self._values: dict[str, dict[str, str]] = {}  # instance -> what its timer applies
        self._generations: dict[str, int] = {}  # instance -> its latest change's number
        self._generation = 0
        self._pending_reboot: set[str] = set()
        # What reached an engine, in order: (instance, values, epoch seconds).
        self.applied: list[tuple[str, dict[str, str], float]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rds, name)

    # --- what RDS does ------------------------------------------------------------

    def modify_db_parameter_group(self, **kwargs: Any) -> Any:
        response = self._rds.modify_db_parameter_group(**kwargs)
        values = {
            p["ParameterName"]: str(p["ParameterValue"])
            for p in kwargs.get("Parameters", [])
            if p.get("ApplyMethod") == "immediate"
        }
        for instance_id in self._instances_in(kwargs["DBParameterGroupName"]):
            if instance_id not in self._pending_reboot and values:
                self._schedule(instance_id, values)
        return response

    def describe_db_instances(self, **kwargs: Any) -> Any:
        response = self._rds.describe_db_instances(**kwargs)
        for instance in response.get("DBInstances", []):
            status = self.status(instance["DBInstanceIdentifier"])
            for group in instance.get("DBParameterGroups", []):
                group["ParameterApplyStatus"] = status
        return response

    def reboot_db_instance(self, **kwargs: Any) -> Any:
        response = self._rds.reboot_db_instance(**kwargs)
        instance_id = kwargs["DBInstanceIdentifier"]
        with self._lock:
            self._pending_reboot.discard(instance_id)
        self._apply(instance_id, self._group_values(instance_id))
        return response

    # --- the harness's handle -----------------------------------------------------

    def associate_without_reboot(self, instance_id: str) -> None:
        """What ``pulumi up`` leaves after attaching a new group to a running instance."""
        with self._lock:
            self._pending_reboot.add(instance_id)

    def status(self, instance_id: str) -> str:
        with self._lock:
            if instance_id in self._pending_reboot:
                return "pending-reboot"
            started = self._started.get(instance_id)
            if started is None or instance_id not in self._pending:
                return "in-sync"
        return "in-sync" if time.monotonic() - started < self._stale else "applying"

    def close(self) -> None:
        with self._lock:
            timers, self._pending = list(self._pending.values()), {}
        for timer in timers:
            timer.cancel()

    # --- inside -------------------------------------------------------------------

    def _instances_in(self, group_name: str) -> list[str]:
        pages = self._rds.get_paginator("describe_db_instances").paginate()
        return [
            instance["DBInstanceIdentifier"]
            for page in pages
            for instance in page["DBInstances"]
            if any(g["DBParameterGroupName"] == group_name for g in instance["DBParameterGroups"])
        ]

    def _group_values(self, instance_id: str) -> dict[str, str]:
        instance = self._rds.describe_db_instances(DBInstanceIdentifier=instance_id)
        group = instance["DBInstances"][0]["DBParameterGroups"][0]["DBParameterGroupName"]
        pages = self._rds.get_paginator("describe_db_parameters").paginate(
            DBParameterGroupName=group, Source="user"
        )
        return {
            p["ParameterName"]: str(p["ParameterValue"])
            for page in pages
            for p in page["Parameters"]
            if p.get("ParameterValue") is not None
        }

    def _schedule(self, instance_id: str, values: dict[str, str]) -> None:
        with self._lock:
            previous = self._pending.pop(instance_id, None)
            if previous is not None:
                previous.cancel()
                # RDS applies every change; a newer one only adds to the older.
                values = {**self._values.get(instance_id, {}), **values}
            self._generation += 1
            timer = threading.Timer(
                self._stale + self._applying, self._apply_scheduled, (instance_id, self._generation)
            )
            timer.daemon = True
            self._started[instance_id] = time.monotonic()
            self._pending[instance_id] = timer
            self._values[instance_id] = values
            self._generations[instance_id] = self._generation
        timer.start()

    def _apply_scheduled(self, instance_id: str, generation: int) -> None:
        with self._lock:
            if self._generations.get(instance_id) != generation:
                return  # superseded by a later change, which carries these values
            self._pending.pop(instance_id, None)
            values = self._values.pop(instance_id, {})
        self._apply(instance_id, values)

    def _apply(self, instance_id: str, values: dict[str, str]) -> None:
        if values:
            self._engine(instance_id, values)
            self.applied.append((instance_id, dict(values), time.time()))
