"""`drctl restore --to-time T` means the instant T, whatever UTC offset writes it.

One instant, written three ways (+09:00 as an operator in Seoul would, Z, and -05:00),
restored through the command line into real MariaDB from a real Azurite archive: the
same rows every time, exactly the rows written before T, and the output names T in UTC.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.mariadb import MariaDBServer

from .test_binlog_pitr import _dump_then_writes, _owner_ids

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]

SEOUL = timezone(timedelta(hours=9))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def _spellings(instant: datetime) -> dict[str, str]:
    return {
        "+09:00": instant.astimezone(SEOUL).isoformat(),
        "Z": instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "-05:00": instant.astimezone(NEW_YORK_WINTER).isoformat(),
    }


def _restore_cli(azurite: AzuriteServer, container: ContainerClient, target: str, when: str):
    return subprocess.run(
        [
            *(sys.executable, "-m", "drctl.pilotlight", "restore", "--to-time", when),
            *("--yes", "--json", "--no-verify", "--container", container.container_name),
        ],
        env={
            **os.environ,
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "DRCTL_TARGET_DSN": target,
        },
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_one_instant_in_three_offsets_restores_the_same_rows(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
    tmp_path: Path,
) -> None:
    stop_at, at_t = _dump_then_writes(source_db, container, database_name, tmp_path)
    target = target_db.master_dsn(database_name).url()
    utc = stop_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    wrong: dict[str, str] = {}
    for offset, written in _spellings(stop_at).items():
        done = _restore_cli(azurite, container, target, written)
        assert done.returncode == 0, (offset, done.stderr)
        ids = _owner_ids(target_db, database_name)
        if not set(range(100, 120)) <= ids:
            wrong[offset] = "rows written before T are missing"
        elif ids & set(range(200, 220)):
            wrong[offset] = "rows written after T are present"
        elif fingerprints(target_db.master_dsn(), database_name) != at_t:
            wrong[offset] = "the tables differ from the source at T"
        elif json.loads(done.stdout).get("point_in_time") != utc:
            # The output states the instant in UTC, whichever offset wrote it.
            wrong[offset] = f"the output does not name T as {utc}"
    assert wrong == {}
