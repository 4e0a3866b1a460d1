"""Replay a verified chain of archived segments into the restored database, as plain SQL.

Why plain SQL: production restores into Azure Database for MySQL Flexible Server as its
admin, and Azure documents that account's privileges without SUPER, BINLOG_ADMIN or
REPLICATION_APPLIER ("Create users in Azure Database for MySQL",
https://learn.microsoft.com/azure/mysql/flexible-server/how-to-create-users). MySQL runs
the ``BINLOG '...'`` statements that ``mysqlbinlog`` prints for row events only for one
of those (https://dev.mysql.com/doc/refman/8.0/en/binlog.html; MariaDB: BINLOG REPLAY),
so ``mysqlbinlog | mysql`` cannot replay a row-based binlog there at all.

Two documented ways remain, and this module takes the first:
- **Decode row events to INSERT/UPDATE/DELETE** with the column names the source writes
  into its table map events under ``binlog_row_metadata=FULL`` (a MySQL 8.0.14+ and
  MariaDB 10.5+ variable, set in the primary's RDS parameter group; see
  components/sql_binlog.py), decoded by python-mysql-replication (pinned). The replay
  then needs only what the admin has (INSERT, UPDATE, DELETE, and the DDL privileges),
  runs in the restore job like every other restore step, stops exactly at ``--to-time``,
  and takes one database out of the binlog.
- Azure's data-in replication (``mysql.az_replication_change_master`` from a MySQL in
  the job that serves the archive) was not taken: the managed server must connect *into*
  the restore job (https://learn.microsoft.com/azure/mysql/flexible-server/concepts-data-in-replication,
  network requirements), replication has no stop point (``az_replication_start`` takes
  no UNTIL: no ``--to-time``), filters are server parameters changed through the service
  (no ``--database`` per restore), a HA server accepts only GTID-based data-in
  replication, and the applier runs as Azure's replication thread, not as an account
  the sandbox could hold to the documented grants (MariaDB has no ``az_replication``
  procedures at all: the sandbox would have to imitate the decision).

The library reads events over the replication protocol only, so the verified segments
are written back into binlog files and served by a throwaway server inside the job
(``binlog_server``: the "binlog server" PITR technique). Every segment passes its sha256
check before it is written there: a segment that changed since the plan ends the chain,
and the replay stops at the last consistent point before it. Memory holds one segment
(plus the one downloading) and one batch of SQL.

GTIDs: plain statements carry none of the source's, so the restored server (a primary
with GTIDs of its own, under gtid_strict_mode on MariaDB or GTID_MODE=ON on Azure)
numbers the replayed transactions itself; nothing sets ``gtid_seq_no`` or ``GTID_NEXT``.

Triggers: the source logged the rows its triggers changed, so a trigger on the target
must not run again for the replayed statements. The target's triggers are dropped for
the replay and recreated afterwards (also after a failure); the binlog's own CREATE and
DROP TRIGGER are followed.
"""

from __future__ import annotations

import contextlib
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pymysql

from drctl.binlog.applier import ApplyFailed, Point, TargetSession
from drctl.binlog.binlog_server import (
    BinlogServer,
    BinlogServerFailed,
    InstalledChain,
    install_chain,
)
from drctl.binlog.chain import Chain
from drctl.binlog.events_sql import EventApplier, SuspendedTriggers
from drctl.binlog.row_sql import RowEventRefused
from drctl.binlog.segments import Segment
from drctl.mysql_dsn import MySQLDsn
from drctl.mysql_tools import ToolMissing
from drctl.pilotlight.dump_options import ServerFlavour
from drctl.pilotlight.remote import first_line


class ReplayFailed(RuntimeError):
    """The decoder or the target failed; the message names the last consistent point."""


@dataclass
class ReplayResult:
    segments: int
    bytes: int
    last_point: str
    last_event_time: int  # epoch seconds of the last replayed event (0: none)


def replay_chain(
    chain: Chain,
    download: Callable[[Segment], bytes],
    target: MySQLDsn,
    database: str,
    *,
    flavour: ServerFlavour,
    stop_at: datetime | None,
    source_database: str = "",
) -> ReplayResult:
    start = f"the dump's position {chain.start_file}:{chain.start_pos}"
    result = ReplayResult(0, 0, start, 0)
    if not chain.segments:
        return result
    server = BinlogServer(Path(tempfile.mkdtemp(prefix="drctl-binlog-")), flavour)
    try:
        installed = install_chain(
            chain, _prefetched(chain.segments, download), server.binlog_dir, start
        )
        result.segments, result.bytes = installed.segments, installed.bytes
        if installed.files:
            server.start(installed)
            _apply(server, chain, installed, target, database, source_database, stop_at, result)
        if installed.problem:
            raise ReplayFailed(f"{installed.problem}; last consistent point {result.last_point}")
    except (BinlogServerFailed, ToolMissing) as exc:
        raise ReplayFailed(f"{exc}; last consistent point {result.last_point}") from exc
    except pymysql.err.MySQLError as exc:  # the binlog server or the target went away
        raise ReplayFailed(
            f"replay failed: {first_line(exc)}; last consistent point {result.last_point}"
        ) from exc
    finally:
        server.stop()
    return result


def _apply(
    server: BinlogServer,
    chain: Chain,
    installed: InstalledChain,
    target: MySQLDsn,
    database: str,
    source_database: str,
    stop_at: datetime | None,
    result: ReplayResult,
) -> None:
    session = TargetSession(target, database, Point(result.last_point, 0))
    try:
        with SuspendedTriggers(session) as triggers:
            applier = EventApplier(
                session,
                triggers,
                source_database=source_database or database,
                stop=int(stop_at.timestamp()) if stop_at else None,
                end=(installed.end_file, installed.end_pos),
            )
            try:
                applier.run(server.connection_settings(), chain.start_file, chain.start_pos)
            finally:
                _record(result, session.committed)
    except (ApplyFailed, RowEventRefused) as exc:
        _record(result, session.committed)
        raise ReplayFailed(f"{exc}; last consistent point {result.last_point}") from exc
    finally:
        session.close()


def _record(result: ReplayResult, committed: Point) -> None:
    if committed.when:
        when = datetime.fromtimestamp(committed.when, UTC).isoformat()
        result.last_point = f"{committed.where} (last event {when})"
        result.last_event_time = committed.when


def _prefetched(
    segments: list[Segment], download: Callable[[Segment], bytes]
) -> Iterator[tuple[Segment, bytes]]:
    """Each segment with its bytes, the next one downloading while this one is written.

    One segment ahead: at most three (4 MiB each) in memory, the one written, the one
    queued, the one downloading.
    """
    ahead: queue.Queue[tuple[Segment, bytes] | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: tuple[Segment, bytes] | BaseException | None) -> None:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                ahead.put(item, timeout=0.1)
                return

    def fetch() -> None:
        try:
            for segment in segments:
                if stop.is_set():
                    return
                offer((segment, download(segment)))
            offer(None)
        except BaseException as exc:  # re-raised in the consuming thread
            offer(exc)

    threading.Thread(target=fetch, daemon=True, name="segment-prefetch").start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # a consumer that stopped early (a corrupt segment) frees the fetcher
