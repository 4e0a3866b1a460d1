"""The metrics Prometheus cannot scrape anywhere else, read fresh on every scrape.

- backups: the newest committed backup in the Blob container (time, size, whether its
  metadata carries a checksum), from ``drctl.pilotlight.catalog`` — the same listing
  ``drctl restore`` trusts, so an uncommitted upload never counts as a backup;
- replica lag as drctl measures it (the LagReader the failover's lag guard uses);
- failover/failback run state from the run-state directory (``drctl.failover.state``).

A source that fails, or does not answer within the scrape's budget, is reported as down
(``drstack_exporter_source_up{source=...} 0`` with the age of its last success;
``drstack_backup_up 0``, lag unknown), never as a stale value: a monitoring gap must
look like a problem, not like health.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from drctl.exporter_source import Source
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


def _container_labels(stack: str, container: Any) -> dict[str, str]:
    return {"stack": stack, "container": str(getattr(container, "container_name", ""))}


def backup_down(stack: str, container: Any) -> Iterator[Metric]:
    """Storage unreachable, refusing or too slow: say so, do not go silent."""
    labels = _container_labels(stack, container)
    yield _gauge(m.BACKUP_UP, "1 if the backup container could be listed", 0, labels)


def backup_metrics(stack: str, container: Any) -> Iterator[Metric]:
    """A listing that raises is a source down (the collector says so)."""
    labels = _container_labels(stack, container)
    backups = list_backups(container)
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
    """A reader that raises is a source down (the collector says so), not a lag."""
    labels = {"stack": stack}
    # ReplicaLag -1 (replication not running) is as unknown as no datapoint at all.
    lag = known_lag(lag_reader())
    yield _gauge(
        m.REPLICA_LAG_KNOWN, "1 if drctl could measure the replica lag", lag is not None, labels
    )
    if lag is not None:
        yield _gauge(m.REPLICA_LAG, "Replica lag as drctl's lag guard measures it", lag, labels)


def lag_unknown(stack: str) -> Iterator[Metric]:
    yield _gauge(
        m.REPLICA_LAG_KNOWN, "1 if drctl could measure the replica lag", 0, {"stack": stack}
    )


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


def _sources(s: ExporterSources) -> list[Source]:
    sources = []
    if s.container is not None:
        from drctl.binlog.exporter_metrics import binlog_metrics

        container = s.container
        sources.append(
            Source(
                "backup",
                lambda: backup_metrics(s.stack, container),
                lambda: backup_down(s.stack, container),
            )
        )
        sources.append(Source("binlog", lambda: binlog_metrics(s.stack, container)))
    if s.lag_reader is not None:
        reader = s.lag_reader
        sources.append(
            Source(
                "replica_lag", lambda: lag_metrics(s.stack, reader), lambda: lag_unknown(s.stack)
            )
        )
    if s.state_dir is not None:
        state_dir = s.state_dir
        sources.append(Source("failover_runs", lambda: failover_metrics(s.stack, state_dir)))
    return sources


class DrstackCollector(Collector):
    """Reads every source afresh on each scrape, all at once, and answers within
    ``budget_seconds`` (below the job's scrape_timeout): a source that has not
    answered by then is ``drstack_exporter_source_up 0`` with the age of its last
    success, and none of its values, so a hanging storage never shows as healthy."""

    def __init__(self, sources: ExporterSources, budget_seconds: float) -> None:
        self.stack = sources.stack
        self.sources = _sources(sources)
        self.budget_seconds = budget_seconds

    def collect(self) -> Iterator[Metric]:
        scrape = time.monotonic()
        for source in self.sources:
            source.start(scrape)
        up = GaugeMetricFamily(
            m.EXPORTER_SOURCE_UP,
            "1 if the source answered within this scrape's budget",
            labels=["stack", "source"],
        )
        age = GaugeMetricFamily(
            m.EXPORTER_SOURCE_AGE,
            "Seconds since the source last answered in time (absent: never)",
            labels=["stack", "source"],
        )
        for source in self.sources:
            answered = source.result(scrape, scrape + self.budget_seconds)
            up.add_metric([self.stack, source.name], answered is not None)
            if source.last_success is not None:
                age.add_metric(
                    [self.stack, source.name], max(0.0, time.time() - source.last_success)
                )
            yield from answered if answered is not None else source.down()
        yield from (up, age)


def budget_for(scrape_timeout_seconds: float) -> float:
    """The scrape's budget for the sources: below the job's scrape_timeout, leaving
    time to render and send the answer."""
    return scrape_timeout_seconds * 0.7


DEFAULT_BUDGET_SECONDS = budget_for(m.DRCTL_SCRAPE_TIMEOUT_SECONDS)


def make_registry(
    sources: ExporterSources, budget_seconds: float = DEFAULT_BUDGET_SECONDS
) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DrstackCollector(sources, budget_seconds))
    return registry
