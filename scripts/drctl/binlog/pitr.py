"""Point-in-time restore: the newest dump at or before T, then the archived binlog up to T.

Everything that can refuse runs before the target is touched: choosing the dump,
building the segment chain from metadata (gaps), and downloading every segment once to
check its sha256 (corruption). Only then is the dump restored (staged and swapped, as
``drctl restore`` does) and the chain replayed; the segments are checked again as they
stream, in case the container changed in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drctl.binlog.chain import Chain, build_chain, verify_chain
from drctl.binlog.segments import Segment, list_segments
from drctl.pilotlight.catalog import BackupEntry, list_backups
from drctl.pilotlight.dump_options import ServerFlavour


class PitrRefused(RuntimeError):
    """No usable dump, or a broken chain without --accept-gap; one line says why."""


@dataclass
class PitrPlan:
    dump: BackupEntry
    chain: Chain
    stop_at: datetime | None

    @property
    def flavour(self) -> ServerFlavour:
        return ServerFlavour(self.dump.metadata.server or ServerFlavour.MARIADB.value)

    def summary(self) -> dict[str, Any]:
        return {
            "dump": self.dump.name,
            "dump_position": f"{self.chain.start_file}:{self.chain.start_pos}",
            "segments": len(self.chain.segments),
            "segment_bytes": sum(s.size for s in self.chain.segments),
            "stop_at": self.stop_at.isoformat() if self.stop_at else "latest",
            "last_consistent_point": self.chain.last_point(),
            "problem": self.chain.problem or None,
        }


def downloader(container: Any) -> Any:
    def download(segment: Segment) -> bytes:
        return bytes(container.get_blob_client(segment.name).download_blob().readall())

    return download


def choose_dump(container: Any, database: str, stop_at: datetime | None) -> BackupEntry:
    """The newest dump of ``database`` at or before ``stop_at`` that names an exact position."""
    for entry in list_backups(container):
        meta = entry.metadata
        if meta.database not in ("", database):
            continue
        if stop_at is not None and entry.restore_point > stop_at:
            continue
        if not meta.binlog_file:
            continue  # taken with the binary log off: no replay can start from it
        if meta.position_exact != "true":
            # A dump taken before the table fence (position_fence) read its MySQL
            # position just before the snapshot: replay could apply a transaction twice.
            raise PitrRefused(
                f"dump {entry.name} records only an approximate binlog position "
                f"({meta.binlog_file}:{meta.binlog_pos}); point-in-time replay needs "
                "an exact one"
            )
        return entry
    when = stop_at.isoformat() if stop_at else "now"
    raise PitrRefused(
        f"no dump of {database!r} at or before {when} records a binlog position "
        f"in {container.container_name}"
    )


def plan_pitr(
    container: Any, database: str, stop_at: datetime | None, *, verify: bool = True
) -> PitrPlan:
    dump = choose_dump(container, database, stop_at)
    chain = build_chain(
        list_segments(container), dump.metadata.binlog_file, dump.metadata.binlog_pos, stop_at
    )
    if verify:
        # A corrupt segment comes before any gap after it, so it wins.
        chain = verify_chain(chain, downloader(container))
    return PitrPlan(dump, chain, stop_at)


@dataclass
class PitrResult:
    plan: dict[str, Any]
    restore: dict[str, Any]
    replayed_segments: int
    replayed_bytes: int
    last_replayed_point: str
    last_event_time: str  # ISO-8601 UTC; the dump's snapshot when nothing was replayed
    failure_time: str
    rpo_seconds: float
    stopped_at_gap: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_pitr(
    container: Any,
    target: Any,
    options: Any,  # drctl.pilotlight.restore.RestoreOptions
    plan: PitrPlan,
    *,
    accept_gap: bool,
    on_progress: Any = None,
) -> PitrResult:
    """Restore ``plan.dump``, then replay ``plan.chain``; refuse a broken chain unless accepted."""
    from drctl.binlog.replay import replay_chain
    from drctl.pilotlight.restore import run_restore

    if plan.chain.problem and not accept_gap:
        raise PitrRefused(
            f"{plan.chain.problem}; last consistent point {plan.chain.last_point()} "
            "(--accept-gap restores to it)"
        )
    options.backup_name = plan.dump.name
    options.fallback = False  # an older dump would need binlog from an older position
    restored = run_restore(container, target, options, on_progress=on_progress)
    replayed = replay_chain(
        plan.chain,
        downloader(container),
        target,
        options.database,
        flavour=plan.flavour,
        stop_at=plan.stop_at,
        source_database=plan.dump.metadata.database,
    )
    last = (
        datetime.fromtimestamp(replayed.last_event_time, UTC)
        if replayed.last_event_time
        else plan.dump.restore_point
    )
    failure = options.failure_time or datetime.now(UTC)
    return PitrResult(
        plan=plan.summary(),
        restore=restored.as_dict(),
        replayed_segments=replayed.segments,
        replayed_bytes=replayed.bytes,
        last_replayed_point=replayed.last_point,
        last_event_time=last.isoformat(),
        failure_time=failure.isoformat(),
        rpo_seconds=round(max(0.0, (failure - last).total_seconds()), 3),
        stopped_at_gap=plan.chain.problem or None,
    )
