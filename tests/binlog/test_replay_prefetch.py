"""The replay's segment stream: the next segment downloads while one is written."""

from __future__ import annotations


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
