"""The archive loop touches its heartbeat file (the Deployment's liveness probe reads it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.sandbox.mariadb import MariaDBServer

from .binlog_support import archiving

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]


def test_heartbeat_keeps_fresh_while_archiving(
    source_db: MariaDBServer, container: ContainerClient, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "alive"
    with archiving(source_db, container, tmp_path / "spool", heartbeat_file=heartbeat):
        deadline = time.monotonic() + 10
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        first = heartbeat.stat().st_mtime
        time.sleep(1.2)
        assert heartbeat.stat().st_mtime > first
    assert time.time() - heartbeat.stat().st_mtime < 5
