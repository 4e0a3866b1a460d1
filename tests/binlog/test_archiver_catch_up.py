"""A backlog of binlog is archived at upload speed, not one segment per poll.

Segments are small (4 MiB) to keep the archiver's memory flat; committing only one
per 0.2 s poll would then cap the archive at 20 MB/s, behind any bulk load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drctl.binlog.archiver import COMMITS_PER_STEP, ArchiverOptions, BinlogArchiver
from drctl.binlog.events import MAGIC
from drctl.mysql_dsn import MySQLDsn
from tests.binlog.test_chain_and_retention import event


class _RecordingContainer:
    """Keeps what was uploaded, by blob name (the segments' bytes are checked below)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self._name = ""

    def get_blob_client(self, name: str) -> _RecordingContainer:
        self._name = name
        return self

    def upload_blob(self, data: bytes, **_: Any) -> None:
        self.blobs[self._name] = bytes(data)


def test_one_step_commits_several_due_segments_back_to_back(tmp_path: Path) -> None:
    events = [event(100 + i, body=b"r" * 900) for i in range(40)]
    (tmp_path / "b.000001").write_bytes(MAGIC + b"".join(events))
    container = _RecordingContainer()
    archiver = BinlogArchiver(
        MySQLDsn(host="127.0.0.1"),
        container,
        tmp_path,
        ArchiverOptions(max_segment_bytes=2000, flush_seconds=60),
        clock=lambda: 0.0,
    )
    archiver.file = "b.000001"
    archiver._watch_lag = lambda: None  # type: ignore[method-assign]  # no source server here
    archiver.step()
    assert archiver.segments_committed == COMMITS_PER_STEP > 1
    # Contiguous, whole events, in order: what a restore will verify and replay.
    data = (tmp_path / "b.000001").read_bytes()
    assert b"".join(container.blobs[n] for n in sorted(container.blobs)) == data[: archiver.offset]
