"""Restore the newest good backup into a MySQL/MariaDB server, refusing anything suspect.

The stream goes blob → sha256 → decompress → ``mariadb`` client into a *staging*
database, never straight into the target: the checksum is only known once the last
byte has arrived, and by then a corrupt backup would already have half-overwritten the
target. Only a backup that passed every check (sha256 from the metadata, the format's
own checksum, the dump's final line, the client's exit status) is swapped in with one
atomic ``RENAME TABLE``. A refused backup leaves the target exactly as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from drctl.failures import tool_stderr
from drctl.mysql_dsn import MySQLDsn, client_defaults_file
from drctl.pilotlight import remote
from drctl.pilotlight.blob_sdk import ContainerClient
from drctl.pilotlight.catalog import BackupEntry, list_backups
from drctl.pilotlight.dump_options import ServerFlavour, client_binary
from drctl.pilotlight.formats import BackupFormat, make_decompressor
from drctl.pilotlight.schema_objects import DefinerFilter
from drctl.pilotlight.swap import swap_into_place
from drctl.pilotlight.verify import (
    SchemaPrint,
    differences,
    object_differences,
    schema_print,
)

ProgressCallback = Callable[[int], None]
_COMPLETED_MARKER = b"-- Dump completed"
_F_SETPIPE_SZ = 1031
_SLICE = 256 << 10


class BackupRefused(RuntimeError):
    """No acceptable backup; the message names each refused blob and why."""

    def __init__(self, message: str, refusals: list[Refusal]) -> None:
        super().__init__(message)
        self.refusals = refusals


class IntegrityError(Exception):
    """One backup failed a check; the message is the reason shown to the user."""


@dataclass
class Refusal:
    name: str
    reason: str


@dataclass
class RestoreOptions:
    database: str
    backup_name: str | None = None
    fallback: bool = False
    failure_time: datetime | None = None
    verify: bool = True
    source: MySQLDsn | None = None  # compared with when reachable


@dataclass
class RestoreResult:
    backup: dict[str, Any]
    target: str
    database: str
    compressed_bytes: int
    uncompressed_bytes: int
    seconds: float
    restore_point: str
    failure_time: str
    rpo_seconds: float
    refused: list[Refusal] = field(default_factory=list)
    fallback_used: bool = False
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: list[str] = field(default_factory=list)  # views, routines, triggers, events
    definers_rewritten: int = 0  # DEFINER clauses dropped: the restoring user owns them
    source_check: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["refused"] = [refusal.__dict__ for refusal in self.refused]
        return data


def candidates(container: ContainerClient, backup_name: str | None) -> list[BackupEntry]:
    entries = list_backups(container)
    if backup_name is None:
        return entries
    chosen = [entry for entry in entries if entry.name == backup_name]
    if not chosen:
        raise BackupRefused(
            f"--backup {backup_name}: no such committed backup in {container.container_name}",
            [],
        )
    # With --fallback, older backups remain candidates after the chosen one.
    return chosen + [entry for entry in entries if entry.name < backup_name]


def plan(container: ContainerClient, options: RestoreOptions) -> list[BackupEntry]:
    """The backups a restore would try, in order (for --dry-run and the real run)."""
    found = candidates(container, options.backup_name)
    if not found:
        raise BackupRefused(f"no backups in container {container.container_name}", [])
    return found if options.fallback else found[:1]


def run_restore(
    container: ContainerClient,
    target: MySQLDsn,
    options: RestoreOptions,
    *,
    on_progress: ProgressCallback | None = None,
    on_refusal: Callable[[Refusal], None] | None = None,
) -> RestoreResult:
    started = time.monotonic()
    failure_time = options.failure_time or datetime.now(UTC)
    tried = plan(container, options)
    all_found = candidates(container, options.backup_name)
    refusals: list[Refusal] = []
    staging = f"{options.database}__drctl_staging"
    for entry in tried:
        definers = DefinerFilter()
        try:
            compressed, uncompressed = stream_into_staging(
                container, entry, target, staging, on_progress=on_progress, definers=definers
            )
        except IntegrityError as exc:
            refusal = Refusal(entry.name, str(exc))
            refusals.append(refusal)
            _drop_database(target, staging)
            if on_refusal is not None:
                on_refusal(refusal)
            continue
        except BaseException:
            _drop_database(target, staging)
            raise
        try:
            swap_into_place(target, staging, options.database)
        finally:
            _drop_database(target, staging)
        deadline = remote.current()
        if deadline is not None:
            deadline.committed = f"database {options.database} now holds {entry.name}"
        restore_point = entry.restore_point
        result = RestoreResult(
            backup=entry.summary(),
            target=target.redacted(),
            database=options.database,
            compressed_bytes=compressed,
            uncompressed_bytes=uncompressed,
            seconds=0.0,
            restore_point=restore_point.isoformat(),
            failure_time=failure_time.isoformat(),
            rpo_seconds=round((failure_time - restore_point).total_seconds(), 3),
            refused=refusals,
            fallback_used=bool(refusals),
            definers_rewritten=definers.rewritten,
        )
        if options.verify:
            _verify(result, target, options)
        result.seconds = round(time.monotonic() - started, 3)
        return result
    raise BackupRefused(_refusal_message(refusals, all_found, options), refusals)


def _refusal_message(
    refusals: list[Refusal], found: list[BackupEntry], options: RestoreOptions
) -> str:
    lines = [f"refused {r.name}: {r.reason}" for r in refusals]
    lines.append("the target database was not changed")
    if not options.fallback:
        older = [entry.name for entry in found if entry.name not in {r.name for r in refusals}]
        if older:
            lines.append(f"rerun with --fallback to restore the previous backup ({older[0]})")
    else:
        lines.append("no older backup passed its checks")
    return "; ".join(lines)


def _verify(result: RestoreResult, target: MySQLDsn, options: RestoreOptions) -> None:
    restored = schema_print(target, options.database, role="target")
    result.tables = {name: fp.as_dict() for name, fp in restored.tables.items()}
    result.objects = sorted(restored.objects)
    if options.source is None:
        return
    try:
        source: SchemaPrint = schema_print(options.source, options.database, role="source")
    except Exception as exc:
        # The usual case in a real disaster: the source region is gone.
        result.source_check = {"reachable": False, "error": type(exc).__name__}
        return
    problems = differences(restored.tables, source.tables)
    problems += object_differences(restored.objects, source.objects)
    result.source_check = {"reachable": True, "matches": not problems, "differences": problems}


def stream_into_staging(
    container: ContainerClient,
    entry: BackupEntry,
    target: MySQLDsn,
    staging: str,
    *,
    on_progress: ProgressCallback | None = None,
    definers: DefinerFilter | None = None,
) -> tuple[int, int]:
    """Load one backup into ``staging``; raise IntegrityError when any check fails."""
    definers = definers or DefinerFilter()
    try:
        fmt = BackupFormat.from_blob_name(entry.name)
    except ValueError as exc:
        raise IntegrityError(str(exc)) from None
    expected_sha = entry.metadata.sha256
    if not expected_sha and fmt is not BackupFormat.GZIP:
        raise IntegrityError("no sha256 in its metadata (partial or foreign upload)")
    _drop_database(target, staging)
    flavour = _execute(target, f"CREATE DATABASE `{staging}`")
    deadline = remote.current()
    digest = hashlib.sha256()
    decompressor = make_decompressor(fmt)
    compressed = uncompressed = 0
    tail = b""
    with (
        client_defaults_file(target) as defaults,
        _ClientProcess(defaults, staging, flavour) as client,
    ):
        try:
            for chunk in _prefetch(container, entry.name):
                if deadline is not None:
                    deadline.on_mysql(target, "target")  # the client may be what blocks
                digest.update(chunk)
                compressed += len(chunk)
                view = memoryview(chunk)
                # Small slices bound each decompressed piece (ratio × slice), whatever
                # the download chunk size: memory stays flat as backups grow.
                for start in range(0, len(view), _SLICE):
                    try:
                        data = decompressor.decompress(view[start : start + _SLICE])
                    except Exception as exc:
                        raise IntegrityError(f"corrupt {fmt.value} data: {exc}") from None
                    if data:
                        uncompressed += len(data)
                        tail = (tail + data[-512:])[-512:]
                        client.write(definers.feed(data))
                if deadline is not None:
                    deadline.on_blob()  # the next chunk comes from storage
                if on_progress is not None:
                    on_progress(len(chunk))
            client.write(definers.flush())
        except BrokenPipeError:
            raise IntegrityError(f"the mysql client stopped: {client.error()}") from None
        # Checks that need the whole stream; the staging database is discarded if any fails.
        if expected_sha and digest.hexdigest() != expected_sha:
            raise IntegrityError(
                f"sha256 mismatch (metadata {expected_sha[:12]}…, blob {digest.hexdigest()[:12]}…)"
            )
        if not decompressor.eof:
            raise IntegrityError(f"truncated {fmt.value} stream (partial upload)")
        if _COMPLETED_MARKER not in tail:
            raise IntegrityError("the dump inside ends before '-- Dump completed' (partial dump)")
        status = client.finish()
        if status != 0:
            raise IntegrityError(f"the mysql client failed ({status}): {client.error()}")
    return compressed, uncompressed


def _prefetch(container: ContainerClient, name: str) -> Iterator[bytes]:
    """Download on a thread, so network waits overlap decompression and the server's work.

    One chunk waits in the queue (and one more in the downloader's hand): the restore
    is bound by the server's inserts, a 4 MiB chunk takes far longer to load than to
    download, and each extra queued chunk was 4 MiB of peak RSS (maxsize 3: +8 MB).
    """
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def download() -> None:
        try:
            stream = container.get_blob_client(name).download_blob(max_concurrency=1)
            for chunk in stream.chunks():
                if stop.is_set():
                    return
                chunks.put(chunk)
            chunks.put(None)
        except BaseException as exc:
            chunks.put(exc)

    worker = threading.Thread(target=download, daemon=True, name="download")
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                chunks.get_nowait()


class _ClientProcess:
    """``mysql``/``mariadb`` reading SQL on stdin; killed (not left running) if the restore aborts."""

    def __init__(self, defaults: Any, database: str, flavour: ServerFlavour) -> None:
        self.argv = [
            client_binary(flavour),
            f"--defaults-extra-file={defaults}",
            "--binary-mode",
            "--batch",
            "--default-character-set=utf8mb4",
            database,
        ]
        self._stderr = b""
        self._finished = False

    def __enter__(self) -> _ClientProcess:
        self.process = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert self.process.stdin is not None and self.process.stderr is not None
        with contextlib.suppress(OSError):
            fcntl.fcntl(self.process.stdin.fileno(), _F_SETPIPE_SZ, 1 << 20)
        self._stderr_thread = threading.Thread(
            target=self._read_stderr, args=(self.process.stderr,), daemon=True
        )
        self._stderr_thread.start()
        return self

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for line in stream:
            self._stderr = (self._stderr + line)[-2000:]

    def write(self, data: bytes | memoryview) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def finish(self) -> int:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        status = self.process.wait()
        self._stderr_thread.join(timeout=5)
        self._finished = True
        return status

    def error(self) -> str:
        self._stderr_thread.join(timeout=2)
        return tool_stderr(self._stderr)

    def __exit__(self, *exc: object) -> None:
        if not self._finished:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(BrokenPipeError, OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()


def _execute(target: MySQLDsn, statement: str) -> ServerFlavour:
    """Run one statement; returns the server's flavour (it picks the client binary)."""
    conn = remote.connect(target, "target")
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            cur.execute("SELECT VERSION()")
            return ServerFlavour.from_version(str(cur.fetchone()[0]))
    finally:
        conn.close()


def _drop_database(target: MySQLDsn, name: str) -> None:
    # Best effort, on the way out of a failure: must not hide the original error.
    with contextlib.suppress(Exception):
        _execute(target, f"DROP DATABASE IF EXISTS `{name}`")
