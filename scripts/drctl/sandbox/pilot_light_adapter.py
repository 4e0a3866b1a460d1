"""Pilot light as the engine's ``Database``: "promotion" is a restore from the newest backup.

There is no replica to promote in seed 001's Plan B. The database that becomes the
primary is created in the emergency and loaded from Blob storage, so:
``replica_lag_seconds`` is the age of the newest backup (the data at risk),
``promote`` creates the server and restores into it (falling back past a refused
backup), and there is no reverse replication (failback is a restore back to AWS).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from azure.storage.blob import ContainerClient

from drctl.pilotlight.catalog import list_backups
from drctl.pilotlight.restore import RestoreOptions, RestoreResult, run_restore
from drctl.sandbox.mariadb import MariaDBServer


class PilotLightDatabase:
    def __init__(
        self,
        container: ContainerClient,
        database: str,
        make_server: Callable[[], MariaDBServer],
        failure_time: Callable[[], datetime | None],
        identifier: str = "azure-mysql-flexible",
    ) -> None:
        self.container = container
        self.database = database
        self._make_server = make_server
        self._failure_time = failure_time
        self._identifier = identifier
        self.server: MariaDBServer | None = None
        self.result: RestoreResult | None = None

    @property
    def identifier(self) -> str:
        return self._identifier

    def replica_lag_seconds(self) -> float | None:
        if self.result is not None:
            return 0.0
        backups = list_backups(self.container)
        if not backups:
            return None
        return (datetime.now(UTC) - backups[0].restore_point).total_seconds()

    def is_promoted(self) -> bool:
        return self.result is not None

    def promote(self) -> None:
        if self.result is not None:
            return
        if self.server is None:
            self.server = self._make_server()  # seed 001 phase 2: create the Flexible Server
        self.result = run_restore(
            self.container,
            self.server.app_dsn(),
            RestoreOptions(self.database, fallback=True, failure_time=self._failure_time()),
        )

    def wait_promoted(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while not self.is_promoted():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.identifier}: restore not finished")
            time.sleep(0.1)

    def start_reverse_replication(self) -> None:
        raise NotImplementedError(
            "pilot-light failback is a dump/restore back to AWS (seed 001 restore-from-azure)"
        )

    def reverse_replica(self) -> PilotLightDatabase:
        raise NotImplementedError("pilot light has no reverse replica")
