"""Binlog retention follows the dumps: keep every segment a kept dump may replay.

A replay from a dump starts at the first byte of the dump's binlog file (the decoder
needs that file's header), so every segment of that file and of all later files stays.
Only files older than the oldest kept dump's file go. No dump with a position: nothing
is deleted (the archive may be all there is).
"""

from __future__ import annotations

from typing import Any

from drctl.binlog.segments import Segment, list_segments
from drctl.pilotlight.catalog import list_backups


def oldest_needed_file(container: Any) -> str | None:
    files = [e.metadata.binlog_file for e in list_backups(container) if e.metadata.binlog_file]
    return min(files) if files else None


def expired_segments(segments: list[Segment], oldest_needed: str | None) -> list[Segment]:
    if oldest_needed is None:
        return []
    return [segment for segment in segments if segment.binlog_file < oldest_needed]


def prune_segments(container: Any, *, dry_run: bool = False) -> list[str]:
    doomed = expired_segments(list_segments(container), oldest_needed_file(container))
    if not dry_run:
        for segment in doomed:
            container.delete_blob(segment.name)
    return [segment.name for segment in doomed]
