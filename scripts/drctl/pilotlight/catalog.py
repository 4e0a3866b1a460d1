"""The backup container's layout: blob names, their metadata, the ``latest`` marker, retention.

Names are ``backup_<UTC timestamp>.sql.<zst|gz>`` with a fixed-width timestamp, so the
lexical order is the time order. Metadata (all strings, as Azure requires) carries what
a restore needs to trust a blob without trusting the storage: the sha256 of the blob's
bytes, the uncompressed size, the format, and the source's GTID/binlog position.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from drctl.pilotlight.blob_sdk import ContainerClient
from drctl.pilotlight.formats import BackupFormat

LATEST_MARKER = "latest"
_NAME = re.compile(r"^backup_(\d{8}T\d{6}(?:\.\d{3})?)Z\.sql\.(zst|gz)$")
_STAMP = "%Y%m%dT%H%M%S"


def backup_name(when: datetime, fmt: BackupFormat) -> str:
    when = when.astimezone(UTC)
    stamp = when.strftime(_STAMP) + f".{when.microsecond // 1000:03d}"
    return f"backup_{stamp}Z.sql.{fmt.extension}"


def parse_backup_time(name: str) -> datetime | None:
    match = _NAME.match(name)
    if not match:
        return None
    stamp = match.group(1)
    base, _, millis = stamp.partition(".")
    parsed = datetime.strptime(base, _STAMP).replace(tzinfo=UTC)
    return parsed + timedelta(milliseconds=int(millis or 0))


@dataclass
class BackupMetadata:
    """What drctl stores on every backup blob (Azure metadata: str → str)."""

    sha256: str = ""
    uncompressed_bytes: int = 0
    format: str = ""
    database: str = ""
    snapshot_time: str = ""  # ISO-8601 UTC: when the dump's consistent snapshot was taken
    gtid_position: str = ""
    binlog_file: str = ""
    binlog_pos: int = 0
    source: str = ""  # host:port only, never credentials
    tool: str = "drctl"
    # "true": the position is the snapshot's own (MariaDB) or read under the table fence
    # (MySQL/RDS, position_fence). "false": not tied to the snapshot (the fence was
    # released by its timer, or a dump taken before the fence existed).
    position_exact: str = ""
    server: str = ""  # mysql | mariadb: the source's flavour

    def to_azure(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}

    @classmethod
    def from_azure(cls, raw: dict[str, str] | None) -> BackupMetadata:
        raw = {k.lower(): v for k, v in (raw or {}).items()}
        return cls(
            sha256=raw.get("sha256", ""),
            uncompressed_bytes=int(raw.get("uncompressed_bytes", "0") or 0),
            format=raw.get("format", ""),
            database=raw.get("database", ""),
            snapshot_time=raw.get("snapshot_time", ""),
            gtid_position=raw.get("gtid_position", ""),
            binlog_file=raw.get("binlog_file", ""),
            binlog_pos=int(raw.get("binlog_pos", "0") or 0),
            source=raw.get("source", ""),
            tool=raw.get("tool", ""),
            position_exact=raw.get("position_exact", ""),
            server=raw.get("server", ""),
        )


@dataclass
class BackupEntry:
    name: str
    size: int
    taken_at: datetime
    metadata: BackupMetadata = field(default_factory=BackupMetadata)

    @property
    def restore_point(self) -> datetime:
        """The consistent snapshot time, or the name's time for blobs without metadata."""
        if self.metadata.snapshot_time:
            return datetime.fromisoformat(self.metadata.snapshot_time)
        return self.taken_at

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "restore_point": self.restore_point.isoformat(),
            "sha256": self.metadata.sha256 or None,
            "format": self.metadata.format or BackupFormat.from_blob_name(self.name).value,
            "uncompressed_bytes": self.metadata.uncompressed_bytes or None,
            "gtid_position": self.metadata.gtid_position or None,
        }


def list_backups(container: ContainerClient) -> list[BackupEntry]:
    """Committed backups, newest first. Uncommitted (in-flight or aborted) uploads never appear."""
    entries = []
    for blob in container.list_blobs(name_starts_with="backup_", include=["metadata"]):
        taken_at = parse_backup_time(blob.name)
        if taken_at is None:
            continue
        entries.append(
            BackupEntry(
                name=blob.name,
                size=int(blob.size or 0),
                taken_at=taken_at,
                metadata=BackupMetadata.from_azure(blob.metadata),
            )
        )
    return sorted(entries, key=lambda entry: entry.name, reverse=True)


def read_latest_marker(container: ContainerClient) -> dict[str, Any] | None:
    try:
        data = container.get_blob_client(LATEST_MARKER).download_blob().readall()
    except ResourceNotFoundError:
        return None
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def write_latest_marker(container: ContainerClient, entry: BackupEntry) -> None:
    """Moved last, after the blob is committed: it only ever names a complete backup."""
    body = json.dumps(entry.summary(), indent=2).encode()
    container.get_blob_client(LATEST_MARKER).upload_blob(body, overwrite=True)


def expired_backups(
    entries: list[BackupEntry], *, now: datetime, retention: timedelta, keep_names: set[str]
) -> list[BackupEntry]:
    """Older than the retention, except the newest backup and anything in ``keep_names``."""
    if not entries:
        return []
    newest = max(entries, key=lambda entry: entry.name)
    cutoff = now - retention
    return [
        entry
        for entry in entries
        if entry.taken_at < cutoff and entry.name != newest.name and entry.name not in keep_names
    ]


def prune(
    container: ContainerClient, *, now: datetime, retention: timedelta, dry_run: bool = False
) -> list[str]:
    marker = read_latest_marker(container) or {}
    keep = {str(marker.get("name", ""))}
    doomed = expired_backups(list_backups(container), now=now, retention=retention, keep_names=keep)
    if not dry_run:
        for entry in doomed:
            container.delete_blob(entry.name)
    return [entry.name for entry in doomed]
