"""One backup run (seed 001's 5-minute job): dump → compress → staged blob → metadata → latest.

Order matters for safety: the blob is committed only after the whole dump streamed and
mariadb-dump exited cleanly with its last line written; the ``latest`` marker moves
only after the commit; pruning runs last and never touches the newest backup.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.storage.blob import ContainerClient

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight.block_upload import DEFAULT_BLOCK_BYTES, StagedBlockWriter
from drctl.pilotlight.catalog import (
    BackupEntry,
    BackupMetadata,
    backup_name,
    prune,
    write_latest_marker,
)
from drctl.pilotlight.dump_stream import DumpStream
from drctl.pilotlight.formats import BackupFormat, make_compressor

ProgressCallback = Callable[[int], None]


@dataclass
class BackupOptions:
    database: str
    fmt: BackupFormat = BackupFormat.ZSTD
    level: int | None = None
    threads: int = 2
    retention: timedelta = timedelta(days=14)  # seed 003's standard
    block_bytes: int = DEFAULT_BLOCK_BYTES


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
    seconds: float
    pruned: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def source_facts(source: MySQLDsn, database: str) -> tuple[bool, int]:
    """(binary log on?, estimated bytes): decides --master-data and sizes the progress bar."""
    conn = source.connect(database="")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@log_bin")
            log_bin = bool(cur.fetchone()[0])
            cur.execute(
                "SELECT COALESCE(SUM(data_length), 0) FROM information_schema.tables "
                "WHERE table_schema = %s",
                (database,),
            )
            estimate = int(cur.fetchone()[0])
    finally:
        conn.close()
    return log_bin, estimate


def gtid_for_position(source: MySQLDsn, binlog_file: str, binlog_pos: int) -> str:
    """The GTID state matching the dump's binlog coordinates (MariaDB's BINLOG_GTID_POS)."""
    if not binlog_file:
        return ""
    try:
        conn = source.connect(database="")
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
    log_bin, _estimate = source_facts(source, options.database)
    snapshot_time = now()
    name = backup_name(snapshot_time, options.fmt)
    writer = StagedBlockWriter(container.get_blob_client(name), block_bytes=options.block_bytes)
    compressor = make_compressor(options.fmt, options.level, options.threads)
    try:
        with DumpStream(source, options.database, record_position=log_bin) as dump:
            for chunk in dump.chunks():
                writer.write(compressor.compress(chunk))
                if on_progress is not None:
                    on_progress(len(chunk))
            writer.write(compressor.flush())
            dump.finish()  # raises before anything is committed
            position = dump.position
            uncompressed = dump.bytes_read
        metadata = BackupMetadata(
            sha256=writer.sha256.hexdigest(),
            uncompressed_bytes=uncompressed,
            format=options.fmt.value,
            database=options.database,
            snapshot_time=snapshot_time.isoformat(),
            gtid_position=gtid_for_position(source, position.binlog_file, position.binlog_pos),
            binlog_file=position.binlog_file,
            binlog_pos=position.binlog_pos,
            source=f"{source.host}:{source.port}" if not source.unix_socket else "localhost",
        )
        writer.commit(metadata=metadata.to_azure(), content_type=_content_type(options.fmt))
    finally:
        writer.close()
    entry = BackupEntry(
        name=name, size=writer.bytes_written, taken_at=snapshot_time, metadata=metadata
    )
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
        seconds=round(time.monotonic() - started, 3),
        pruned=pruned,
    )


def _content_type(fmt: BackupFormat) -> str:
    return "application/zstd" if fmt is BackupFormat.ZSTD else "application/gzip"
