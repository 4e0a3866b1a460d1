"""Azurite (blob only) on a free loopback port: the local stand-in for Azure Blob storage."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from drctl.pilotlight.storage import AZURITE_ACCOUNT, azurite_connection_string
from drctl.sandbox.paths import REPO_ROOT
from drctl.sandbox.ports import free_port, wait_for_port
from drctl.sandbox.processes import ManagedProcess, ProcessSupervisor, SupervisedServer


class AzuriteUnavailable(RuntimeError):
    """npm azurite is not installed (``make services`` installs it into .tools/)."""


def find_azurite_blob() -> str:
    candidates = [
        os.environ.get("DRCTL_AZURITE_BLOB", ""),
        str(REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"),
        shutil.which("azurite-blob") or "",
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AzuriteUnavailable("azurite-blob not found; run `make services`")


def azurite_available() -> bool:
    try:
        find_azurite_blob()
    except AzuriteUnavailable:
        return False
    return shutil.which("node") is not None


@dataclass
class AzuriteServer(SupervisedServer):
    # Azurite persists its metadata on shutdown; give it the time to.
    stop_timeout = 10.0

    supervisor: ProcessSupervisor
    location: Path
    port: int = 0
    process: ManagedProcess | None = None

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return azurite_connection_string(self.blob_endpoint)

    def start(self, timeout: float = 30.0) -> None:
        self.location.mkdir(parents=True, exist_ok=True)
        binary = find_azurite_blob()
        for _attempt in range(3):
            self.port = free_port()
            self.process = self.supervisor.start(
                "azurite",
                [
                    binary,
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    str(self.port),
                    "--location",
                    str(self.location),
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                    "--silent",
                ],
            )
            if wait_for_port(self.port, timeout) and self.process.alive():
                return
            self.supervisor.stop(self.process, timeout=5)
        tail = self.process.log_tail(15) if self.process else ""
        raise RuntimeError(f"Azurite did not start:\n{tail}")
