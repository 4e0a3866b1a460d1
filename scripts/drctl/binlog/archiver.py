"""``drctl binlog-archive``: copy the source's binlog into Azure Blob, in committed segments.

``mariadb-binlog --read-from-remote-server --raw --stop-never`` (``mysqlbinlog`` for a
MySQL source) mirrors each binlog file into a spool directory byte for byte, so a file
offset is the source's own position. The archiver cuts the mirrored bytes between
whole events into segments and uploads one when the oldest un-uploaded event has waited
``flush_seconds`` or ``max_segment_bytes`` have piled up, whichever comes first.

Resume: after a restart the client is started again at the file of the last committed
segment, and bytes below that segment's end are never uploaded again (no duplicate);
the next segment starts exactly there (no gap). A binlog the source has already purged
cannot be fetched: the client fails and so does the archiver, naming the file.

A file the source closed uncleanly (a crash, a Multi-AZ failover) has no rotate or stop
event at its end, and ``--raw`` drops the artificial rotate the server sends when the
dump moves on, so nothing in the spool says the file is over. The archiver closes it
when the source lists a later file and the spool holds all of it (the size ``SHOW
BINARY LOGS`` reports): its last segment is marked as the file's end and archiving goes
on at the next file's first byte, so the chain stays continuous and positions exact.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import hashlib
import logging
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from drctl.binlog.client import stream_argv
from drctl.binlog.events import Event, complete_events, first_event_bytes
from drctl.binlog.gaps import ArchiveGap, find_gaps, needed_gaps, restart_dump
from drctl.binlog.retention import prune_segments
from drctl.binlog.retention_hours import DEFAULT_HOURS, RetentionCheck, ensure_retention
from drctl.binlog.segments import (
    ResumePoint,
    Segment,
    list_segments,
    next_binlog_file,
    resume_point,
)
from drctl.binlog.source_settings import check_replayable
from drctl.binlog.status import ArchiverStatus, mark_gaps, write_status
from drctl.mysql_dsn import MySQLDsn, client_defaults_file
from drctl.pilotlight.catalog import list_backups
from drctl.pilotlight.dump_options import ServerFlavour

log = logging.getLogger("drctl.binlog")

DEFAULT_FLUSH_SECONDS = 5.0
# A segment is held in memory (read, hashed, uploaded in one Put Blob, whose SDK path
# copies it): 16 MiB segments put the archiver at 117 MB peak RSS, 4 MiB at 78 MB
# (benchmarks/results.md). Restore downloads and checks segment by segment too.
DEFAULT_MAX_SEGMENT_BYTES = 4 << 20
POLL_SECONDS = 0.2
COMMITS_PER_STEP = 8
_PR_SET_PDEATHSIG = 1


class ArchiverFailed(RuntimeError):
    """The binlog client stopped, or the archive is behind for too long; the message says which."""


class ArchiverBehind(ArchiverFailed):
    """Committed segments trail the source's binlog for longer than allowed."""


@dataclass
class ArchiverOptions:
    flush_seconds: float = DEFAULT_FLUSH_SECONDS
    max_segment_bytes: int = DEFAULT_MAX_SEGMENT_BYTES
    # Behind = the source has binlog the archive does not. A healthy archiver is behind
    # for at most one flush interval plus one upload; these bound the rest.
    warn_behind_seconds: float = 15.0
    fail_behind_seconds: float = 120.0
    status_seconds: float = 30.0  # how often the status blob (for the exporter) is written
    prune_seconds: float = 600.0  # how often segments no kept dump needs are deleted
    start_file: str = ""  # first binlog when nothing is archived yet (default: oldest)
    # RDS MySQL: the source's `binlog retention hours` must cover an archiver outage.
    retention_hours: int = DEFAULT_HOURS
    set_retention: bool = False  # raise it (master user) instead of only warning
    # Touched while the loop runs: the Deployment's liveness probe restarts an archiver
    # whose loop is stuck (a hung call), which exiting on an error would not cover.
    heartbeat_file: Path | None = None


