"""The metrics Prometheus cannot scrape anywhere else, read fresh on every scrape.

- backups: the newest committed backup in the Blob container (time, size, whether its
  metadata carries a checksum), from ``drctl.pilotlight.catalog`` — the same listing
  ``drctl restore`` trusts, so an uncommitted upload never counts as a backup;
- replica lag as drctl measures it (the LagReader the failover's lag guard uses);
- failover/failback run state from the run-state directory (``drctl.failover.state``).

A source that fails is reported as down (``drstack_backup_up 0``, lag unknown), never as
a stale value: a monitoring gap must look like a problem, not like health.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from drctl.failover.lag import known_lag
from drctl.pilotlight.catalog import list_backups
from drctl.timeline import from_iso
from observability import metrics as m


@dataclass
class ExporterSources:
    stack: str
    container: Any | None = None  # azure ContainerClient
    lag_reader: Callable[[], float | None] | None = None
    state_dir: Path | None = None
    errors: list[str] = field(default_factory=list)


def _gauge(name: str, doc: str, value: float, labels: dict[str, str]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


def backup_metrics(stack: str, container: Any) -> Iterator[Metric]:
    labels = {"stack": stack, "container": str(getattr(container, "container_name", ""))}
    try:
        backups = list_backups(container)
    except Exception:  # storage unreachable: say so, do not go silent
        yield _gauge(m.BACKUP_UP, "1 if the backup container could be listed", 0, labels)
        return
    yield _gauge(m.BACKUP_UP, "1 if the backup container could be listed", 1, labels)
    yield _gauge(m.BACKUP_COUNT, "Committed backups in the container", len(backups), labels)
    newest = backups[0] if backups else None
    # No backup at all reads as "last success at epoch 0": the age alert fires.
    taken = newest.restore_point.timestamp() if newest else 0.0
    yield _gauge(
        m.BACKUP_LAST_SUCCESS, "Restore point of the newest committed backup", taken, labels
    )
    if newest is not None:
        yield _gauge(m.BACKUP_LAST_SIZE, "Size of the newest backup blob", newest.size, labels)
        yield _gauge(
            m.BACKUP_LAST_UNCOMPRESSED,
            "Uncompressed size of the newest backup (blob metadata)",
            newest.metadata.uncompressed_bytes,
            labels,
        )
        yield _gauge(
            m.BACKUP_LAST_VERIFIABLE,
            "1 if the newest backup's metadata carries its sha256",
            1 if newest.metadata.sha256 else 0,
            labels,
        )


def lag_metrics(stack: str, lag_reader: Callable[[], float | None]) -> Iterator[Metric]:
    labels = {"stack": stack}
    try:
        lag = lag_reader()
    except Exception:
        lag = None
    # ReplicaLag -1 (replication not running) is as unknown as no datapoint at all.
    lag = known_lag(lag)
    yield _gauge(
        m.REPLICA_LAG_KNOWN, "1 if drctl could measure the replica lag", lag is not None, labels
    )
    if lag is not None:
        yield _gauge(m.REPLICA_LAG, "Replica lag as drctl's lag guard measures it", lag, labels)


def _finished_at(raw: dict[str, Any]) -> float | None:
    stamps = [s.get("updated_at") for s in raw.get("steps", {}).values() if s.get("updated_at")]
    return max(from_iso(stamp).timestamp() for stamp in stamps) if stamps else None


def failover_metrics(stack: str, state_dir: Path) -> Iterator[Metric]:
    active = GaugeMetricFamily(m.FAILOVER_ACTIVE, "1 while a run is unfinished", labels=["kind"])
    last = GaugeMetricFamily(
        m.FAILOVER_LAST_FINISHED, "When the newest finished run ended", labels=["kind"]
    )
    runs = GaugeMetricFamily(
        m.FAILOVER_RUNS, "Run files by kind and outcome", labels=["kind", "status"]
    )
    counts: dict[tuple[str, str], int] = {}
    active_kinds: dict[str, int] = {"failover": 0, "failback": 0}
    finished: dict[str, float] = {}
    for path in sorted(state_dir.glob("*.json")) if state_dir.is_dir() else []:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        kind = str(raw.get("kind", "failover"))
        done = bool(raw.get("finished"))
        status = "finished" if done else "unfinished"
        counts[(kind, status)] = counts.get((kind, status), 0) + 1
        if not done and raw.get("steps"):
            active_kinds[kind] = 1
        ended = _finished_at(raw) if done else None
        if ended is not None:
            finished[kind] = max(finished.get(kind, 0.0), ended)
    for kind, flag in active_kinds.items():
        active.add_metric([kind], flag)
    for kind, ended_at in finished.items():
        last.add_metric([kind], ended_at)
    for (kind, status), count in sorted(counts.items()):
        runs.add_metric([kind, status], count)
    yield from (active, last, runs)


class DrstackCollector(Collector):
    """One collection at a time: a scrape that arrives while storage is slow gets the
    previous result instead of piling another listing onto the storage account."""

    def __init__(self, sources: ExporterSources) -> None:
        self.sources = sources
        self._lock = threading.Lock()
        self._last: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        if not self._lock.acquire(blocking=False):
            yield from self._last
            return
        try:
            self._last = list(self._collect())
        finally:
            self._lock.release()
        yield from self._last

    def _collect(self) -> Iterator[Metric]:
        s = self.sources
        if s.container is not None:
            yield from backup_metrics(s.stack, s.container)
            from drctl.binlog.exporter_metrics import binlog_metrics

            yield from binlog_metrics(s.stack, s.container)
        if s.lag_reader is not None:
            yield from lag_metrics(s.stack, s.lag_reader)
        if s.state_dir is not None:
            yield from failover_metrics(s.stack, s.state_dir)


def make_registry(sources: ExporterSources) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DrstackCollector(sources))
    return registry
