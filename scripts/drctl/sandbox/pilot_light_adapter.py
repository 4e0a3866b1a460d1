"""Pilot light as the engine's ``Database``: "promotion" is seed 001's phases 2 and 3.

There is no replica to promote in seed 001's Plan B. The database that becomes the
primary is created in the emergency and loaded from Blob storage, so:
``replica_lag_seconds`` is the age of the newest backup (the data at risk);
``promote`` creates the server (phase 2, ``emergency: true``: root plays Azure's control
plane) and starts the restore job (phase 3, ``run_restore: true``), which is production's
own container command line (``components.azure_restore_job.restore_command``), run as a
subprocess against the sandbox's "Azure" server; ``wait_promoted`` waits for that job.
There is no reverse replication (failback is a restore back to AWS).

The binlog archiver runs the same way: the archiver Deployment's command line, as a
subprocess, SIGKILLed when its region fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from drctl.binlog.segments import list_segments
from drctl.pilotlight.catalog import list_backups
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.processes import ManagedProcess, ProcessSupervisor
from drctl.sandbox.production_jobs import JobFailed, JobRun, JobSpec, kill_group

RestoreJobFactory = Callable[[MariaDBServer], JobSpec]


def _seconds_before(when: datetime | None, iso: str | None) -> float | None:
    if when is None or not iso:
        return None
    return round(max(0.0, (when - datetime.fromisoformat(iso)).total_seconds()), 3)


class PilotLightDatabase:
    def __init__(
        self,
        container: ContainerClient,
        make_server: Callable[[], MariaDBServer],
        restore_job: RestoreJobFactory,
        failure_time: Callable[[], datetime | None],
        log_dir: Path,
        identifier: str = "azure-mysql-flexible",
    ) -> None:
        self.container = container
        self._make_server = make_server
        self._restore_job = restore_job
        self._failure_time = failure_time
        self._log_dir = log_dir
        self._identifier = identifier
        self.server: MariaDBServer | None = None
        self.job: JobRun | None = None
        self.spec: JobSpec | None = None
        self.outcome: dict[str, Any] | None = None  # the job's --json result

    @property
    def identifier(self) -> str:
        return self._identifier

    def replica_lag_seconds(self) -> float | None:
        if self.outcome is not None:
            return 0.0
        backups = list_backups(self.container)
        if not backups:
            return None
        return (datetime.now(UTC) - backups[0].restore_point).total_seconds()

    def is_promoted(self) -> bool:
        return self.outcome is not None

    def promote(self) -> None:
        if self.outcome is not None or self.job is not None:
            return  # restored, or the job runs (ACI runs a group once)
        if self.server is None:
            self.server = self._make_server()  # seed 001 phase 2: create the Flexible Server
        self.spec = self._restore_job(self.server)
        self.job = JobRun(self.spec, self._log_dir)  # phase 3: the restore job

    def wait_promoted(self, timeout_seconds: float) -> None:
        if self.outcome is not None:
            return
        if self.job is None:
            raise RuntimeError(f"{self.identifier}: no restore job was started")
        try:
            self.outcome = self.job.wait(timeout_seconds).result()
        except JobFailed as exc:
            raise RuntimeError(f"{self.identifier}: the restore job failed: {exc}") from None

    # --- what the job reported, for the drill's notes ----------------------------

    def restored(self) -> dict[str, Any] | None:
        """The dump part: point-in-time restores nest it under ``restore``."""
        if self.outcome is None:
            return None
        nested = self.outcome.get("restore")
        return nested if isinstance(nested, dict) else self.outcome

    def restore_point_rpo_seconds(self) -> float | None:
        point = (self.restored() or {}).get("restore_point")
        return _seconds_before(self._failure_time(), point)

    def replay_rpo_seconds(self) -> float | None:
        """Fault time minus the last replayed binlog event (whole seconds in a binlog)."""
        last = (self.outcome or {}).get("last_event_time")
        return _seconds_before(self._failure_time(), last)

    def start_reverse_replication(self) -> None:
        raise NotImplementedError(
            "pilot-light failback is a dump/restore back to AWS (seed 001 restore-from-azure)"
        )

    def reverse_replica(self) -> PilotLightDatabase:
        raise NotImplementedError("pilot light has no reverse replica")


class ArchiverProcess:
    """The binlog archiver Deployment's container, as a subprocess of the sandbox.

    ``die`` is the region's failure: SIGKILL at the fault, before the primary and its
    app go, so no upload starts after it and there is no final flush. Whatever it had
    mirrored but not committed is lost, exactly what the archive's RPO is about.
    """

    def __init__(
        self,
        supervisor: ProcessSupervisor,
        spec: JobSpec,
        container: ContainerClient,
        flush_seconds: float,
    ) -> None:
        self._supervisor = supervisor
        self.spec = spec
        self._container = container
        self.flush_seconds = flush_seconds
        self.child: ManagedProcess | None = None
        self.errors: list[str] = []

    def start(self) -> None:
        for path in self.spec.mounts.values():
            path.mkdir(parents=True, exist_ok=True)
        self.child = self._supervisor.start(
            self.spec.name, self.spec.host_argv(), env=self.spec.host_env()
        )

    def die(self) -> None:
        """The region fails: SIGKILL, nothing more reaches Blob from here. Returns at once
        (reaping waits for ``die_and_join``: the app must not ack writes in between)."""
        if self.child is None:
            return
        if not self.child.alive():
            # It stopped before the fault: an archiver failure, not the fault.
            tail = self.child.log_tail(1)[:160]
            self.errors.append(f"exited {self.child.popen.returncode} before the fault: {tail}")
        kill_group(self.child.pid)

    def die_and_join(self) -> None:
        if self.child is not None:
            self._supervisor.kill(self.child)

    def report(self, pilot: PilotLightDatabase, load: Any, fault_at: float) -> dict[str, Any]:
        """Segments, replay, and the goal: lost writes ≤ one flush interval of writes."""
        window = 3.0  # the write rate just before the fault
        acked = [
            r
            for r in load.records
            if r.acked_at is not None and 0 <= fault_at - r.acked_at <= window
        ]
        rate = len(acked) / window
        outcome = pilot.outcome or {}
        return {
            "binlog_flush_seconds": self.flush_seconds,
            # Counted in the archive: what the killed process committed before the fault.
            "binlog_segments_committed": len(list_segments(self._container)),
            "binlog_replayed_segments": outcome.get("replayed_segments"),
            "binlog_last_replayed_event": outcome.get("last_event_time"),
            "binlog_restore_rpo_seconds": pilot.replay_rpo_seconds(),
            "binlog_archiver_errors": self.errors,
            "lost_writes_goal": math.ceil(rate * self.flush_seconds) if rate else None,
            "write_rate_per_second": round(rate, 1),
        }
