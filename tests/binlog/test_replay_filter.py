"""The replay's GTID filter: same lines out as the line-by-line rule, a block at a time."""

from __future__ import annotations

import io
import random

from drctl.binlog.replay import GTID_LINES, _filter


class _Pipe(io.RawIOBase):
    """A decoder's stdout: each read returns whatever arrived, in uneven pieces."""

    def __init__(self, data: bytes, seed: int) -> None:
        self.data, self.at, self.rng = data, 0, random.Random(seed)

    def read1(self, size: int = -1) -> bytes:
        piece = self.data[self.at : self.at + min(size, self.rng.choice([1, 7, 80, 5000, 1 << 20]))]
        self.at += len(piece)
        return piece


class _Sink(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        return super().write(data)


DECODED = (
    b"".join(
        b"/*M!100001 SET @@session.server_id=1*//*!*/;\n"
        b"/*M!100001 SET @@session.gtid_seq_no=%d*//*!*/;\n"
        b"BEGIN\n/*!*/;\nBINLOG '\nAbCdEf0123456789+/==\n'/*!*/;\nCOMMIT/*!*/;\n" % i
        for i in range(2000)
    )
    + b"# no newline at the end"
)


def _line_by_line(data: bytes) -> bytes:
    return b"".join(line for line in io.BytesIO(data) if not GTID_LINES.match(line))


def test_every_chunking_drops_exactly_the_gtid_lines() -> None:
    for seed in range(10):
        sink = _Sink()
        _filter(_Pipe(DECODED, seed), sink)  # type: ignore[arg-type]
        assert sink.getvalue() == _line_by_line(DECODED)
        assert b"gtid_seq_no" not in sink.getvalue()


def test_a_pipe_read_is_filtered_and_written_in_one_piece() -> None:
    # Throughput: row events decode to millions of short lines per GB; handling them
    # one by one in Python made the replay slower than mariadb-binlog | mariadb.
    sink = _Sink()
    _filter(io.BufferedReader(io.BytesIO(DECODED), buffer_size=1 << 20), sink)
    assert sink.getvalue() == _line_by_line(DECODED)
    assert sink.writes <= 2  # the complete lines, then the unfinished last one


def test_the_next_segment_downloads_while_one_is_decoded() -> None:
    import threading
    import time

    from drctl.binlog.replay import _prefetched
    from drctl.binlog.segments import Segment

    segments = [Segment("b.000001", i * 10, i * 10 + 10) for i in range(5)]
    started: list[int] = []
    second_started = threading.Event()

    def download(segment: Segment) -> bytes:
        started.append(segment.start)
        if len(started) == 2:
            second_started.set()
        return b"%d" % segment.start

    stream = _prefetched(segments, download)
    first = next(stream)
    # The first segment is being decoded; the second is already on its way.
    assert second_started.wait(timeout=2.0)
    assert first == (segments[0], b"0")
    assert [s.start for s, _ in stream] == [10, 20, 30, 40]
    time.sleep(0.05)
    assert started == [0, 10, 20, 30, 40]


def test_a_failed_download_is_raised_where_the_segments_are_decoded() -> None:
    import pytest

    from drctl.binlog.replay import _prefetched
    from drctl.binlog.segments import Segment

    def download(segment: Segment) -> bytes:
        raise OSError(f"blob {segment.name} unreachable")

    with pytest.raises(OSError, match="unreachable"):
        list(_prefetched([Segment("b.000001", 0, 10)], download))
