"""Aurora Global Database implementation of the ``Database`` protocol (``rds.engine:
aurora-mysql``).

One class, two managed operations (RDS API reference, checked 2026-11-29):

* ``FailoverGlobalCluster`` with ``AllowDataLoss=True`` (unplanned): promotes the
  secondary cluster whatever it has received; writes the primary committed after the
  replication lag are lost. Used by ``--mode unplanned`` and the Lambda.
* ``SwitchoverGlobalCluster`` (planned): Aurora synchronizes every secondary with the
  primary before the roles change, then demotes the old primary to a read-only
  secondary: RPO 0. It needs a healthy global database (all members available,
  compatible engine versions); AWS refuses it otherwise, and drctl reports the refusal.

Both calls name the target by its cluster ARN ("so that Aurora can locate the cluster in
its Region") and are sent to the secondary's (Tokyo's) RDS endpoint, as are
DescribeGlobalClusters and the lag metric: the unplanned path makes no call in the
primary region. Failback is a switchover back to the primary-region cluster, which
Aurora re-attaches as a secondary once that region recovers (AWS Database Blog,
"Introducing Aurora Global Database Failover", 2023-08).
"""

from __future__ import annotations

import math
from typing import Any

from botocore.waiter import WaiterModel, create_waiter_with_client

from drctl.failover.lag import LagReading, metric_reading, reader_reading
from drctl.failover.rds import LagReader

FAILOVER, SWITCHOVER = "failover", "switchover"
ACTIONS = (FAILOVER, SWITCHOVER)
# FailoverState.Status while an operation runs; "cancelling" means AWS rolled it back.
_IN_FLIGHT = ("pending", "failing-over")
LAG_METRIC = "AuroraGlobalDBReplicationLag"
# Aurora MySQL 3.09+: "monitor the lag between primary and secondary clusters using the
# AuroraGlobalDBProgressLag CloudWatch metric" (Aurora User Guide, global database
# read availability; metric table:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html).
# Both are read; the larger is the one that bounds the loss.
PROGRESS_LAG_METRIC = "AuroraGlobalDBProgressLag"
LAG_METRICS = (LAG_METRIC, PROGRESS_LAG_METRIC)
# Which dimension set carries these metrics is not settled by the documentation: the
# Aurora dimension table lists DBClusterIdentifier and SourceRegion without saying
# which set a global database metric uses
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/dimensions.html), the
# Aurora labs find AuroraGlobalDBReplicationLag under a SourceRegion set whose value is
# the primary's region (https://awsauroralabsmy.com/global/cw/), and the same RDS metrics
# for Neptune global databases name "DBClusterIdentifier, SourceRegion"
# (https://docs.aws.amazon.com/neptune/latest/userguide/cw-dimensions.html). CloudWatch
# matches a dimension set exactly, so drctl reads the pair first and DBClusterIdentifier
# alone second, and reports the lag as missing (never 0) when neither has data.
LAG_DIMENSIONS_DOUBT = "DBClusterIdentifier+SourceRegion or DBClusterIdentifier alone"


def promoted_waiter_model(target_arn: str) -> WaiterModel:
    """Waits on DescribeGlobalClusters until ``target_arn`` is the writer member and no
    operation is in flight. (The stock waiters know nothing of global clusters.) The
    global cluster's own Status is not required to be 'available': after a failover with
    the old primary's region dark it may stay otherwise until that region recovers."""
    settled = "!(FailoverState.Status=='pending' || FailoverState.Status=='failing-over')"
    writer = (
        f"length(GlobalClusters[?{settled}].GlobalClusterMembers[] | "
        f"[?DBClusterArn=='{target_arn}' && IsWriter]) == `1`"
    )
    return WaiterModel(
        {
            "version": 2,
            "waiters": {
                "GlobalClusterWriterIs": {
                    "operation": "DescribeGlobalClusters",
                    "delay": 15,
                    "maxAttempts": 80,
                    "acceptors": [
                        {
                            "matcher": "path",
                            "argument": writer,
                            "expected": True,
                            "state": "success",
                        },
                        {
                            "matcher": "pathAny",
                            "argument": "GlobalClusters[].FailoverState.Status",
                            "expected": "cancelling",
                            "state": "failure",
                        },
                    ],
                }
            },
        }
    )


