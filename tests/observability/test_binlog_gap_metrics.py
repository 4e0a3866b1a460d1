"""The exporter's binlog gap metrics, from the archiver's status blob (real Azurite)."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from drctl.binlog.gaps import ArchiveGap
from drctl.binlog.status import ArchiverStatus, mark_gaps, read_status, write_status
from drctl.exporter import ExporterSources, make_registry

GAPS = "drstack_binlog_archive_gaps"
START = "drstack_binlog_archive_gap_start_timestamp_seconds"
END = "drstack_binlog_archive_gap_end_timestamp_seconds"


def _gap_samples(container) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = generate_latest(make_registry(ExporterSources(stack="p", container=container)))
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if sample.name in (GAPS, START, END):
                found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_each_gap_is_exported_with_its_start_and_end(container) -> None:
    assert _gap_samples(container)[GAPS][0][1] == 0  # no archiver yet: no gap
    status = ArchiverStatus(1.0, "b.000003", 10, "b.000003", 10, 0.0, 90)
    write_status(container, status)
    mark_gaps(container, [ArchiveGap("b.000001:200", 25, "b.000003:0", 90)])
    got = _gap_samples(container)
    assert got[GAPS][0][1] == 1
    [(labels, start)] = got[START]
    [(_, end)] = got[END]
    assert (labels["start"], labels["end"], start, end) == ("b.000001:200", "b.000003:0", 25, 90)
    marked = read_status(container)
    assert marked is not None and marked.checked_at == 1.0  # marking does not refresh the check

    mark_gaps(container, [ArchiveGap("b.000004:7", 95)])  # open: no dump after it yet
    [(labels, end)] = _gap_samples(container)[END]
    assert (labels["end"], end) == ("open", 0)
    mark_gaps(container, [])
    got = _gap_samples(container)
    assert got[GAPS][0][1] == 0 and START not in got
