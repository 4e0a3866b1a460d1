"""Archived binlog segments: blob names, metadata, listing, and the resume point.

A segment is a byte range ``[start, end)`` of one binlog file, cut between whole
events, so file offsets are the source's own binlog positions. Names sort in binlog
order: ``binlog/<file>/<start:012d>-<end:012d>``. The blob is committed in one call
(``upload_blob``), so a listed segment is always complete; its metadata carries what a
restore checks before it replays a byte: sha256, positions, event times, and whether
the segment ends its file (rotate or stop event: the next segment starts a new file).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

PREFIX = "binlog/"
_NAME = re.compile(r"^binlog/([^/]+)/(\d{12})-(\d{12})$")


def segment_name(binlog_file: str, start: int, end: int) -> str:
    return f"{PREFIX}{binlog_file}/{start:012d}-{end:012d}"


@dataclass(frozen=True)
class Segment:
    binlog_file: str
    start: int
    end: int
    first_event_time: int = 0  # epoch seconds (the binlog's resolution)
    last_event_time: int = 0
    sha256: str = ""
    ends_file: bool = False
    server: str = ""  # mysql | mariadb

    @property
    def name(self) -> str:
        return segment_name(self.binlog_file, self.start, self.end)

    @property
    def size(self) -> int:
        return self.end - self.start

    def point(self) -> str:
        """The consistent point just after this segment, as people write it."""
        when = datetime.fromtimestamp(self.last_event_time, UTC).isoformat()
        return f"{self.binlog_file}:{self.end} (last event {when})"

    def to_azure(self) -> dict[str, str]:
        raw = asdict(self)
        raw["ends_file"] = str(self.ends_file).lower()
        return {key: str(value) for key, value in raw.items()}

    @classmethod
    def from_blob(cls, name: str, metadata: dict[str, str] | None) -> Segment | None:
        match = _NAME.match(name)
        if not match:
            return None
        raw = {k.lower(): v for k, v in (metadata or {}).items()}
        return cls(
            binlog_file=match.group(1),
            start=int(match.group(2)),
            end=int(match.group(3)),
            first_event_time=int(raw.get("first_event_time", "0") or 0),
            last_event_time=int(raw.get("last_event_time", "0") or 0),
            sha256=raw.get("sha256", ""),
            ends_file=raw.get("ends_file", "") == "true",
            server=raw.get("server", ""),
        )


def list_segments(container: Any) -> list[Segment]:
    """Committed segments in binlog order (file, then position)."""
    found = []
    for blob in container.list_blobs(name_starts_with=PREFIX, include=["metadata"]):
        segment = Segment.from_blob(blob.name, blob.metadata)
        if segment is not None:
            found.append(segment)
    return sorted(found, key=lambda s: (s.binlog_file, s.start))


@dataclass(frozen=True)
class ResumePoint:
    binlog_file: str  # "" : nothing archived yet, start from the oldest binlog on the source
    offset: int  # bytes of that file already archived (0: from its magic)


def resume_point(segments: list[Segment], next_file: Any) -> ResumePoint:
    """Where archiving continues: after the last committed segment, never before it.

    ``next_file(name)`` names the binlog after ``name`` (the file a rotate event opens).
    """
    if not segments:
        return ResumePoint("", 0)
    last = segments[-1]
    if last.ends_file:
        return ResumePoint(next_file(last.binlog_file), 0)
    return ResumePoint(last.binlog_file, last.end)


def next_binlog_file(name: str) -> str:
    """mysql-bin.000041 → mysql-bin.000042 (the server numbers its files this way)."""
    base, _, number = name.rpartition(".")
    return f"{base}.{int(number) + 1:0{len(number)}d}"