def lag_dimension_sets(cluster_id: str, source_region: str | None) -> list[dict[str, str]]:
    """The dimension sets the global database's lag may be published under, the
    documented pair first (see ``LAG_DIMENSIONS_DOUBT``)."""
    sets = [{"DBClusterIdentifier": cluster_id}]
    if source_region:
        sets.insert(0, {"DBClusterIdentifier": cluster_id, "SourceRegion": source_region})
    return sets


class AuroraLagReader:
    """The secondary cluster's lag behind the primary (milliseconds, published in the
    secondary's region), returned in seconds.

    Read under every dimension set in ``lag_dimension_sets`` and for both
    ``LAG_METRICS``; of those that have datapoints the worst one (the largest loss
    bound, an unknown one first) is the answer. With none, the lag is missing: never 0.
    """

    def __init__(
        self,
        cloudwatch: Any,
        cluster_id: str,
        window_minutes: int = 10,
        *,
        source_region: str | None = None,
    ) -> None:
        self._cloudwatch = cloudwatch
        self._cluster_id = cluster_id
        self._window = window_minutes
        self._source_region = source_region

    def readings(self) -> list[tuple[str, dict[str, str], LagReading]]:
        found = []
        for metric in LAG_METRICS:
            for dimensions in lag_dimension_sets(self._cluster_id, self._source_region):
                reading = metric_reading(
                    self._cloudwatch,
                    metric,
                    dimensions,
                    window_minutes=self._window,
                    scale=0.001,  # milliseconds
                )
                if reading.reported is not None:
                    found.append((metric, dimensions, reading))
        return found

    def reading(self) -> LagReading:
        readings = [reading for _, _, reading in self.readings()]
        if not readings:
            return LagReading()
        return max(readings, key=_worst_first)

    def __call__(self) -> float | None:
        return self.reading().seconds


def _worst_first(reading: LagReading) -> float:
    bound = reading.loss_bound_seconds()
    return math.inf if bound is None else bound


class SwitchoverBlockedError(RuntimeError):
    """The global database is not in a state AWS switches over from; nothing was changed."""


def switchover_blockers(described: dict[str, Any], target_arn: str) -> list[str]:
    """Why SwitchoverGlobalCluster would be refused now, read from DescribeGlobalClusters:
    it needs an available global cluster, no operation in flight, and every secondary
    connected (Aurora syncs them all before the roles change)."""
    blockers = []
    if described.get("Status") != "available":
        blockers.append(f"global cluster status is {described.get('Status')!r}, not 'available'")
    in_flight = (described.get("FailoverState") or {}).get("Status")
    if in_flight:
        blockers.append(f"a failover/switchover is already {in_flight}")
    members = described.get("GlobalClusterMembers", [])
    if not any(m.get("DBClusterArn") == target_arn for m in members):
        blockers.append(f"{cluster_id_of(target_arn)} is not a member")
    for member in members:
        status = member.get("SynchronizationStatus")
        if status not in (None, "connected"):
            name = cluster_id_of(str(member.get("DBClusterArn")))
            blockers.append(f"{name} synchronization is {status!r}, not 'connected'")
    return blockers


