"""One backup run (seed 001's 5-minute job): dump → compress → staged blob → metadata → latest.

Order matters for safety: the blob is committed only after the whole dump streamed and
mariadb-dump exited cleanly with its last line written; the ``latest`` marker moves
only after the commit; pruning runs last and never touches the newest backup.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight import remote
from drctl.pilotlight.blob_sdk import ContainerClient
from drctl.pilotlight.block_upload import DEFAULT_BLOCK_BYTES, StagedBlockWriter
from drctl.pilotlight.catalog import (
    BackupEntry,
    BackupMetadata,
    backup_name,
    prune,
    write_latest_marker,
)
from drctl.pilotlight.dump_options import ServerFlavour
from drctl.pilotlight.dump_stream import DumpPosition, DumpStream
from drctl.pilotlight.formats import BackupFormat, make_compressor
from drctl.pilotlight.position_fence import PositionFence

ProgressCallback = Callable[[int], None]


@dataclass
class BackupOptions:
    database: str
    fmt: BackupFormat = BackupFormat.ZSTD
    level: int | None = None
    # 0: zstd compresses in the calling thread. Level 1 on one core runs ~4x faster than
    # mariadb-dump produces SQL (benchmarks/results.md), so worker threads add no
    # throughput, but each holds its own input and output job buffers: 2 workers cost
    # ~20 MB of peak RSS, a fifth of the backup process's 100 MB budget.
    threads: int = 0
    retention: timedelta = timedelta(days=14)  # seed 003's standard
    block_bytes: int = DEFAULT_BLOCK_BYTES
    # How the dump's binlog position is made exact: "auto" = MariaDB's own snapshot
    # position, or the table fence on MySQL (RDS: no global read lock); "fence" = the
    # fence on any server (the sandbox checks it against MariaDB's own position).
    position_method: str = "auto"


@dataclass
class BackupResult:
    name: str
    container: str
    format: str
    compressed_bytes: int
    uncompressed_bytes: int
    sha256: str
    snapshot_time: str
    gtid_position: str
    binlog_file: str
    binlog_pos: int
    position_exact: bool
    seconds: float
    pruned: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SourceFacts:
    flavour: ServerFlavour
    log_bin: bool
    estimate: int  # bytes, for the progress bar


def source_facts(source: MySQLDsn, database: str) -> SourceFacts:
    """Flavour (from VERSION()), binary log on?, and the size estimate."""
    conn = remote.connect(source, "source")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION(), @@log_bin")
            version, log_bin = cur.fetchone()
            cur.execute(
                "SELECT COALESCE(SUM(data_length), 0) FROM information_schema.tables "
                "WHERE table_schema = %s",
                (database,),
            )
            return SourceFacts(
                ServerFlavour.from_version(str(version)), bool(log_bin), int(cur.fetchone()[0])
            )
    finally:
        conn.close()


def gtid_for_position(source: MySQLDsn, binlog_file: str, binlog_pos: int) -> str:
    """The GTID state matching the dump's binlog coordinates (MariaDB's BINLOG_GTID_POS)."""
    if not binlog_file:
        return ""
    try:
        conn = remote.connect(source, "source")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT BINLOG_GTID_POS(%s, %s)", (binlog_file, binlog_pos))
                row = cur.fetchone()
        finally:
            conn.close()
    except Exception:
        return ""  # MySQL has no BINLOG_GTID_POS; the file/position still identify the point
    return str(row[0] or "") if row else ""


def run_backup(
    source: MySQLDsn,
    container: ContainerClient,
    options: BackupOptions,
    *,
    on_progress: ProgressCallback | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackupResult:
    started = time.monotonic()
    deadline = remote.current()
    facts = source_facts(source, options.database)
    snapshot_time = now()
    name = backup_name(snapshot_time, options.fmt)
    writer = StagedBlockWriter(container.get_blob_client(name), block_bytes=options.block_bytes)
    compressor = make_compressor(options.fmt, options.level, options.threads)
    fence = _fence_for(source, options, facts)
    try:
        dump = _stream_dump(source, options, facts, fence, writer, compressor, on_progress)
        uncompressed = dump.bytes_read
        position, gtid, exact = _recorded_position(source, facts, dump, fence)
        metadata = BackupMetadata(
            sha256=writer.sha256.hexdigest(),
            uncompressed_bytes=uncompressed,
            format=options.fmt.value,
            database=options.database,
            snapshot_time=snapshot_time.isoformat(),
            gtid_position=gtid,
            binlog_file=position.binlog_file,
            binlog_pos=position.binlog_pos,
            position_exact=str(exact).lower(),
            server=facts.flavour.value,
            source=f"{source.host}:{source.port}" if not source.unix_socket else "localhost",
        )
        if deadline is not None:
            deadline.on_blob()
        writer.commit(metadata=metadata.to_azure(), content_type=_content_type(options.fmt))
        if deadline is not None:
            deadline.committed = f"backup {name} was committed"
    finally:
        writer.close()
    entry = BackupEntry(
        name=name, size=writer.bytes_written, taken_at=snapshot_time, metadata=metadata
    )
    if deadline is not None:
        deadline.on_blob()
    write_latest_marker(container, entry)
    pruned = prune(container, now=now(), retention=options.retention)
    return BackupResult(
        name=name,
        container=container.container_name,
        format=options.fmt.value,
        compressed_bytes=writer.bytes_written,
        uncompressed_bytes=uncompressed,
        sha256=metadata.sha256,
        snapshot_time=metadata.snapshot_time,
        gtid_position=metadata.gtid_position,
        binlog_file=metadata.binlog_file,
        binlog_pos=metadata.binlog_pos,
        position_exact=metadata.position_exact == "true",
        seconds=round(time.monotonic() - started, 3),
        pruned=pruned,
    )


def _stream_dump(
    source: MySQLDsn,
    options: BackupOptions,
    facts: SourceFacts,
    fence: PositionFence | None,
    writer: StagedBlockWriter,
    compressor: Any,
    on_progress: ProgressCallback | None,
) -> DumpStream:
    """Dump → compress → staged blocks; the fence (if any) stands until the first chunk."""
    deadline = remote.current()
    with contextlib.ExitStack() as fenced:
        if fence is not None:
            fenced.enter_context(fence)
        with DumpStream(
            source, options.database, record_position=facts.log_bin, flavour=facts.flavour
        ) as dump:
            for chunk in dump.chunks():
                if fence is not None:
                    fence.snapshot_taken()  # a first MiB: the dump's snapshot exists
                if deadline is not None:
                    deadline.on_blob()  # staging a block may wait for storage
                writer.write(compressor.compress(chunk))
                if on_progress is not None:
                    on_progress(len(chunk))
                if deadline is not None:
                    deadline.on_mysql(source, "source")  # the next chunk comes from the dump
            if fence is not None:
                fence.snapshot_taken()  # a dump smaller than one chunk has ended
            writer.write(compressor.flush())
            dump.finish()  # raises before anything is committed
    return dump


def _fence_for(
    source: MySQLDsn, options: BackupOptions, facts: SourceFacts
) -> PositionFence | None:
    if not facts.log_bin:
        return None
    if options.position_method == "fence" or facts.flavour is ServerFlavour.MYSQL:
        return PositionFence(source, options.database)
    return None


def _recorded_position(
    source: MySQLDsn, facts: SourceFacts, dump: DumpStream, fence: PositionFence | None
) -> tuple[DumpPosition, str, bool]:
    """Where replay of this dump starts, its GTID state, and whether it is exact."""
    if fence is not None:
        return fence.position, fence.gtid_executed, fence.exact
    if facts.flavour is ServerFlavour.MARIADB:
        position = dump.position  # binlog_snapshot_file: inside the snapshot, exact
        gtid = gtid_for_position(source, position.binlog_file, position.binlog_pos)
        return position, gtid, bool(position.binlog_file)
    return DumpPosition(), "", False  # binary log off: no replay can start from this dump


def _content_type(fmt: BackupFormat) -> str:
    return "application/zstd" if fmt is BackupFormat.ZSTD else "application/gzip"
