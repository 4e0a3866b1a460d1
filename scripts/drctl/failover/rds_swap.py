"""RDS failback's endpoint swap: the promoted replica takes the old primary's name.

Seoul's app connects to the primary's endpoint, ``<identifier>.<hash>.<region>.rds.
amazonaws.com``: the identifier is part of the DNS name. RDS documents the way to put a
new instance behind that name ("Renaming to replace an existing DB instance", RDS User
Guide, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html):
stop the traffic to the old primary, rename it to a name that says it is no longer the
primary, then give the new instance (a promoted read replica) the old name. What the
page says, and what it means for the order of the failback steps:

* ``ModifyDBInstance NewDBInstanceIdentifier`` + ``ApplyImmediately``; the instance
  reboots after a rename.
* The old DNS name is deleted at once (it may stay cached a few minutes); the new name
  becomes effective in about 10 minutes, and the renamed instance is not available until
  then. So the reverse replica takes the name *while it is still a replica* and the DR
  site still serves: those minutes are not part of the failback's outage window.
* An existing name cannot be reused: the old primary is renamed aside first.
* Tags stay with the instance through renames: the reverse replica carries
  ``drstack:failback-of = <DR instance ARN>``, so a resumed run finds it under either name.

Two writable primaries must never exist, and ``read_only`` lives in parameter groups:
a dynamic parameter applies at once to *every* instance in the group (RDS User Guide,
"Working with DB parameter groups"). After a planned failover the old primary and the
reverse replica share Seoul's group, with ``read_only=1``. Resetting it while the old
primary is still in the group would make the old primary writable too. So an instance
is fenced by moving it to a group of its own with ``read_only=1`` (associating a group
takes effect only after a reboot: "Associating a DB parameter group with a DB instance";
drctl reboots), and the shared group is reset only once no other instance that could
take writes uses it (``refuse_shared_writer``).

The old primary is also stopped (``StopDBInstance``). A stopped instance restarts by
itself after 7 days (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/
USER_StopInstance.html), which is why the stop is not the fence: the fenced group is,
and it holds after such a restart. RDS refuses to stop an instance that has (or is) a
read replica; drctl then reports it and leaves the instance fenced and running.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from drctl.mysql_dsn import MySQLDsn

FAILBACK_TAG = "drstack:failback-of"
READ_ONLY = "read_only"
MAX_IDENTIFIER = 63  # CreateDBInstance: 1 to 63 letters, digits or hyphens


class SharedGroupWriterError(RuntimeError):
    """Resetting read_only in this group would make another instance writable too."""


@dataclass(frozen=True)
class DbLogin:
    """The master login (from the replicated secret); the host comes from the endpoint."""

    user: str
    password: str

    def at(self, host: str, port: int) -> MySQLDsn:
        return MySQLDsn(host=host, port=port, user=self.user, password=self.password)


def _instance(rds: Any, instance_id: str) -> dict[str, Any] | None:
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "DBInstanceNotFound":
            return None
        raise
    return dict(found[0]) if found else None


def _all_instances(rds: Any) -> Iterator[dict[str, Any]]:
    for page in rds.get_paginator("describe_db_instances").paginate():
        yield from page.get("DBInstances", [])


def _groups(instance: dict[str, Any]) -> list[dict[str, Any]]:
    return list(instance.get("DBParameterGroups") or [])


def fence_group_name(instance_id: str) -> str:
    return f"{instance_id[: MAX_IDENTIFIER - 12]}-write-fence"


def _family(rds: Any, instance: dict[str, Any]) -> str:
    current = _groups(instance)[0]["DBParameterGroupName"] if _groups(instance) else ""
    if current:
        found = rds.describe_db_parameter_groups(DBParameterGroupName=current)
        for group in found.get("DBParameterGroups", []):
            return str(group["DBParameterGroupFamily"])
    # A default group is not always listed (moto 5.2.5): the family is engine+major.minor.
    version = ".".join(str(instance.get("EngineVersion", "8.0")).split(".")[:2])
    return f"{instance.get('Engine', 'mysql')}{version}"


def _ensure_fence_group(rds: Any, instance: dict[str, Any], group: str) -> None:
    try:
        rds.create_db_parameter_group(
            DBParameterGroupName=group,
            DBParameterGroupFamily=_family(rds, instance),
            Description=f"drctl failback: {instance['DBInstanceIdentifier']} refuses writes",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "DBParameterGroupAlreadyExists":
            raise
    rds.modify_db_parameter_group(
        DBParameterGroupName=group,
        Parameters=[
            {"ParameterName": READ_ONLY, "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )


def _wait_available(rds: Any, instance_id: str, config: dict[str, int]) -> None:
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=instance_id, WaiterConfig=config
    )


def fence_instance(rds: Any, instance_id: str, group: str, config: dict[str, int]) -> str:
    """Move ``instance_id`` to its own ``read_only=1`` group and reboot it into it.
    Idempotent: an instance already in the group, in sync, is left alone."""
    instance = _instance(rds, instance_id)
    if instance is None:
        raise RuntimeError(f"{instance_id} not found: cannot fence its writes")
    if instance.get("DBInstanceStatus") == "stopped":
        return f"{instance_id} is stopped (its writes are fenced by {group} once started)"
    _ensure_fence_group(rds, instance, group)
    current = _groups(instance)[0] if _groups(instance) else {}
    moved = current.get("DBParameterGroupName") != group
    if moved:
        rds.modify_db_instance(
            DBInstanceIdentifier=instance_id, DBParameterGroupName=group, ApplyImmediately=True
        )
        _wait_available(rds, instance_id, config)
    if moved or current.get("ParameterApplyStatus") != "in-sync":
        # The association applies only at a reboot, even with ApplyImmediately.
        rds.reboot_db_instance(DBInstanceIdentifier=instance_id)
        _wait_available(rds, instance_id, config)
    return f"{instance_id} is in parameter group {group} (read_only=1): it refuses writes"


def refuse_shared_writer(rds: Any, group: str, promoting: str) -> None:
    """Raise when an instance other than ``promoting`` that is not a read replica (so
    could take writes, now or when restarted) still uses ``group``."""
    writers = [
        str(i["DBInstanceIdentifier"])
        for i in _all_instances(rds)
        if i["DBInstanceIdentifier"] != promoting
        and not i.get("ReadReplicaSourceDBInstanceIdentifier")
        and any(g.get("DBParameterGroupName") == group for g in _groups(i))
    ]
    if writers:
        raise SharedGroupWriterError(
            f"refusing to reset read_only in parameter group {group}: {', '.join(writers)} "
            "still use it and would become writable too. Run retire_old_primary first "
            "(it moves the old primary to a fenced group of its own)."
        )


class EndpointSwap:
    """The primary's identifier (``primary_id``) moves from the old primary to the
    reverse replica (``reverse_id`` until then)."""

    def __init__(self, rds: Any, primary_id: str, reverse_id: str, dr_arn: str, delay: int) -> None:
        self._rds = rds
        self.primary_id = primary_id
        self.reverse_id = reverse_id
        self._dr_arn = dr_arn
        self._delay = delay

    def tags(self) -> list[dict[str, str]]:
        return [{"Key": FAILBACK_TAG, "Value": self._dr_arn}]

    def _ours(self, instance: dict[str, Any] | None) -> bool:
        tags = {t.get("Key"): t.get("Value") for t in (instance or {}).get("TagList") or []}
        return instance is not None and tags.get(FAILBACK_TAG) == self._dr_arn

    def reverse_id_now(self) -> str | None:
        """The reverse replica's identifier now: before or after the rename, or None."""
        if _instance(self._rds, self.reverse_id) is not None:
            return self.reverse_id
        return self.primary_id if self._ours(_instance(self._rds, self.primary_id)) else None

    def retired_prefix(self) -> str:
        return f"{self.primary_id[: MAX_IDENTIFIER - 22]}-retired-"

    def retire_old_primary(self, config: dict[str, int]) -> str:
        old = _instance(self._rds, self.primary_id)
        details: list[str] = []
        if old is not None and not self._ours(old):
            created = old.get("InstanceCreateTime")
            stamp = created.strftime("%Y%m%d%H%M") if isinstance(created, datetime) else "old"
            aside = f"{self.retired_prefix()}{stamp}"
            self._rds.modify_db_instance(
                DBInstanceIdentifier=self.primary_id,
                NewDBInstanceIdentifier=aside,
                ApplyImmediately=True,
            )
            _wait_available(self._rds, aside, config)
            details.append(f"{self.primary_id} renamed to {aside}")
        retired = [
            i for i in _all_instances(self._rds)
            if str(i["DBInstanceIdentifier"]).startswith(self.retired_prefix())
        ]  # fmt: skip
        for instance in retired:
            details.append(self._fence_and_stop(str(instance["DBInstanceIdentifier"]), config))
        if not details:
            return f"no old primary named {self.primary_id}: nothing to retire"
        return "; ".join(details)

    def _fence_and_stop(self, instance_id: str, config: dict[str, int]) -> str:
        fenced = fence_instance(
            self._rds, instance_id, fence_group_name(self.primary_id + "-retired"), config
        )
        instance = _instance(self._rds, instance_id) or {}
        if instance.get("DBInstanceStatus") != "available":
            return f"{fenced}; status {instance.get('DBInstanceStatus')}"
        try:
            self._rds.stop_db_instance(DBInstanceIdentifier=instance_id)
        except ClientError as exc:
            return f"{fenced}; not stopped ({exc.response['Error']['Code']}): it stays fenced"
        return f"{fenced}; stopped"

    def take_primary_endpoint(self, config: dict[str, int]) -> str:
        holder = _instance(self._rds, self.primary_id)
        if self._ours(holder):
            return f"{self.primary_id} is already the reverse replica (renamed earlier)"
        if holder is not None:
            raise RuntimeError(
                f"{self.primary_id} still names the old primary: retire_old_primary must "
                "rename it aside first (RDS refuses an existing name)"
            )
        if _instance(self._rds, self.reverse_id) is None:
            raise RuntimeError(f"reverse replica {self.reverse_id} not found")
        _wait_available(self._rds, self.reverse_id, config)
        self._rds.modify_db_instance(
            DBInstanceIdentifier=self.reverse_id,
            NewDBInstanceIdentifier=self.primary_id,
            ApplyImmediately=True,
        )
        _wait_available(self._rds, self.primary_id, config)
        return (
            f"{self.reverse_id} renamed to {self.primary_id}: the endpoint Seoul's app uses "
            "now resolves to the reverse replica (still read-only)"
        )
