"""Binlog event boundaries, read from the v4 event header (MySQL and MariaDB share it).

A binlog file is the 4-byte magic ``\\xfebin`` followed by events; every event starts
with a 19-byte header: timestamp (4), type (1), server id (4), event size (4), end
position (4), flags (2), all little-endian. That is all the archiver needs to cut
segments only between whole events and to record their times.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\xfebin"
HEADER_BYTES = 19
ROTATE_EVENT = 4
STOP_EVENT = 3
_HEADER = struct.Struct("<IBIII")


@dataclass(frozen=True)
class Event:
    start: int  # file offset of the event's first byte
    end: int  # file offset just after it (the next event's start)
    timestamp: int  # seconds since the epoch, as the source wrote it
    type_code: int

    @property
    def ends_file(self) -> bool:
        """A rotate or stop event is the last one in its file."""
        return self.type_code in (ROTATE_EVENT, STOP_EVENT)


class BinlogFormatError(ValueError):
    """The bytes are not a binlog (wrong magic, or an impossible event size)."""


def complete_events(data: bytes | memoryview, base: int) -> list[Event]:
    """The whole events in ``data``, which starts at file offset ``base``.

    ``base`` 0 means ``data`` starts with the magic. A trailing partial event is left
    out: the source is still writing it.
    """
    view = memoryview(data)
    offset = 0
    if base == 0:
        if len(view) < len(MAGIC):
            return []
        if bytes(view[: len(MAGIC)]) != MAGIC:
            raise BinlogFormatError("not a binlog file (bad magic)")
        offset = len(MAGIC)
    events = []
    while len(view) - offset >= HEADER_BYTES:
        timestamp, type_code, _server, size, _end = _HEADER.unpack_from(view, offset)
        if size < HEADER_BYTES:
            raise BinlogFormatError(f"event at {base + offset} has impossible size {size}")
        if len(view) - offset < size:
            break
        events.append(Event(base + offset, base + offset + size, timestamp, type_code))
        offset += size
    return events


def first_event_bytes(data: bytes | memoryview, base: int) -> int:
    """Bytes needed, from the start of ``data``, to hold its first whole event (0: unknown yet).

    For an event bigger than the archiver's read size (a large row event), so that it
    reads enough instead of waiting forever for a whole event to fit.
    """
    skip = len(MAGIC) if base == 0 else 0
    if len(data) < skip + HEADER_BYTES:
        return 0
    return skip + int(_HEADER.unpack_from(memoryview(data), skip)[3])
