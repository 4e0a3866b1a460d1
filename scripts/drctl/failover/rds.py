"""RDS implementation of the ``Database`` protocol (cross-region read replica)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import ClientError
from botocore.waiter import WaiterModel, create_waiter_with_client

from drctl.failover import rds_swap as swap
from drctl.failover.lag import LagReading, metric_reading, reader_reading
from drctl.failover.rds_fence import unfence_parameter_group
from drctl.failover.rds_swap import DbLogin
from drctl.mysql_dsn import MySQLDsn

# db_instance_available returns as soon as the status is "available", which on real RDS
# can happen *before* the promotion clears the replica's source field. This waiter
# waits for the thing we actually need: available AND no longer a replica.
_PROMOTED_WAITER = {
    "version": 2,
    "waiters": {
        "DBInstancePromoted": {
            "operation": "DescribeDBInstances",
            "delay": 30,
            "maxAttempts": 60,
            "acceptors": [
                {
                    "matcher": "path",
                    "argument": (
                        "length(DBInstances[?DBInstanceStatus=='available' && "
                        "!ReadReplicaSourceDBInstanceIdentifier]) == `1`"
                    ),
                    "expected": True,
                    "state": "success",
                },
                {
                    "matcher": "pathAny",
                    "argument": "DBInstances[].DBInstanceStatus",
                    "expected": "failed",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "argument": "DBInstances[].DBInstanceStatus",
                    "expected": "incompatible-parameters",
                    "state": "failure",
                },
            ],
        }
    },
}


# A cross-region replica of an encrypted source needs a KMS key in ITS region (keys never
# leave theirs), and without a subnet group RDS puts it in the default VPC, where the
# primary's security groups do not exist (CreateDBInstanceReadReplica API reference).
REVERSE_REQUIRED = ("KmsKeyId", "DBSubnetGroupName", "VpcSecurityGroupIds")


class LagReader(Protocol):
    def __call__(self) -> float | None: ...


class CloudWatchLagReader:
    """``AWS/RDS ReplicaLag`` (Maximum per minute) of the replica, read as current
    datapoints in a recent window. A negative value (-1: replication not running) is
    unknown, never "caught up"; ``reading()`` keeps the last good datapoint so that the
    loss can still be bounded (``drctl.failover.lag``)."""

    def __init__(
        self,
        cloudwatch: Any,
        instance_id: str,
        window_minutes: int = 10,
        *,
        period_seconds: int = 60,  # RDS publishes once a minute; the sandbox runs faster
    ) -> None:
        self._cloudwatch = cloudwatch
        self._instance_id = instance_id
        self._window = window_minutes
        self._period = period_seconds

    def reading(self) -> LagReading:
        return metric_reading(
            self._cloudwatch,
            "ReplicaLag",
            {"DBInstanceIdentifier": self._instance_id},
            window_minutes=self._window,
            period_seconds=self._period,
        )

    def __call__(self) -> float | None:
        return self.reading().seconds


class RdsDatabase:
    def __init__(
        self,
        rds: Any,
        instance_id: str,
        lag_reader: LagReader,
        *,
        reverse_rds: Any | None = None,
        reverse_instance_id: str | None = None,
        reverse_lag_reader: LagReader | None = None,
        reverse_create_kwargs: dict[str, Any] | None = None,
        waiter_delay_seconds: int = 30,
        fenced_group: str | None = None,
        primary_instance_id: str | None = None,
        login: Callable[[], DbLogin] | None = None,
        reverse_lag_reader_for: Callable[[str], LagReader] | None = None,
    ) -> None:
        self._rds = rds
        self._instance_id = instance_id
        self._lag_reader = lag_reader
        self._reverse_rds = reverse_rds
        self._reverse_instance_id = reverse_instance_id
        self._reverse_lag_reader = reverse_lag_reader
        self._reverse_create_kwargs = dict(reverse_create_kwargs or {})
        self._delay = waiter_delay_seconds
        self._fenced_group = fenced_group
        # The primary's identifier: the endpoint name Seoul's app uses (failback only).
        self._primary_id = primary_instance_id
        self._login = login
        # ReplicaLag is published under the instance's CURRENT identifier: after the
        # rename the reverse replica's lag is read under the primary's name.
        self._reverse_lag_reader_for = reverse_lag_reader_for

    @property
    def identifier(self) -> str:
        return self._instance_id

    def describe(self) -> dict[str, Any]:
        response = self._rds.describe_db_instances(DBInstanceIdentifier=self._instance_id)
        instance: dict[str, Any] = response["DBInstances"][0]
        return instance

    def replica_lag_seconds(self) -> float | None:
        return self.replica_lag_reading().seconds

    def replica_lag_reading(self) -> LagReading:
        return reader_reading(self._lag_reader)

    def dsn(self) -> MySQLDsn | None:
        """Where drctl reads executed GTIDs: the instance's endpoint with the master login
        (None without a login: the steps then fall back to ReplicaLag)."""
        if self._login is None:
            return None
        endpoint = self.describe().get("Endpoint") or {}
        if not endpoint.get("Address"):
            return None
        return self._login().at(str(endpoint["Address"]), int(endpoint.get("Port") or 3306))

    def is_promoted(self) -> bool:
        instance = self.describe()
        return instance["DBInstanceStatus"] == "available" and not instance.get(
            "ReadReplicaSourceDBInstanceIdentifier"
        )

    def promote(self) -> None:
        instance = self.describe()
        if not instance.get("ReadReplicaSourceDBInstanceIdentifier"):
            return  # already a standalone primary
        if instance["DBInstanceStatus"] != "available":
            # A promotion (or other change) is in flight; calling again would fail with
            # InvalidDBInstanceState. wait_promoted() takes it from here.
            return
        if self._fenced_group:
            # Never while another instance that could take writes uses the group: a
            # dynamic parameter applies at once to every member (swap.py docstring).
            swap.refuse_shared_writer(self._rds, self._fenced_group, self._instance_id)
            unfence_parameter_group(self._rds, self._fenced_group)
        self._rds.promote_read_replica(DBInstanceIdentifier=self._instance_id)

    def wait_promoted(self, timeout_seconds: float) -> None:
        config = self._waiter_config(timeout_seconds)
        self._rds.get_waiter("db_instance_available").wait(
            DBInstanceIdentifier=self._instance_id, WaiterConfig=config
        )
        waiter = create_waiter_with_client(
            "DBInstancePromoted", WaiterModel(_PROMOTED_WAITER), self._rds
        )
        waiter.wait(DBInstanceIdentifier=self._instance_id, WaiterConfig=config)

    def _waiter_config(self, timeout_seconds: float) -> dict[str, int]:
        attempts = max(1, math.ceil(timeout_seconds / max(self._delay, 1)))
        return {"Delay": self._delay, "MaxAttempts": attempts}

    # --- failback ---------------------------------------------------------------
    def _require_reverse(self) -> tuple[Any, str]:
        if self._reverse_rds is None or not self._reverse_instance_id:
            raise RuntimeError(
                "failback needs the primary-region RDS client and a reverse replica id"
            )
        return self._reverse_rds, self._reverse_instance_id

    def _swap(self) -> swap.EndpointSwap:
        rds, reverse_id = self._require_reverse()
        if not self._primary_id:
            raise RuntimeError("failback needs the primary's instance id (rds_instance_id)")
        return swap.EndpointSwap(
            rds, self._primary_id, reverse_id, self.describe()["DBInstanceArn"], self._delay
        )

    def start_reverse_replication(self) -> None:
        rds, reverse_id = self._require_reverse()
        missing = [p for p in REVERSE_REQUIRED if not self._reverse_create_kwargs.get(p)]
        if missing:
            raise ValueError(
                f"cannot create the reverse replica {reverse_id}: {', '.join(missing)} missing "
                "(from the primary stack outputs rds_kms_key_arn, rds_subnet_group_name, "
                "rds_security_group_ids; `pulumi up -s seoul` exports them)"
            )
        endpoint_swap = self._swap() if self._primary_id else None
        if endpoint_swap is not None and endpoint_swap.reverse_id_now() is not None:
            return  # created earlier (maybe already renamed into the primary's name)
        source_arn = self.describe()["DBInstanceArn"]
        tags = endpoint_swap.tags() if endpoint_swap is not None else []
        try:
            rds.create_db_instance_read_replica(
                DBInstanceIdentifier=reverse_id,
                SourceDBInstanceIdentifier=source_arn,
                **self._reverse_create_kwargs,
                **({"Tags": tags} if tags else {}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "DBInstanceAlreadyExists":
                raise

    def reverse_replica(self) -> RdsDatabase:
        rds, reverse_id = self._require_reverse()
        if self._primary_id:
            reverse_id = self._swap().reverse_id_now() or reverse_id
        lag_reader = self._reverse_lag_reader or (lambda: None)
        if self._reverse_lag_reader_for is not None:
            lag_reader = self._reverse_lag_reader_for(reverse_id)
        return RdsDatabase(
            rds,
            reverse_id,
            lag_reader,
            waiter_delay_seconds=self._delay,
            # A planned failover left read_only=1 in the primary's group, where the
            # reverse replica was created: reset it as late as possible, and only once
            # the old primary has left the group (retire_old_primary).
            fenced_group=self._reverse_create_kwargs.get("DBParameterGroupName"),
            login=self._login,
        )

    # The endpoint swap (RDS User Guide, "Renaming to replace an existing DB instance").
    def retire_old_primary(self, timeout_seconds: float) -> str:
        return self._swap().retire_old_primary(self._waiter_config(timeout_seconds))

    def take_primary_endpoint(self, timeout_seconds: float) -> str:
        return self._swap().take_primary_endpoint(self._waiter_config(timeout_seconds))

    def fence_writes(self, timeout_seconds: float) -> str:
        """Failback: this (DR) database stops taking writes before Seoul is promoted."""
        return swap.fence_instance(
            self._rds,
            self._instance_id,
            swap.fence_group_name(self._instance_id),
            self._waiter_config(timeout_seconds),
        )
