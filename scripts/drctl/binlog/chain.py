"""Which archived segments a point-in-time restore replays, and where the chain breaks.

From a dump's binlog position the chain must be continuous: every binlog file from its
first byte (its header tells the decoder the event format), each segment starting where
the previous ended, and a new file only after a segment that ends its file. The first
missing link (a gap) or bad segment (sha256, size, torn event) ends the chain; what is
before it is the last consistent point.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from drctl.binlog.events import BinlogFormatError, complete_events
from drctl.binlog.segments import Segment, next_binlog_file


@dataclass
class Chain:
    start_file: str
    start_pos: int
    segments: list[Segment] = field(default_factory=list)
    problem: str = ""  # "" : the chain ends only because the archive ends (or at T)

    def last_point(self) -> str:
        if not self.segments:
            return f"the dump's own position {self.start_file}:{self.start_pos}"
        return self.segments[-1].point()


def build_chain(
    segments: list[Segment], start_file: str, start_pos: int, stop_at: datetime | None
) -> Chain:
    """The continuous run of segments from ``start_file`` (whole) on, by metadata alone."""
    by_key = {(s.binlog_file, s.start): s for s in segments}
    chain = Chain(start_file, start_pos)
    file, offset = start_file, 0
    stop = int(stop_at.timestamp()) if stop_at else None
    while True:
        segment = by_key.get((file, offset))
        if segment is None:
            if any((s.binlog_file, s.start) > (file, offset) for s in segments):
                chain.problem = f"gap: no archived segment starts at {file}:{offset}"
            return chain
        past_start = (file != start_file) or segment.end > start_pos
        if stop is not None and past_start and segment.first_event_time >= stop:
            return chain  # everything from here on is after T
        chain.segments.append(segment)
        file, offset = (next_binlog_file(file), 0) if segment.ends_file else (file, segment.end)


def check_segment(segment: Segment, data: bytes) -> str:
    """ "" if ``data`` is exactly what was archived as ``segment``, else why not."""
    if len(data) != segment.size:
        return f"segment {segment.name} is corrupt: {len(data)} bytes, expected {segment.size}"
    if hashlib.sha256(data).hexdigest() != segment.sha256:
        return f"segment {segment.name} is corrupt: sha256 does not match its metadata"
    try:
        events = complete_events(data, segment.start)
    except BinlogFormatError as exc:
        return f"segment {segment.name} is corrupt: {exc}"
    if not events or events[-1].end != segment.end:
        return f"segment {segment.name} is corrupt: it does not end on an event boundary"
    return ""


def verify_chain(chain: Chain, download: Callable[[Segment], bytes]) -> Chain:
    """Download and check every segment; cut the chain at the first bad one."""
    for index, segment in enumerate(chain.segments):
        problem = check_segment(segment, download(segment))
        if problem:
            return Chain(chain.start_file, chain.start_pos, chain.segments[:index], problem)
    return chain
