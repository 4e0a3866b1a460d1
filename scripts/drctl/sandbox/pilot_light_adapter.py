"""Pilot light as the engine's ``Database``: "promotion" is a restore from the newest backup.

There is no replica to promote in seed 001's Plan B. The database that becomes the
primary is created in the emergency and loaded from Blob storage, so:
``replica_lag_seconds`` is the age of the newest backup (the data at risk),
``promote`` creates the server and restores into it (falling back past a refused
backup), and there is no reverse replication (failback is a restore back to AWS).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from drctl.binlog.archiver import ArchiverOptions, BinlogArchiver
from drctl.binlog.pitr import PitrResult, plan_pitr, run_pitr
from drctl.pilotlight.catalog import list_backups
from drctl.pilotlight.restore import RestoreOptions, RestoreResult, run_restore
from drctl.sandbox.environment import archiver_source_dsn, restore_target_dsn
from drctl.sandbox.mariadb import MariaDBServer


class PilotLightDatabase:
    def __init__(
        self,
        container: ContainerClient,
        database: str,
        make_server: Callable[[], MariaDBServer],
        failure_time: Callable[[], datetime | None],
        identifier: str = "azure-mysql-flexible",
        *,
        point_in_time: bool = False,
    ) -> None:
        self.container = container
        self.database = database
        self._make_server = make_server
        self._failure_time = failure_time
        self._identifier = identifier
        self.server: MariaDBServer | None = None
        self.result: RestoreResult | None = None
        self.point_in_time = point_in_time  # dump + archived binlog (drctl restore --to-latest)
        self.pitr: PitrResult | None = None

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
        if self.point_in_time:
            options = RestoreOptions(self.database, failure_time=self._failure_time())
            plan = plan_pitr(self.container, self.database, None)
            self.pitr = run_pitr(
                self.container, restore_target_dsn(self.server), options, plan, accept_gap=False
            )
            self.result = RestoreResult(**{**self.pitr.restore, "refused": []})
            return
        self.result = run_restore(
            self.container,
            restore_target_dsn(self.server),
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


class RegionFailed(RuntimeError):
    """The archiver's region is gone: no upload starts after the fault."""


class _RegionBoundContainer:
    """The archive container as seen from the failed region: dead after ``die``."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container
        self.alive = True

    def get_blob_client(self, name: str) -> Any:
        if not self.alive:
            raise RegionFailed("the archiver's region failed")
        return self._container.get_blob_client(name)

    def __getattr__(self, name: str) -> Any:
        if not self.alive:
            raise RegionFailed("the archiver's region failed")
        return getattr(self._container, name)


class ArchiverThread:
    """``drctl binlog-archive`` against the sandbox primary, in a thread.

    ``die`` stops it like the region's failure would, at once and before the primary
    and its app go: no upload starts after it and no final flush, so whatever it had
    mirrored but not committed is lost, exactly what the archive's RPO is about. (A die
    that waited for the thread would let the app ack writes in between, all lost.)
    """

    def __init__(
        self, primary: MariaDBServer, container: ContainerClient, spool: Path, settings: Any
    ) -> None:
        dsn = archiver_source_dsn(primary)
        self.flush_seconds = float(settings.binlog_flush_seconds)
        self._region = _RegionBoundContainer(container)
        self.archiver = BinlogArchiver(
            dsn, self._region, spool, ArchiverOptions(flush_seconds=self.flush_seconds)
        )
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="binlog-archive")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.archiver.run(should_stop=self._stop.is_set)
        except RegionFailed:
            return  # the fault itself, not an archiver error
        except Exception as exc:  # reported, not raised: the drill measures the outcome
            if not self._stop.is_set():
                self.errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")

    def die(self) -> None:
        """The region fails: nothing more reaches Blob from here. Returns at once."""
        self._region.alive = False
        self._stop.set()

    def die_and_join(self) -> None:
        self.die()
        self._thread.join(timeout=10)

    def report(self, pitr: PitrResult | None, load: Any, fault_at: float) -> dict[str, Any]:
        """Segments, replay, and the goal: lost writes ≤ one flush interval of writes."""
        window = 3.0  # the write rate just before the fault
        acked = [
            r
            for r in load.records
            if r.acked_at is not None and 0 <= fault_at - r.acked_at <= window
        ]
        rate = len(acked) / window
        return {
            "binlog_flush_seconds": self.flush_seconds,
            "binlog_segments_committed": self.archiver.segments_committed,
            "binlog_replayed_segments": pitr.replayed_segments if pitr else None,
            "binlog_last_replayed_event": pitr.last_event_time if pitr else None,
            "binlog_restore_rpo_seconds": pitr.rpo_seconds if pitr else None,
            "binlog_archiver_errors": self.errors,
            "lost_writes_goal": math.ceil(rate * self.flush_seconds) if rate else None,
            "write_rate_per_second": round(rate, 1),
        }
