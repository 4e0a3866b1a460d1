"""Replica lag as every drctl reader sees it: a number of seconds, or unknown.

RDS reports ``ReplicaLag = -1`` when replication is not running: "If the ReplicaLag
metric returns -1, then replication is currently not active. ReplicaLag = -1 is
equivalent to Seconds_Behind_Master = NULL" (RDS User Guide, Monitoring MariaDB/MySQL
read replicas:
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MariaDB.Replication.ReadReplicas.Monitor.html,
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MySQL.Replication.ReadReplicas.Monitor.html).
In a real outage of the source, that is exactly what the replica reports. So a negative
value is never "caught up": it is unknown, like no datapoint at all, everywhere (the lag
guard, failback's catch-up wait, ``drctl status``, the exporter, the Lambda).

What can still be said then is a bound: at the last non-negative datapoint (time
``t_last``, lag ``lag_last``) the replica had everything the source committed up to
``t_last - lag_last``. Whatever the source committed after that may be lost, so the loss
is at most ``now - t_last + lag_last``. The datapoint's timestamp is the start of its
1-minute period and its value the period's Maximum, both of which only widen the bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from drctl.timeline import to_iso, utcnow


def known_lag(value: float | None) -> float | None:
    """The lag in seconds, or None when it is not known (no data, NaN, or negative)."""
    if value is None or math.isnan(value) or value < 0:
        return None
    return float(value)


@dataclass(frozen=True)
class LagReading:
    """The newest lag datapoint and the newest one that was a real lag."""

    reported: float | None = None  # the newest value as published (e.g. -1), in seconds
    reported_at: datetime | None = None
    last_good: float | None = None  # the newest non-negative value, in seconds
    last_good_at: datetime | None = None

    @property
    def seconds(self) -> float | None:
        """The current lag; None while replication is not running or nothing reports."""
        return known_lag(self.reported)

    def loss_bound_seconds(self, now: datetime | None = None) -> float | None:
        """How much the source may have committed that the replica does not have."""
        if self.seconds is not None:
            return self.seconds
        if self.last_good is None or self.last_good_at is None:
            return None
        elapsed = max(((now or utcnow()) - self.last_good_at).total_seconds(), 0.0)
        return elapsed + self.last_good

    def describe(self) -> str:
        """Why the lag is unknown, and the bound when there is one."""
        if self.seconds is not None:
            return f"lag {self.seconds:.1f}s"
        if self.reported is None:
            why = "no lag datapoints"
        else:
            why = f"the replica reports {self.reported:g} (replication is not running)"
        bound = self.loss_bound_seconds()
        if bound is None or self.last_good_at is None or self.last_good is None:
            return f"{why}; no earlier datapoint bounds the loss"
        return (
            f"{why}; last known lag {self.last_good:.1f}s at {to_iso(self.last_good_at)}, so "
            f"at most {bound:.1f}s of writes (now - {to_iso(self.last_good_at)} + "
            f"{self.last_good:.1f}s) can be missing"
        )


def reading_from(points: Iterable[tuple[datetime, float]]) -> LagReading:
    """A reading from (timestamp, seconds) datapoints in any order."""
    ordered = sorted(points, key=lambda point: point[0])
    if not ordered:
        return LagReading()
    newest_at, newest = ordered[-1]
    good = [(at, value) for at, value in ordered if known_lag(value) is not None]
    last_at, last = good[-1] if good else (None, None)
    return LagReading(newest, newest_at, last, last_at)


class LagSource(Protocol):
    def replica_lag_seconds(self) -> float | None: ...


def _single(value: float | None) -> LagReading:
    return LagReading(reported=value, last_good=known_lag(value))


def lag_reading(database: LagSource | Any) -> LagReading:
    """The database's full reading where its adapter has one (the CloudWatch readers),
    else its single value, with a negative one still treated as unknown."""
    read = getattr(database, "replica_lag_reading", None)
    reading = read() if callable(read) else None
    if isinstance(reading, LagReading):
        return reading
    return _single(database.replica_lag_seconds())


def reader_reading(reader: Callable[[], float | None] | Any) -> LagReading:
    """The same for a lag reader (a callable): its ``reading()`` where it has one."""
    read = getattr(reader, "reading", None)
    reading = read() if callable(read) else None
    if isinstance(reading, LagReading):
        return reading
    return _single(reader())


def metric_reading(
    cloudwatch: Any,
    metric: str,
    dimensions: dict[str, str],
    *,
    window_minutes: int = 10,
    scale: float = 1.0,
    period_seconds: int = 60,
) -> LagReading:
    """``AWS/RDS <metric>`` per minute over a recent window, in seconds.

    ``dimensions`` must be the exact set the metric is published under: "CloudWatch
    treats each unique combination of dimensions as a separate metric ... You must
    specify the same dimensions that were used when the metrics were created"
    (GetMetricStatistics API reference,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html).
    """
    from datetime import timedelta

    # End one period in the future so the current, still-open period is included.
    end = utcnow() + timedelta(seconds=period_seconds)
    response = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName=metric,
        Dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()],
        StartTime=end - timedelta(minutes=window_minutes),
        EndTime=end,
        Period=period_seconds,
        Statistics=["Maximum", "Minimum"],
    )
    return reading_from(
        (point["Timestamp"], _period_value(point) * scale)
        for point in response.get("Datapoints", [])
    )


def _period_value(point: dict[str, Any]) -> float:
    """The period's Maximum (the worst lag), unless replication was reported stopped
    (-1) within it: a Maximum would hide that -1 behind an earlier lag of the minute."""
    low = point.get("Minimum")
    if low is not None and float(low) < 0:
        return float(low)
    return float(point["Maximum"])
