"""The binlog archiver's metrics for ``drctl exporter``, from its status blob.

No status blob (the archiver never ran) or an unreadable one reads as "last checked at
epoch 0": the archiver-behind alert, generated only for stacks with
``backup.binlog_archive`` on, then fires instead of staying silent.

Each gap a kept dump still needs (drctl.binlog.gaps) is one sample per gap metric,
labelled with its start and end binlog positions; its values are the times of the last
archived event before it and the first after it (0 while the gap is open).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from drctl.binlog.gaps import ArchiveGap
from drctl.binlog.status import ArchiverStatus, read_status
from observability import metrics as m


def binlog_metrics(stack: str, container: Any) -> Iterator[Metric]:
    labels = {"stack": stack, "container": str(getattr(container, "container_name", ""))}
    try:
        status = read_status(container)
    except Exception:  # storage unreachable: drstack_backup_up already says so
        status = None
    values = {
        m.BINLOG_CHECKED: (
            "When the archiver last compared the archive with the source (epoch s)",
            status.checked_at if status else 0.0,
        ),
        m.BINLOG_LAG: (
            "How long the source has had binlog the archive lacks (s)",
            status.lag_seconds if status else 0.0,
        ),
        m.BINLOG_LAST_EVENT: (
            "Time of the newest archived binlog event (epoch s)",
            float(status.last_event_time) if status else 0.0,
        ),
    }
    for name, (doc, value) in values.items():
        family = GaugeMetricFamily(name, doc, labels=list(labels))
        family.add_metric(list(labels.values()), value)
        yield family
    yield from _gap_metrics(labels, status)


def _gap_metrics(labels: dict[str, str], status: ArchiverStatus | None) -> Iterator[Metric]:
    gaps = [ArchiveGap.from_dict(raw) for raw in (status.gaps if status else [])]
    count = GaugeMetricFamily(
        m.BINLOG_GAPS, "Gaps in the binlog archive a kept dump needs", labels=list(labels)
    )
    count.add_metric(list(labels.values()), float(len(gaps)))
    yield count
    names = [*labels, "start", "end"]
    start = GaugeMetricFamily(
        m.BINLOG_GAP_START, "Last archived event before the gap (epoch s)", labels=names
    )
    end = GaugeMetricFamily(
        m.BINLOG_GAP_END, "First archived event after the gap (epoch s; 0: open)", labels=names
    )
    for gap in gaps:
        values = [*labels.values(), gap.start, gap.end or "open"]
        start.add_metric(values, float(gap.start_time))
        end.add_metric(values, float(gap.end_time))
    yield start
    yield end
