"""Gaps in the binlog archive: binlog the source purged before the archiver copied it.

A gap is where the committed segments stop being continuous: after the last segment
before it (its ``start``: the archive holds the binlog up to there) the next segment
begins elsewhere (its ``end``: where archiving restarted, from a dump taken after the
purge). An *open* gap has no ``end`` yet: the archiver refuses until a fresh dump exists.

A gap matters while a kept dump's replay would have to cross it, i.e. a dump taken
before it (its binlog file at or before the gap's start). Once the dumps' retention has
removed every such dump, no restore can need the missing binlog, and the gap is no
longer reported (the segments before it go with the next prune).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from drctl.binlog.segments import Segment, next_binlog_file
from drctl.pilotlight.catalog import BackupEntry


@dataclass(frozen=True)
class ArchiveGap:
    start: str  # "file:pos": the archive holds the binlog up to here
    start_time: int  # the last archived event before the gap (epoch s; 0: unknown)
    end: str = ""  # "file:pos": where archiving restarted ("" while open)
    end_time: int = 0  # the first archived event after the gap (epoch s; 0: open)

    @property
    def start_file(self) -> str:
        return self.start.rpartition(":")[0]

    def describe(self) -> str:
        until = f"{self.end} ({_iso(self.end_time)})" if self.end else "open (no dump after it)"
        return f"binlog gap from {self.start} ({_iso(self.start_time)}) to {until}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ArchiveGap:
        return cls(
            start=str(raw["start"]),
            start_time=int(raw.get("start_time", 0)),
            end=str(raw.get("end", "")),
            end_time=int(raw.get("end_time", 0)),
        )


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else "time unknown"


def find_gaps(segments: list[Segment]) -> list[ArchiveGap]:
    """Every discontinuity between consecutive segments (binlog order)."""
    gaps = []
    for before, after in itertools.pairwise(segments):
        expected = (next_binlog_file(before.binlog_file), 0) if before.ends_file else None
        expected = expected or (before.binlog_file, before.end)
        if (after.binlog_file, after.start) != expected:
            gaps.append(
                ArchiveGap(
                    start=f"{expected[0]}:{expected[1]}",
                    start_time=before.last_event_time,
                    end=f"{after.binlog_file}:{after.start}",
                    end_time=after.first_event_time,
                )
            )
    return gaps


def needed_gaps(gaps: list[ArchiveGap], dumps: list[BackupEntry]) -> list[ArchiveGap]:
    """The gaps a kept dump's replay would cross; an open gap always matters."""
    files = [d.metadata.binlog_file for d in dumps if d.metadata.binlog_file]
    return [gap for gap in gaps if not gap.end or any(f <= gap.start_file for f in files)]


def restart_dump(dumps: list[BackupEntry], oldest_on_source: str) -> BackupEntry | None:
    """The oldest dump whose exact binlog position the source still has, if any.

    Archiving restarts at the first byte of that dump's binlog file (a replay needs the
    file's header), so every dump from it on can replay to the latest point again.
    """
    usable = [
        d
        for d in dumps
        if d.metadata.binlog_file >= oldest_on_source and d.metadata.position_exact == "true"
    ]
    return min(usable, key=lambda d: (d.metadata.binlog_file, d.metadata.binlog_pos), default=None)
