"""The archiver's status blob: how far it has archived and how far behind it is.

Written every ``status_seconds`` (not every flush: each write is a billed Blob
operation), read by ``drctl exporter``. A status that stops changing means a dead
archiver, which the "archiver behind" alert catches from ``checked_at``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

STATUS_BLOB = "binlog-archiver-status.json"


@dataclass
class ArchiverStatus:
    checked_at: float  # epoch seconds
    archived_file: str
    archived_pos: int
    source_file: str
    source_pos: int
    lag_seconds: float
    last_event_time: int
    # Gaps a kept dump's replay would cross (drctl.binlog.gaps.ArchiveGap.as_dict()).
    gaps: list[dict[str, Any]] = field(default_factory=list)


def write_status(container: Any, status: ArchiverStatus) -> None:
    body = json.dumps(asdict(status)).encode()
    container.get_blob_client(STATUS_BLOB).upload_blob(body, overwrite=True)


def read_status(container: Any) -> ArchiverStatus | None:
    try:
        raw = json.loads(container.get_blob_client(STATUS_BLOB).download_blob().readall())
        return ArchiverStatus(**raw)
    except (ResourceNotFoundError, ValueError, TypeError):
        return None


def mark_gaps(container: Any, gaps: list[Any]) -> None:
    """Record ``gaps`` (ArchiveGap) for an archiver that refuses to run: the rest of the
    last status stays as it was, so its ``checked_at`` keeps ageing and the behind alert
    fires as well."""
    status = read_status(container) or ArchiverStatus(0.0, "", 0, "", 0, 0.0, 0)
    write_status(container, replace(status, gaps=[gap.as_dict() for gap in gaps]))
