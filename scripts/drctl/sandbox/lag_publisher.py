"""What RDS does for a read replica and moto does not: publish its ReplicaLag.

RDS publishes the replica's ``Seconds_Behind_Master`` as ``AWS/RDS ReplicaLag``, and -1
when it is NULL: "The ReplicaLag metric reports the value of the Seconds_Behind_Master
field of the SHOW REPLICA STATUS command ... If the ReplicaLag metric returns -1, then
replication is currently not active. ReplicaLag = -1 is equivalent to
Seconds_Behind_Master = NULL" (RDS User Guide, Monitoring MariaDB read replicas:
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MariaDB.Replication.ReadReplicas.Monitor.html).
moto never reports -1: it holds only what somebody puts there. So this publisher stands
in for the RDS control plane (the one place root is used: RDS reads the replica status
with its own rights), and the drill's failover reads the lag through production's
``CloudWatchLagReader`` from moto: the decision is production's.

The sandbox runs faster than the cloud: datapoints every ``interval`` seconds at
1-second resolution (CloudWatch high-resolution metrics), read with 1-second periods,
where RDS publishes every minute and drctl reads 1-minute periods.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from drctl.failover.rds import CloudWatchLagReader
from drctl.sandbox.mariadb import MariaDBServer

NOT_REPLICATING = -1.0  # RDS's value for Seconds_Behind_Master = NULL
SANDBOX_PERIOD_SECONDS = 1


def seconds_behind_master(server: MariaDBServer) -> float | None:
    """The replica's Seconds_Behind_Master as RDS publishes it (-1 for NULL); None when
    the server is no replica at all (RDS publishes no ReplicaLag then)."""
    import pymysql.cursors

    conn = server.admin_dsn().connect(timeout=2)
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
    finally:
        conn.close()
    if not row:
        return None
    behind = row.get("Seconds_Behind_Master")
    return NOT_REPLICATING if behind is None else float(behind)


class ReplicaLagPublisher:
    """Publishes a replica's ReplicaLag into (moto's) CloudWatch until stopped."""

    def __init__(
        self, server: MariaDBServer, cloudwatch: Any, instance_id: str, interval: float = 0.2
    ) -> None:
        self.server = server
        self._cloudwatch = cloudwatch
        self.instance_id = instance_id
        self._interval = interval
        self._stop = threading.Event()
        self.published: list[float] = []
        self._thread = threading.Thread(target=self._loop, daemon=True, name="replica-lag")

    def publish_once(self) -> float | None:
        try:
            value = seconds_behind_master(self.server)
        except Exception:  # the replica's host is down: RDS publishes nothing then
            return None
        if value is None:
            return None
        self._cloudwatch.put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "ReplicaLag",
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": self.instance_id}],
                    "Timestamp": datetime.now(UTC),
                    "Value": value,
                    "Unit": "Seconds",
                    "StorageResolution": 1,
                }
            ],
        )
        self.published.append(value)
        return value

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.publish_once()
            self._stop.wait(self._interval)

    def start(self) -> ReplicaLagPublisher:
        self.publish_once()  # a first datapoint before anything reads it
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def reader(self) -> CloudWatchLagReader:
        """Production's reader over what this publisher put into CloudWatch."""
        return CloudWatchLagReader(
            self._cloudwatch, self.instance_id, period_seconds=SANDBOX_PERIOD_SECONDS
        )


def start_lag_publisher(env: Any, ws: Any) -> ReplicaLagPublisher:
    """The Tokyo replica's ReplicaLag, published into the sandbox's moto (Tokyo)."""
    from drctl.sandbox.environment import REGIONS

    assert env.aws is not None
    cloudwatch = env.aws.client("cloudwatch", REGIONS["tokyo"])
    return ReplicaLagPublisher(ws.tokyo_db, cloudwatch, "tokyo-db").start()


def lag_note(run_data: dict[str, Any], publisher: ReplicaLagPublisher) -> str:
    """The drill's note: what RDS would have published, and the bound the guard took."""
    stopped = NOT_REPLICATING in publisher.published
    bound = run_data.get("data_loss_bound_seconds")
    shown = "none (no earlier datapoint)" if bound is None else f"{bound:.2f}s"
    return (
        f"ReplicaLag published as RDS does ({len(publisher.published)} datapoints"
        f"{', -1 once replication stopped' if stopped else ''}); data-loss bound {shown}"
    )