def cluster_id_of(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


class AuroraGlobalDatabase:
    """A member cluster of an Aurora global database that drctl makes the writer."""

    # Aurora's switchover fences and drains itself: planned mode needs no write fence.
    fences_itself = True

    def __init__(
        self,
        rds: Any,
        global_cluster_id: str,
        cluster_arn: str,
        lag_reader: LagReader,
        *,
        action: str = FAILOVER,
        reverse: AuroraGlobalDatabase | None = None,
        waiter_delay_seconds: int = 15,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"Aurora action {action!r}: expected one of {', '.join(ACTIONS)}")
        self._rds = rds
        self._global_id = global_cluster_id
        self._arn = cluster_arn
        self._lag_reader = lag_reader
        self.action = action
        self._reverse = reverse
        self._delay = waiter_delay_seconds

    @property
    def identifier(self) -> str:
        return cluster_id_of(self._arn)

    def describe_global(self) -> dict[str, Any]:
        found = self._rds.describe_global_clusters(GlobalClusterIdentifier=self._global_id)
        # Matched by name, not taken as [0]: moto 5.2.5 ignores the identifier filter.
        for cluster in found.get("GlobalClusters", []):
            if cluster.get("GlobalClusterIdentifier") == self._global_id:
                return dict(cluster)
        raise RuntimeError(f"global cluster {self._global_id} not found")

    def member(self, global_cluster: dict[str, Any] | None = None) -> dict[str, Any]:
        described = global_cluster or self.describe_global()
        for member in described.get("GlobalClusterMembers", []):
            if member.get("DBClusterArn") == self._arn:
                return dict(member)
        raise RuntimeError(
            f"cluster {self.identifier} is not a member of global cluster {self._global_id} "
            "(detached?): drctl only fails over inside the global database"
        )

    def replica_lag_seconds(self) -> float | None:
        return self.replica_lag_reading().seconds

    def replica_lag_reading(self) -> LagReading:
        return reader_reading(self._lag_reader)

    def check_switchover(self) -> None:
        """Planned mode's preflight: refuse before the lock when AWS would refuse."""
        blockers = switchover_blockers(self.describe_global(), self._arn)
        if blockers:
            raise SwitchoverBlockedError(
                f"refusing the switchover of {self._global_id} to {self.identifier}: "
                + "; ".join(blockers)
                + ". Nothing was changed; use --mode unplanned if the primary is down."
            )

    def is_promoted(self) -> bool:
        described = self.describe_global()
        in_flight = (described.get("FailoverState") or {}).get("Status") in _IN_FLIGHT
        return not in_flight and bool(self.member(described).get("IsWriter"))

    def promote(self) -> None:
        described = self.describe_global()
        if self.member(described).get("IsWriter"):
            return  # already the writer (a rerun after the call went through)
        if (described.get("FailoverState") or {}).get("Status") in _IN_FLIGHT:
            return  # an operation is under way; wait_promoted() takes it from here
        self._call(self.action)

    def _call(self, action: str) -> None:
        # A refusal (InvalidGlobalClusterStateFault, InvalidDBClusterStateFault, ...) is a
        # botocore ClientError: one line naming the operation, reported by the runner.
        if action == FAILOVER:
            self._rds.failover_global_cluster(
                GlobalClusterIdentifier=self._global_id,
                TargetDbClusterIdentifier=self._arn,
                AllowDataLoss=True,
            )
        else:
            self._rds.switchover_global_cluster(
                GlobalClusterIdentifier=self._global_id, TargetDbClusterIdentifier=self._arn
            )

    def wait_promoted(self, timeout_seconds: float) -> None:
        attempts = max(1, math.ceil(timeout_seconds / max(self._delay, 1)))
        waiter = create_waiter_with_client(
            "GlobalClusterWriterIs", promoted_waiter_model(self._arn), self._rds
        )
        config = {"Delay": self._delay, "MaxAttempts": attempts}
        waiter.wait(GlobalClusterIdentifier=self._global_id, WaiterConfig=config)
        # The writer flag moves with the role; serving writes needs the cluster itself
        # available too (read in its own region).
        self._rds.get_waiter("db_cluster_available").wait(
            DBClusterIdentifier=self.identifier, WaiterConfig=config
        )

    # --- failback: a switchover back to the primary-region cluster -------------
    def _require_reverse(self) -> AuroraGlobalDatabase:
        if self._reverse is None:
            raise RuntimeError(
                "Aurora failback needs the primary stack's aurora_cluster_arn and region"
            )
        return self._reverse

    def start_reverse_replication(self) -> None:
        """Nothing to create: after a failover Aurora re-attaches the old primary as a
        secondary once its region is back. Checks that it has, and is in sync."""
        reverse = self._require_reverse()
        member = reverse.member(self.describe_global())
        if member.get("IsWriter"):
            return  # failback already switched over
        status = member.get("SynchronizationStatus")
        if status not in (None, "connected"):
            raise RuntimeError(
                f"{reverse.identifier} is a secondary of {self._global_id} but its "
                f"synchronization status is {status!r}: wait until it is 'connected'"
            )

    def reverse_replica(self) -> AuroraGlobalDatabase:
        return self._require_reverse()
