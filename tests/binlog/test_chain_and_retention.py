"""Segment chains, event boundaries and retention, on synthetic binlog bytes."""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime

import pytest

from drctl.binlog.chain import build_chain, check_segment
from drctl.binlog.events import MAGIC, BinlogFormatError, complete_events
from drctl.binlog.retention import expired_segments
from drctl.binlog.segments import Segment, next_binlog_file, resume_point


def event(timestamp: int, type_code: int = 2, body: bytes = b"x" * 10) -> bytes:
    size = 19 + len(body)
    return struct.pack("<IBIIIH", timestamp, type_code, 1, size, 0, 0) + body


def seg(file: str, start: int, end: int, *, t: int = 100, ends: bool = False) -> Segment:
    return Segment(file, start, end, t, t, "", ends)


def test_complete_events_leave_out_the_partial_tail() -> None:
    data = MAGIC + event(10) + event(11) + event(12)[:7]
    events = complete_events(data, 0)
    assert [(e.start, e.end, e.timestamp) for e in events] == [(4, 33, 10), (33, 62, 11)]
    with pytest.raises(BinlogFormatError, match="bad magic"):
        complete_events(b"nope" + event(1), 0)


def test_chain_follows_rotations_and_reports_the_first_gap() -> None:
    segments = [
        seg("b.000001", 0, 100),
        seg("b.000001", 100, 200, ends=True),
        seg("b.000002", 0, 50),
        seg("b.000002", 80, 90),  # 50..80 is missing
    ]
    chain = build_chain(segments, "b.000001", 120, None)
    assert [s.name for s in chain.segments] == [s.name for s in segments[:3]]
    assert chain.problem == "gap: no archived segment starts at b.000002:50"
    assert chain.last_point().startswith("b.000002:50")


def test_chain_stops_at_t_without_a_problem() -> None:
    segments = [seg("b.000001", 0, 100, t=100), seg("b.000001", 100, 200, t=200)]
    chain = build_chain(segments, "b.000001", 50, datetime.fromtimestamp(150, UTC))
    assert [s.end for s in chain.segments] == [100]
    assert chain.problem == ""


def test_check_segment_names_the_problem() -> None:
    data = event(10) + event(11)
    good = Segment("b.000001", 500, 500 + len(data), 10, 11, hashlib.sha256(data).hexdigest())
    assert check_segment(good, data) == ""
    flipped = data[:-1] + bytes([data[-1] ^ 1])
    assert "sha256 does not match" in check_segment(good, flipped)
    assert "bytes, expected" in check_segment(good, data[:-3])


def test_resume_after_last_segment_or_in_the_next_file() -> None:
    assert resume_point([], next_binlog_file).binlog_file == ""
    point = resume_point([seg("b.000009", 0, 70)], next_binlog_file)
    assert (point.binlog_file, point.offset) == ("b.000009", 70)
    point = resume_point([seg("b.000009", 0, 70, ends=True)], next_binlog_file)
    assert (point.binlog_file, point.offset) == ("b.000010", 0)


def test_retention_keeps_every_file_from_the_oldest_kept_dump_on() -> None:
    segments = [seg("b.000001", 0, 9), seg("b.000002", 0, 9), seg("b.000003", 0, 9)]
    assert [s.binlog_file for s in expired_segments(segments, "b.000002")] == ["b.000001"]
    assert expired_segments(segments, None) == []  # no dump with a position: keep all


def test_an_event_bigger_than_a_segment_is_still_read_whole(tmp_path) -> None:
    from drctl.binlog.archiver import ArchiverOptions, BinlogArchiver
    from drctl.mysql_dsn import MySQLDsn

    big = event(7, body=b"r" * 5000)
    (tmp_path / "b.000001").write_bytes(MAGIC + event(6) + big)
    archiver = BinlogArchiver(
        MySQLDsn(host="127.0.0.1"), None, tmp_path, ArchiverOptions(max_segment_bytes=1000)
    )
    archiver.file = "b.000001"
    archiver._collect()  # the small event fits in one read
    archiver._collect()  # the 5 KB one does not, and is read whole anyway
    assert [e.end for e in archiver._pending.events] == [33, 33 + len(big)]