@dataclass
class _Pending:
    events: list[Event] = field(default_factory=list)
    # The earliest the oldest pending event can have reached the spool: the previous read
    # of the spool, which did not have it yet (a commit's upload may lie in between).
    since: float | None = None


class BinlogArchiver:
    def __init__(
        self,
        source: MySQLDsn,
        container: Any,
        spool_dir: Path,
        options: ArchiverOptions,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.container = container
        self.spool_dir = spool_dir
        self.options = options
        self.clock = clock
        self.flavour = ServerFlavour.MARIADB
        self.file = ""
        self.offset = 0  # bytes of self.file committed to Blob
        self.last_event_time = 0
        self.segments_committed = 0
        self._pending = _Pending()
        self._last_read = clock()
        self._uploads: collections.deque[float] = collections.deque(maxlen=8)
        self._behind_since: float | None = None
        self._warned = False
        self._last_check = float("-inf")
        self._last_status = float("-inf")
        self._last_prune = float("-inf")
        self.retention: RetentionCheck | None = None
        self.gaps: list[ArchiveGap] = []  # in the archive's segments
        # The gap this run skipped, until the segments after it show it.
        self._restart_gap: ArchiveGap | None = None
        # The newest committed segment of self.file: an unclean close marks it as the end.
        self._last_segment: Segment | None = None

    # -- set-up -------------------------------------------------------------------

    def resume(self, *, dry_run: bool = False) -> ResumePoint:
        """Continue after the last committed segment; the first run starts at the oldest binlog.

        When the source purged the binlog the archive continues with, archiving restarts
        at the oldest dump taken since (the README's runbook: take a fresh dump); without
        one it refuses, and the gap is in the status blob either way.
        """
        self.flavour, oldest = self._source_facts()
        segments = list_segments(self.container)
        point = resume_point(segments, next_binlog_file)
        self.file = point.binlog_file or self.options.start_file or oldest
        self.offset = point.offset
        last = segments[-1] if segments else None
        at_its_end = last is not None and (last.binlog_file, last.end) == (self.file, self.offset)
        self._last_segment = last if at_its_end else None
        self.gaps = find_gaps(segments)
        if point.binlog_file and point.binlog_file < oldest:
            self._restart_after_purge(point, oldest, segments[-1].last_event_time, dry_run)
        return ResumePoint(self.file, self.offset)

    def _restart_after_purge(
        self, point: ResumePoint, oldest: str, archived_to: int, dry_run: bool
    ) -> None:
        gap = ArchiveGap(f"{point.binlog_file}:{point.offset}", archived_to)
        dumps = list_backups(self.container)
        dump = restart_dump(dumps, oldest)
        if dump is None:
            if not dry_run:
                mark_gaps(self.container, needed_gaps([*self.gaps, gap], dumps))
            raise ArchiverFailed(
                f"{self.source.endpoint()} purged {point.binlog_file} before it was archived "
                f"(oldest binlog there: {oldest}; archived to {gap.start}): take a fresh dump "
                "(drctl backup) and archiving restarts from its position"
            )
        self.file, self.offset = dump.metadata.binlog_file, 0
        self._last_segment = None  # none of the new file is archived yet
        self._restart_gap = ArchiveGap(gap.start, gap.start_time, f"{self.file}:0")
        self.gaps = needed_gaps([*self.gaps, self._restart_gap], dumps)
        log.warning(
            "binlog-archive: %s purged on the source; restarting at %s:0 for dump %s (%s)",
            point.binlog_file,
            self.file,
            dump.name,
            self._restart_gap.describe(),
        )

    def _source_facts(self) -> tuple[ServerFlavour, str]:
        conn = self.source.connect(timeout=5, read_timeout=10)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                flavour = ServerFlavour.from_version(str(cur.fetchone()[0]))
                cur.execute("SHOW BINARY LOGS")
                rows = cur.fetchall()
                if problem := check_replayable(cur, self.source.endpoint()):
                    raise ArchiverFailed(problem)
                if flavour is ServerFlavour.MYSQL:
                    self.retention = self._check_retention(cur)
        finally:
            conn.close()
        if not rows:
            raise ArchiverFailed(f"{self.source.endpoint()} has no binary log (log_bin is off)")
        return flavour, str(rows[0][0])

    def _check_retention(self, cur: Any) -> RetentionCheck:
        options = self.options
        try:
            return ensure_retention(cur, options.retention_hours, set_it=options.set_retention)
        except Exception as exc:  # not RDS, or an account that may not CALL it
            message = f"could not check binlog retention hours: {str(exc).splitlines()[0]}"
            log.warning(message)
            return RetentionCheck(None, options.retention_hours, message=message)

    # -- the loop -----------------------------------------------------------------

    def run(self, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Archive until ``should_stop()`` or a failure (ArchiverFailed)."""
        point = self.resume()
        log.info("binlog-archive resuming at %s:%d", point.binlog_file, point.offset)
        # A fresh spool: a file left by an earlier run is re-read from the source anyway.
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.spool_dir.iterdir():
            stale.unlink()
        with client_defaults_file(self.source) as defaults:
            argv = stream_argv(self.flavour, defaults, self.spool_dir, self.file)
            client = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                # A SIGKILLed archiver must not leave an orphan replica connection
                # mirroring into a spool nobody reads. PDEATHSIG follows the forking
                # *thread*, so only the main thread (alive as long as drctl) asks for it.
                preexec_fn=_die_with_parent if _on_main_thread() else None,
            )
            try:
                while not should_stop():
                    self._beat()
                    self.step()
                    if client.poll() is not None:
                        self.flush()  # what it wrote before it stopped is still good
                        raise ArchiverFailed(_client_failure(client, self.file))
                    time.sleep(POLL_SECONDS)
            finally:
                if client.poll() is None:
                    client.terminate()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        client.wait(timeout=5)
                    if client.poll() is None:
                        client.kill()
                        client.wait()

    def _beat(self) -> None:
        if self.options.heartbeat_file is not None:
            with contextlib.suppress(OSError):
                self.options.heartbeat_file.touch()

    def step(self) -> None:
        """Read what the client mirrored, commit the segments that are due, watch the lag.

        Behind (a bulk load, a restart), several full segments are due at once: they
        are committed back to back, up to COMMITS_PER_STEP, not one per poll, which
        capped the archive at max_segment_bytes / POLL_SECONDS (4 MiB: 20 MB/s).
        """
        commits = 0
        while commits < COMMITS_PER_STEP:
            added = self._collect()
            if self._segment_due():
                self._commit()
                commits += 1
            elif not added:
                break
        self._watch_lag()

    def flush(self) -> None:
        """Commit whatever whole events are pending (a graceful stop: SIGTERM)."""
        self._collect()
        while self._pending.events:
            self._commit()
            self._collect()

    def _collect(self) -> int:
        """Add the whole events that fill the segment being built; returns how many.

        Reads only the room left in the segment (at least one whole event), so a
        segment exceeds max_segment_bytes by one event at most, and memory with it.
        """
        path = self.spool_dir / self.file
        if not path.exists():
            return 0
        read_at = self.clock()
        pending_end = self._pending.events[-1].end if self._pending.events else self.offset
        # At least a header's worth, so the next event's length is known.
        room = max(64, self.options.max_segment_bytes - (pending_end - self.offset))
        with path.open("rb") as spool:
            spool.seek(pending_end)
            data = spool.read(room)
            needed = first_event_bytes(data, pending_end)
            if needed > len(data):  # one event bigger than a segment: read all of it
                spool.seek(pending_end)
                data = spool.read(needed)
        events = complete_events(data, pending_end)
        if events and self._pending.since is None:
            self._pending.since = self._last_read
        self._last_read = read_at
        self._pending.events += events
        return len(events)

    def _segment_due(self) -> bool:
        pending = self._pending
        if not pending.events:
            return False
        size = pending.events[-1].end - self.offset
        now = self.clock()
        waited = 0.0 if pending.since is None else now - pending.since
        # The upload must *end* within the flush interval of the event's arrival (the RPO
        # goal), and the next look is one poll away: start that much earlier.
        due = max(0.0, self.options.flush_seconds - POLL_SECONDS - self.upload_estimate())
        return (
            size >= self.options.max_segment_bytes or waited >= due or pending.events[-1].ends_file
        )

    def _commit(self, *, closes_file: bool = False) -> None:
        events = self._pending.events
        start, end = self.offset, events[-1].end
        with (self.spool_dir / self.file).open("rb") as spool:
            spool.seek(start)
            data = spool.read(end - start)
        segment = Segment(
            binlog_file=self.file,
            start=start,
            end=end,
            first_event_time=events[0].timestamp,
            last_event_time=events[-1].timestamp,
            sha256=hashlib.sha256(data).hexdigest(),
            ends_file=events[-1].ends_file or closes_file,
            server=self.flavour.value,
        )
        # One Put Blob: the segment appears whole or not at all, never half-written.
        started = self.clock()
        self.container.get_blob_client(segment.name).upload_blob(
            data, overwrite=True, metadata=segment.to_azure()
        )
        self._uploads.append(self.clock() - started)
        self.segments_committed += 1
        if self._restart_gap is not None and not self._restart_gap.end_time:
            self._restart_gap_ends(segment)
        self.last_event_time = segment.last_event_time
        self._pending = _Pending()
        self._last_segment = segment
        if segment.ends_file:
            self._next_file()
        else:
            self.offset = end

    def _restart_gap_ends(self, segment: Segment) -> None:
        """The first segment after a restart past a gap dates the gap's end."""
        old = self._restart_gap
        if old is None:
            return
        new = replace(old, end_time=segment.first_event_time)
        self.gaps = [new if gap == old else gap for gap in self.gaps]
        self._restart_gap = new
        self._last_status = float("-inf")  # the exporter learns the end with the next look

    def _next_file(self) -> None:
        with contextlib.suppress(OSError):
            (self.spool_dir / self.file).unlink()  # archived in full
        self.file, self.offset = next_binlog_file(self.file), 0
        self._last_segment = None

    # -- a file closed without a rotate event --------------------------------------

    def _close_if_abandoned(self) -> bool:
        """Close self.file if the source has left it for good and the spool holds all of it.

        Only the source's current binlog grows; one that ``SHOW BINARY LOGS`` lists before
        a later file never changes again. The pending events then end the file (or, if
        none are left, the segment already committed does).
        """
        pending = self._pending.events
        if pending and pending[-1].ends_file:
            return False  # a rotate or stop event ends it: the normal path commits it
        final = self._finished_size(self.file)
        spool = self.spool_dir / self.file
        if final is None or not spool.exists() or spool.stat().st_size < final:
            return False  # still the current file, or the client is still copying it
        # step() has collected every whole event the spool holds, unless it stopped at
        # COMMITS_PER_STEP; then held < final, and a later check closes the file.
        held = self._pending.events[-1].end if self._pending.events else self.offset
        if held != final or not (self._pending.events or self._last_segment):
            return False  # whole segments still to commit first (or a torn tail: see lag)
        closed = self.file
        if self._pending.events:
            self._commit(closes_file=True)
        elif self._last_segment is not None:
            self._mark_file_end(self._last_segment)
        log.warning(
            "binlog-archive: %s ended at %d without a rotate event (the source restarted "
            "uncleanly); closed it, continuing with %s",
            closed,
            final,
            self.file,
        )
        return True

    def _mark_file_end(self, segment: Segment) -> None:
        """The committed segment becomes the file's last: same bytes, ends_file metadata.

        Set Blob Metadata replaces all of a blob's metadata in one call, so a restore
        lists the segment either as before or as the file's end, never half-updated:
        https://learn.microsoft.com/rest/api/storageservices/set-blob-metadata
        """
        ended = replace(segment, ends_file=True)
        self.container.get_blob_client(ended.name).set_blob_metadata(ended.to_azure())
        self._next_file()

    def _finished_size(self, binlog_file: str) -> int | None:
        """The final size of ``binlog_file`` if the source has moved on to a later file.

        ``SHOW BINARY LOGS`` needs REPLICATION CLIENT (MySQL) / BINLOG MONITOR (MariaDB),
        which the RDS master user holds:
        https://dev.mysql.com/doc/refman/8.0/en/show-binary-logs.html
        """
        conn = self.source.connect(timeout=5, read_timeout=10)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW BINARY LOGS")
                logs = [(str(row[0]), int(row[1])) for row in cur.fetchall()]
        finally:
            conn.close()
        sizes = dict(logs)
        later = any(name > binlog_file for name, _size in logs)
        return sizes.get(binlog_file) if later else None

    # -- falling behind -----------------------------------------------------------

    def _watch_lag(self) -> None:
        now = self.clock()
        if now - self._last_check < self.options.flush_seconds:
            return
        self._last_check = now
        server_file, server_pos = self._server_position()
        if server_file > self.file:  # a later file exists: was ours left without a rotate?
            self._close_if_abandoned()
        ahead = (server_file, server_pos) > (self.file, self.offset)
        if not ahead:
            self._behind_since, self._warned = None, False
        elif self._behind_since is None:
            self._behind_since = now
        lag = self.lag_seconds()
        if lag >= self.options.warn_behind_seconds and not self._warned:
            self._warned = True
            log.warning(
                "binlog-archive behind: %s:%d archived, the source is at %s:%d for %.0f s",
                self.file,
                self.offset,
                server_file,
                server_pos,
                lag,
            )
        if now - self._last_prune >= self.options.prune_seconds:
            self._last_prune = now
            self._prune()
        if now - self._last_status >= self.options.status_seconds:
            self._last_status = now
            self._write_status(server_file, server_pos, lag)
        if lag >= self.options.fail_behind_seconds:
            raise ArchiverBehind(
                f"binlog-archive behind for {lag:.0f} s (limit {self.options.fail_behind_seconds:g}"
                f" s): archived to {self.file}:{self.offset}, the source is at "
                f"{server_file}:{server_pos}"
            )

    def _prune(self) -> None:
        """Delete the segments no kept dump needs; report only the gaps a kept dump needs."""
        pruned = prune_segments(self.container)
        if pruned:
            log.info("binlog-archive pruned %d segments no kept dump needs", len(pruned))
        found = find_gaps(list_segments(self.container))
        restart = self._restart_gap
        if restart is not None and restart.start not in {gap.start for gap in found}:
            found.append(restart)  # no segment after it yet
        self.gaps = needed_gaps(found, list_backups(self.container))

    def upload_estimate(self) -> float:
        """The slowest of the last few uploads (0 before the first)."""
        return max(self._uploads, default=0.0)

    def lag_seconds(self) -> float:
        return 0.0 if self._behind_since is None else self.clock() - self._behind_since

    def _server_position(self) -> tuple[str, int]:
        conn = self.source.connect(timeout=5, read_timeout=10)
        try:
            with conn.cursor() as cur:
                row = None
                # MySQL 8.4 removed SHOW MASTER STATUS; 8.0 does not know the new name.
                for statement in ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"):
                    with contextlib.suppress(Exception):
                        cur.execute(statement)
                        row = cur.fetchone()
                        break
        finally:
            conn.close()
        return (str(row[0]), int(row[1])) if row else ("", 0)

    def _write_status(self, server_file: str, server_pos: int, lag: float) -> None:
        write_status(
            self.container,
            ArchiverStatus(
                checked_at=time.time(),
                archived_file=self.file,
                archived_pos=self.offset,
                source_file=server_file,
                source_pos=server_pos,
                lag_seconds=round(lag, 3),
                last_event_time=self.last_event_time,
                gaps=[gap.as_dict() for gap in self.gaps],
            ),
        )


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _client_failure(client: subprocess.Popen[bytes], binlog_file: str) -> str:
    err = (client.stderr.read() if client.stderr else b"").decode(errors="replace").strip()
    detail = err.splitlines()[-1] if err else "no error output"
    return f"binlog client exited with {client.returncode} at {binlog_file}: {detail}"
