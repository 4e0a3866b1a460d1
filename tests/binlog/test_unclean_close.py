"""A binlog file the source closed without a rotate or stop event (crash, Multi-AZ failover).

After an unclean restart the source opens file N+1, and file N ends on its last
transaction: no ROTATE, no STOP. ``mysqlbinlog --raw`` drops the artificial rotate the
server sends when it moves the dump to N+1, so no event in the spool says "N is over".
The archiver closes N when the source lists a later file and the spool holds all of N
(``SHOW BINARY LOGS`` gives its final size), and goes on at N+1:0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drctl.binlog.archiver import ArchiverOptions, BinlogArchiver
from drctl.binlog.chain import build_chain
from drctl.binlog.events import MAGIC
from drctl.binlog.segments import list_segments
from tests.binlog.test_chain_and_retention import event

N, N1 = "b.000001", "b.000002"


@dataclass
class _Blob:
    name: str
    metadata: dict[str, str]
    data: bytes = b""


class _BlobClient:
    def __init__(self, store: dict[str, _Blob], name: str) -> None:
        self._store, self._name = store, name

    def upload_blob(self, data: bytes, *, metadata: dict[str, str] | None = None, **_: Any) -> None:
        self._store[self._name] = _Blob(self._name, dict(metadata or {}), bytes(data))

    def set_blob_metadata(self, metadata: dict[str, str], **_: Any) -> None:
        self._store[self._name].metadata = dict(metadata)  # KeyError: no such blob


@dataclass
class _Container:
    """Blob storage as the archiver uses it: put, set metadata, list with metadata."""

    blobs: dict[str, _Blob] = field(default_factory=dict)

    def get_blob_client(self, name: str) -> _BlobClient:
        return _BlobClient(self.blobs, name)

    def list_blobs(self, name_starts_with: str = "", **_: Any) -> list[_Blob]:
        return [b for n, b in sorted(self.blobs.items()) if n.startswith(name_starts_with)]

    def delete_blob(self, name: str) -> None:
        del self.blobs[name]


class _Source:
    """The source's answers to what the archiver asks, over a fake connection."""

    def __init__(self, logs: list[tuple[str, int]]) -> None:
        self.logs = logs
        self._rows: list[tuple[Any, ...]] = []

    def connect(self, **_: Any) -> _Source:
        return self

    def cursor(self) -> _Source:
        return self

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def close(self) -> None:
        return None

    def execute(self, statement: str) -> None:
        if statement in ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"):
            self._rows = [self.logs[-1]]
        elif statement == "SHOW BINARY LOGS":
            self._rows = list(self.logs)
        elif statement == "SELECT VERSION()":
            self._rows = [("10.11.19-MariaDB-log",)]
        else:
            raise AssertionError(f"unexpected statement {statement!r}")

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _spool(tmp_path: Path, n_events: int, n1_events: int) -> tuple[int, int]:
    """File N ends on a plain event (no rotate); N+1 starts with its own header."""
    n = MAGIC + b"".join(event(100 + i) for i in range(n_events))
    n1 = MAGIC + b"".join(event(200 + i) for i in range(n1_events))
    (tmp_path / N).write_bytes(n)
    (tmp_path / N1).write_bytes(n1)
    return len(n), len(n1)


def _archiver(tmp_path: Path, source: _Source, container: _Container) -> BinlogArchiver:
    clock = _Clock()
    archiver = BinlogArchiver(
        source,  # type: ignore[arg-type]
        container,
        tmp_path,
        ArchiverOptions(flush_seconds=1.0, status_seconds=1e9, prune_seconds=1e9),
        clock=clock,
    )
    archiver.resume()
    return archiver


def _run(archiver: BinlogArchiver, seconds: float) -> None:
    clock = archiver.clock
    assert isinstance(clock, _Clock)
    for _ in range(int(seconds / 0.25)):
        clock.now += 0.25
        archiver.step()


def test_a_file_ended_by_a_crash_is_closed_and_archiving_goes_on(tmp_path: Path) -> None:
    size_n, size_n1 = _spool(tmp_path, 5, 3)
    container = _Container()
    archiver = _archiver(tmp_path, _Source([(N, size_n), (N1, size_n1)]), container)
    _run(archiver, 10)

    segments = list_segments(container)
    in_n = [s for s in segments if s.binlog_file == N]
    assert in_n[-1].end == size_n and in_n[-1].ends_file  # all of N, closed
    assert next((s.binlog_file, s.start) for s in segments if s.binlog_file == N1) == (N1, 0)
    assert (segments[-1].binlog_file, segments[-1].end) == (N1, size_n1)
    chain = build_chain(segments, N, 4, None)
    assert chain.problem == "" and chain.segments == segments
    assert archiver.lag_seconds() == 0.0


def test_after_a_restart_the_last_committed_segment_is_marked_as_the_files_end(
    tmp_path: Path,
) -> None:
    size_n, size_n1 = _spool(tmp_path, 5, 2)
    container = _Container()
    # The archiver before the crash committed all of N, then lost its client with the source.
    first = _archiver(tmp_path, _Source([(N, size_n)]), container)
    _run(first, 3)
    before = list_segments(container)
    assert before[-1].end == size_n and not before[-1].ends_file

    # The restarted archiver resumes at N:size_n; no event of N is left to commit.
    second = _archiver(tmp_path, _Source([(N, size_n), (N1, size_n1)]), container)
    _run(second, 10)
    after = list_segments(container)
    assert [s.name for s in after if s.binlog_file == N] == [s.name for s in before]
    assert next(s for s in after if s.name == before[-1].name).ends_file
    assert (after[-1].binlog_file, after[-1].end) == (N1, size_n1)
    assert build_chain(after, N, 4, None).problem == ""


def test_the_active_file_and_a_file_still_being_copied_stay_open(tmp_path: Path) -> None:
    size_n, _size_n1 = _spool(tmp_path, 5, 2)
    container = _Container()
    # N is the source's current file: more may come, nothing is closed.
    archiver = _archiver(tmp_path, _Source([(N, size_n)]), container)
    _run(archiver, 5)
    assert not any(s.ends_file for s in list_segments(container))
    assert archiver.file == N

    # The source lists N+1, but N is longer there than in the spool: the client is
    # still copying N, and closing now would cut it short.
    archiver.source = _Source([(N, size_n + 40), (N1, 100)])  # type: ignore[assignment]
    _run(archiver, 5)
    assert not any(s.ends_file for s in list_segments(container))
    assert archiver.file == N
