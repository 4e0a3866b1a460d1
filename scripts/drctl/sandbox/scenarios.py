"""The drill's scenarios (seed 002 §8, plus seed 001's pilot light), each measured.

Every scenario injects one fault under a running write load and measures:
- RTO: from the fault to the first write acknowledged by the new primary;
- RPO: acknowledged writes missing from the database that serves afterwards, and how
  far back in time the oldest of them was acknowledged.
Recovery goes through the failover engine's own steps (``drctl.failover``) with the
sandbox adapters; only detection (the sandbox's probe) and the app restart of the
app-failure scenario happen outside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from drctl.failover.runner import run_steps
from drctl.failover.state import RunState
from drctl.failover.steps import FailoverContext, failback_steps, failover_steps
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.catalog import list_backups
from drctl.report import SERVICE_RESTORED
from drctl.sandbox.app_adapters import AppHealthProbe, FailoverRouting, SandboxScaler
from drctl.sandbox.app_process import DATABASE, AppProcess
from drctl.sandbox.environment import SandboxEnvironment, WarmStandby, backup_source_dsn
from drctl.sandbox.loadgen import LossReport, WriteLoad, count_losses
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.mariadb_adapter import MariaDbDatabase
from drctl.sandbox.pilot_light_adapter import ArchiverThread, PilotLightDatabase
from drctl.timeline import (
    DETECTION,
    SCALE_DEPLOYMENTS,
    STATUS_FAILED,
    Timeline,
    from_iso,
    to_iso,
)

PROBE_INTERVAL = 0.2  # the sandbox's stand-in for Route 53's 10 s interval
PROBE_THRESHOLD = 3  # same failure threshold as the stacks' health checks
STEP_TIMEOUT = 30.0
PRIMARY_TIMEOUT = 2.0  # how long the failover may look at a dark Seoul, after acting

SCENARIOS = (
    "app-failure",
    "db-failure",
    "region-failure",
    "failback",
    "region-dark",
    "pilot-light",
    "planned-switchover",
    "pilot-light-dump-only",
)
TITLES = {
    "app-failure": "기본 리전 애플리케이션 장애 (primary app fails)",
    "db-failure": "기본 리전 데이터베이스 장애 (primary DB fails → promote Tokyo)",
    "region-failure": "전체 기본 리전 장애 (Seoul region fails → warm standby Tokyo)",
    "failback": "기본 리전으로 장애 복구 (failback Tokyo → Seoul)",
    "region-dark": "기본 리전 API 포함 전체 불통 (Seoul dark, its AWS APIs too → Tokyo)",
    "pilot-light": "Pilot light (Seoul fails → restore dump + archived binlog into Azure)",
    "planned-switchover": "계획된 전환 (planned switchover Seoul → Tokyo, RPO 0)",
    "pilot-light-dump-only": "Pilot light, dumps only (Seoul fails → restore the newest dump)",
}
STACK_OF = {
    "app-failure": "tokyo",
    "db-failure": "tokyo",
    "region-failure": "tokyo",
    "failback": "tokyo",
    "region-dark": "tokyo",
    "pilot-light": "azure-pilot",
    "planned-switchover": "tokyo",
    "pilot-light-dump-only": "azure-pilot",
}


@dataclass
class ScenarioResult:
    key: str
    run: int
    rto_seconds: float | None
    detection_seconds: float | None
    loss: LossReport | None
    timeline: Timeline
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    load: WriteLoad | None = field(default=None, repr=False)  # the ledger, for checks

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def stack(self) -> str:
        return STACK_OF[self.key]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.key,
            "title": self.title,
            "run": self.run,
            "stack": self.stack,
            "rto_seconds": self.rto_seconds,
            "detection_seconds": self.detection_seconds,
            "acknowledged_writes": self.loss.acknowledged if self.loss else None,
            "lost_writes": self.loss.lost if self.loss else None,
            "rpo_seconds": self.loss.rpo_seconds if self.loss else None,
            "loss": self.loss.as_dict() if self.loss else None,
            "error": self.error,
            "notes": self.notes,
            **self.extra,
        }


@dataclass
class ScenarioSettings:
    state_dir: Path
    outputs_path: Path
    run: int = 1
    warmup_seconds: float = 1.0
    backup_interval: float = 3.0
    binlog_flush_seconds: float = 1.0  # the sandbox's backup.binlog_flush_seconds (5 s)
    say: Callable[[str], None] = print
    # (stack, fault_at, timeline, failover=) -> detection time; None: the probe loop.
    # The drill sets it to Prometheus/Alertmanager detection (alert_detection.py).
    detector: Callable[..., float] | None = None
    # (stack) -> None once that detector can decide (it has seen the standby's lag);
    # called before the fault, so a slow monitoring start cannot make the guard blind.
    armed: Callable[[str], None] | None = None


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _new_timeline(key: str, kind: str) -> Timeline:
    return Timeline(name=f"sandbox {key}", meta={"kind": kind, "sandbox": True})


def _warm_up(load: WriteLoad, seconds: float) -> None:
    deadline = time.monotonic() + max(seconds, 0.2) + 10
    time.sleep(seconds)
    while not load.acknowledged() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not load.acknowledged():
        raise RuntimeError("the write load got no acknowledgement before the fault")


def _detect(
    healthy: Callable[[], bool],
    timeline: Timeline,
    fault_at: float,
    settings: ScenarioSettings | None = None,
    stack: str = "tokyo",
    failover: bool = True,
) -> float:
    """The sandbox's alarm: PROBE_THRESHOLD failed probes in a row, PROBE_INTERVAL apart,
    unless the drill runs a real monitoring stack (``settings.detector``)."""
    if settings is not None and settings.detector is not None:
        return settings.detector(stack, fault_at, timeline, failover=failover)
    failures = 0
    deadline = time.monotonic() + STEP_TIMEOUT
    while failures < PROBE_THRESHOLD:
        if time.monotonic() > deadline:
            raise RuntimeError("the fault was never detected")
        failures = 0 if healthy() else failures + 1
        if failures < PROBE_THRESHOLD:
            time.sleep(PROBE_INTERVAL)
    detected = time.time()
    timeline.record(
        DETECTION,
        _at(fault_at),
        _at(detected),
        detail=f"sandbox probe: {PROBE_THRESHOLD} failed /health checks {PROBE_INTERVAL}s apart",
    )
    return detected


def _app_ok(app: AppProcess | None, *, need_db: bool) -> bool:
    doc = app.health(timeout=0.5) if app is not None else None
    return doc is not None and (bool(doc.get("db")) or not need_db)


def _measure(
    load: WriteLoad,
    survivor: MySQLDsnLike,
    region: str,
    fault_at: float,
    recovery_started: float,
    timeline: Timeline,
) -> tuple[float | None, LossReport]:
    ack = load.wait_for_ack_after(fault_at, region, STEP_TIMEOUT)
    if ack is not None and ack.acked_at is not None:
        timeline.record(
            SERVICE_RESTORED,
            _at(recovery_started),
            _at(ack.acked_at),
            detail=f"first write acknowledged by {region} (seq {ack.seq})",
        )
    else:
        event = timeline.start(SERVICE_RESTORED, _at(recovery_started))
        timeline.finish(event, STATUS_FAILED, f"no write acknowledged by {region}")
    time.sleep(0.3)  # a few more writes on the new primary, then stop and count
    load.stop()
    loss = count_losses(load, survivor, fault_at)
    rto = None if ack is None or ack.acked_at is None else round(ack.acked_at - fault_at, 3)
    return rto, loss


MySQLDsnLike = Any


def _sorted(timeline: Timeline) -> Timeline:
    timeline.events.sort(key=lambda event: from_iso(event.started_at))
    return timeline


def _failover_context(
    env: SandboxEnvironment, ws: WarmStandby, lines: list[str]
) -> FailoverContext:
    def rebuild_seoul(tokyo: MariaDBServer) -> MariaDBServer:
        # Seoul is back (seed 000 §6 step 1-2): a fresh database replicating from Tokyo,
        # and the Seoul app redeployed against it.
        seoul = env.new_database("seoul")
        seoul.replicate_from(tokyo)
        ws.seoul_rebuilt = seoul
        ws.seoul_app.repoint(seoul.app_dsn(DATABASE))
        return seoul

    scaler = SandboxScaler({"tokyo-app": ws.tokyo_app})
    return FailoverContext(
        database=MariaDbDatabase(
            ws.tokyo_db,
            source=ws.seoul_db,
            make_reverse=rebuild_seoul,
            find_reverse=lambda: ws.seoul_rebuilt,
        ),
        dns=env.dns_switch("tokyo"),
        lock=env.lock(),
        scaler=scaler,
        health=AppHealthProbe(lambda: env.apps.get("tokyo"), "tokyo"),
        dr_stack="tokyo",
        primary_stack="seoul",
        full_replicas={"tokyo-app": 1},
        standby_replicas={"tokyo-app": 1},
        max_lag_seconds=5.0,
        # The primary is confirmed dead; an operator accepts the loss the lag guard warns
        # about (the report counts exactly what was lost).
        accept_data_loss=True,
        promote_timeout_seconds=STEP_TIMEOUT,
        scale_timeout_seconds=STEP_TIMEOUT,
        health_timeout_seconds=STEP_TIMEOUT,
        sync_timeout_seconds=STEP_TIMEOUT,
        poll_seconds=0.1,
        say=lines.append,
    )


def _run_engine(
    steps: Any, ctx: FailoverContext, settings: ScenarioSettings, name: str, kind: str
) -> RunState:
    state = RunState.load_or_create(settings.state_dir, f"{name}-run{settings.run}", kind)
    lines: list[str] = []
    try:
        run_steps(steps, ctx, state, progress=lines.append)
    finally:
        for line in lines:
            settings.say(f"    {line}")
    return state


def app_failure(env: SandboxEnvironment, settings: ScenarioSettings) -> ScenarioResult:
    ws = env.warm_standby()
    env.write_outputs(settings.outputs_path)
    timeline = _new_timeline("app-failure", "failover")
    routing = FailoverRouting(
        env.dns_switch("tokyo"), lambda: env.apps.get("seoul"), lambda: env.apps.get("tokyo")
    )
    load = WriteLoad(routing)
    load.start()
    try:
        _warm_up(load, settings.warmup_seconds)
        fault_at = time.time()
        timeline.meta["incident_started_at"] = to_iso(_at(fault_at))
        ws.seoul_app.kill()
        detected = _detect(
            lambda: _app_ok(ws.seoul_app, need_db=False),
            timeline,
            fault_at,
            settings,
            "tokyo",
            False,
        )
        # Kubernetes' answer to a dead pod: start another. No regional failover.
        scaler = SandboxScaler({"seoul-app": ws.seoul_app})
        with timeline.step(SCALE_DEPLOYMENTS) as event:
            scaler.scale({"seoul-app": 1})
            scaler.wait_ready({"seoul-app": 1}, STEP_TIMEOUT)
            event.detail = "seoul app restarted (the Deployment replaces the dead pod)"
        rto, loss = _measure(
            load, ws.seoul_db.app_dsn(DATABASE), "seoul", fault_at, detected, timeline
        )
    finally:
        load.stop()
    return ScenarioResult(
        "app-failure",
        settings.run,
        rto,
        round(detected - fault_at, 3),
        loss,
        _sorted(timeline),
        notes=["recovery is an in-region restart: the database never moved"],
    )


def db_failure(env: SandboxEnvironment, settings: ScenarioSettings) -> ScenarioResult:
    return _warm_standby_failover(env, settings, "db-failure", kill_app=False)[0]


def _warm_standby_failover(
    env: SandboxEnvironment,
    settings: ScenarioSettings,
    key: str,
    *,
    kill_app: bool,
    before_fault: Callable[[WarmStandby], None] | None = None,
    dark_region: bool = False,
) -> tuple[ScenarioResult, WarmStandby, FailoverContext]:
    ws = env.warm_standby()
    primary_aws = env.start_primary_aws() if dark_region else None
    env.write_outputs(settings.outputs_path)
    routing = FailoverRouting(
        env.dns_switch("tokyo"), lambda: env.apps.get("seoul"), lambda: env.apps.get("tokyo")
    )
    load = WriteLoad(routing)
    lines: list[str] = []
    ctx = _failover_context(env, ws, lines)
    seen_before = ""
    if primary_aws is not None:
        ctx.primary = env.primary_probe()
        ctx.primary_timeout_seconds = PRIMARY_TIMEOUT
        seen_before = ctx.primary.observe()  # the control: Seoul's API answers until the fault
    load.start()
    try:
        _warm_up(load, settings.warmup_seconds)
        if before_fault is not None:
            before_fault(ws)  # e.g. a test that stalls replication to force a loss
        if settings.armed is not None:
            settings.armed("tokyo")
        fault_at = time.time()
        if kill_app:
            ws.seoul_app.kill()
        ws.seoul_db.crash()
        if primary_aws is not None:
            primary_aws.kill()  # the region's AWS APIs go dark with it
        probe_timeline = Timeline()
        detected = _detect(
            lambda: _app_ok(ws.seoul_app, need_db=True), probe_timeline, fault_at, settings
        )
        state = _run_engine(failover_steps(), ctx, settings, key, "failover")
        timeline = state.timeline
        timeline.name = f"sandbox {key}"
        timeline.meta.update(incident_started_at=to_iso(_at(fault_at)), sandbox=True)
        timeline.events[:0] = probe_timeline.events
        rto, loss = _measure(
            load, ws.tokyo_db.app_dsn(DATABASE), "tokyo", fault_at, detected, timeline
        )
    finally:
        load.stop()
    lag = state.data.get("lag_at_promotion_seconds")
    result = ScenarioResult(
        key,
        settings.run,
        rto,
        round(detected - fault_at, 3),
        loss,
        _sorted(timeline),
        notes=[
            "failover steps: drctl.failover.failover_steps() with MariaDB/moto adapters",
            f"replica lag at promotion: {'unknown (source gone)' if lag is None else lag}",
        ],
        load=load,
    )
    if primary_aws is not None:
        observed = state.steps.get("observe_primary", {}).get("detail", "")
        result.notes.append(
            "Seoul's AWS APIs (their own moto server) were killed with its app and database; "
            f"before the fault they answered ({seen_before}); after acting: {observed}"
        )
        result.extra["primary_api_before_fault"] = seen_before
    return result, ws, ctx


def region_dark(env: SandboxEnvironment, settings: ScenarioSettings) -> ScenarioResult:
    """Static stability: Seoul's app, database AND AWS APIs die; the failover must not
    need any of them (the primary is looked at only after acting, under a deadline)."""
    return _warm_standby_failover(env, settings, "region-dark", kill_app=True, dark_region=True)[0]


def region_failure_and_failback(
    env: SandboxEnvironment, settings: ScenarioSettings
) -> list[ScenarioResult]:
    failover, ws, ctx = _warm_standby_failover(env, settings, "region-failure", kill_app=True)
    results = [failover]
    if failover.error or failover.rto_seconds is None:
        return results
    results.append(_failback(env, settings, ws, ctx))
    return results


def _failback(
    env: SandboxEnvironment, settings: ScenarioSettings, ws: WarmStandby, ctx: FailoverContext
) -> ScenarioResult:
    routing = FailoverRouting(
        env.dns_switch("tokyo"), lambda: env.apps.get("seoul"), lambda: env.apps.get("tokyo")
    )
    load = WriteLoad(routing)
    load.start()
    try:
        _warm_up(load, settings.warmup_seconds / 2)
        started = time.time()
        state = _run_engine(failback_steps(), ctx, settings, "failback", "failback")
        timeline = state.timeline
        timeline.name = "sandbox failback"
        revert = timeline.last("revert_dns")
        # A planned switch-back: writes stop reaching a primary when DNS leaves Tokyo.
        cut_at = from_iso(revert.started_at).timestamp() if revert else started
        timeline.meta.update(incident_started_at=to_iso(_at(cut_at)), sandbox=True)
        seoul = ctx.database.reverse_replica()
        assert isinstance(seoul, MariaDbDatabase)
        rto, loss = _measure(
            load, seoul.server.app_dsn(DATABASE), "seoul", cut_at, cut_at, timeline
        )
    finally:
        load.stop()
    return ScenarioResult(
        "failback",
        settings.run,
        rto,
        None,
        loss,
        _sorted(timeline),
        notes=[
            "failback steps: drctl.failover.failback_steps(); Seoul rebuilt as a replica of Tokyo",
            f"whole failback took {round(time.time() - started, 1)}s; RTO counts from revert_dns",
            "fence_dr_writes stops the Tokyo app, and the sandbox adapter sets Tokyo read_only, before Seoul is promoted",
        ],
    )


class BackupLoop:
    """Seed 001's every-5-minutes job, scaled down to every few seconds."""

    def __init__(self, run_once: Callable[[], Any], every: float) -> None:
        self._run_once = run_once
        self._every = every
        self._stop = threading.Event()
        self.completed: list[Any] = []
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._loop, daemon=True, name="backup-loop")

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.completed.append(self._run_once())
            except Exception as exc:  # the region died mid-backup: nothing is committed
                self.failures.append(f"{type(exc).__name__}: {str(exc)[:120]}")
            self._stop.wait(self._every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STEP_TIMEOUT)


def pilot_light_dump_only(env: SandboxEnvironment, settings: ScenarioSettings) -> ScenarioResult:
    return pilot_light(env, settings, archive=False)


def pilot_light(
    env: SandboxEnvironment, settings: ScenarioSettings, *, archive: bool = True
) -> ScenarioResult:
    key = "pilot-light" if archive else "pilot-light-dump-only"
    seoul_db, _seoul_app = env.pilot_primary()
    container = env.backup_container()
    for blob in list(container.list_blobs()):
        container.delete_blob(blob.name)
    env.write_outputs(settings.outputs_path)
    routing = FailoverRouting(
        env.dns_switch("azure-pilot"), lambda: env.apps.get("seoul"), lambda: env.apps.get("azure")
    )
    backups = _pilot_backups(seoul_db, container, settings)
    load = WriteLoad(routing)
    fault_at = 0.0
    pilot = PilotLightDatabase(
        container,
        DATABASE,
        make_server=lambda: env.new_database("azure"),
        failure_time=lambda: _at(fault_at),
        point_in_time=archive,
    )
    archiver = (
        ArchiverThread(seoul_db, container, env.workdir / "binlog-spool", settings)
        if archive
        else None
    )

    lines: list[str] = []
    ctx = _pilot_context(env, pilot, lines)
    if archiver is not None:
        archiver.start()  # the Deployment next to the dump job, in Seoul too
    load.start()
    backups.start()
    try:
        _warm_up(load, settings.warmup_seconds)
        _wait_for_backups(backups, 2)
        time.sleep(settings.backup_interval / 2)  # fail mid-interval, as a region would
        fault_at = time.time()
        if archiver is not None:
            archiver.die()  # it lives in the failed region: what it has not committed is lost
        env.apps["seoul"].kill()
        seoul_db.crash()
        backups.stop()  # the backup instance lives in the failed region too
        probe_timeline = Timeline()
        detected = _detect(
            lambda: _app_ok(env.apps.get("seoul"), need_db=False),
            probe_timeline,
            fault_at,
            settings,
            "azure-pilot",
        )
        state = _run_engine(failover_steps(), ctx, settings, "pilot-light", "failover")
        timeline = state.timeline
        timeline.name = f"sandbox {key}"
        timeline.meta.update(incident_started_at=to_iso(_at(fault_at)), sandbox=True)
        timeline.events[:0] = probe_timeline.events
        assert pilot.server is not None
        env.write_outputs(settings.outputs_path)
        rto, loss = _measure(
            load, pilot.server.app_dsn(DATABASE), "azure", fault_at, detected, timeline
        )
    finally:
        load.stop()
        backups.stop()
        if archiver is not None:
            archiver.die_and_join()
    notes, extra = _pilot_notes(
        settings, archive, pilot, backups, container, archiver, (load, loss), fault_at
    )
    return ScenarioResult(
        key,
        settings.run,
        rto,
        round(detected - fault_at, 3),
        loss,
        _sorted(timeline),
        notes=notes,
        extra=extra,
    )


def binlog_rpo_line(rpo_seconds: float, flush_seconds: float) -> str:
    verdict = "met" if rpo_seconds <= flush_seconds else "NOT met"
    return (
        f"pilot-light RPO {rpo_seconds:.2f}s vs one binlog flush interval "
        f"{flush_seconds:g}s: {verdict}"
    )


def _wait_for_backups(backups: BackupLoop, count: int) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while len(backups.completed) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def _pilot_backups(
    seoul_db: MariaDBServer, container: ContainerClient, settings: ScenarioSettings
) -> BackupLoop:
    return BackupLoop(
        lambda: run_backup(
            backup_source_dsn(seoul_db),
            container,
            BackupOptions(DATABASE, retention=timedelta(hours=1)),
        ),
        settings.backup_interval,
    )


def _pilot_context(
    env: SandboxEnvironment, pilot: PilotLightDatabase, lines: list[str]
) -> FailoverContext:
    def azure_app() -> AppProcess:
        assert pilot.server is not None
        app = AppProcess(env.supervisor, "azure", "dr", pilot.server.app_dsn(DATABASE))
        env.apps["azure"] = app
        return app

    return FailoverContext(
        database=pilot,
        dns=env.dns_switch("azure-pilot"),
        lock=env.lock(),
        scaler=SandboxScaler({"azure-app": azure_app}),
        health=AppHealthProbe(lambda: env.apps.get("azure"), "azure"),
        dr_stack="azure-pilot",
        strategy="pilot-light",
        full_replicas={"azure-app": 1},
        max_lag_seconds=300.0,  # the lag guard reads backup age against seed 001's RPO
        promote_timeout_seconds=STEP_TIMEOUT,
        scale_timeout_seconds=STEP_TIMEOUT,
        health_timeout_seconds=STEP_TIMEOUT,
        poll_seconds=0.1,
        say=lines.append,
    )


def _pilot_notes(
    settings: ScenarioSettings,
    archive: bool,
    pilot: PilotLightDatabase,
    backups: BackupLoop,
    container: ContainerClient,
    archiver: ArchiverThread | None,
    measured: tuple[WriteLoad, LossReport | None],
    fault_at: float,
) -> tuple[list[str], dict[str, Any]]:
    load, loss = measured
    restored = pilot.result
    notes = [
        f"backups every {settings.backup_interval:g}s (seed 001: 300s), "
        f"{len(backups.completed)} committed, {len(backups.failures)} cut off by the fault",
        "promote_database = create the 'Azure' server and restore the newest good backup"
        + (" + replay the archived binlog after it" if archive else ""),
    ]
    extra: dict[str, Any] = {
        "restored_backup": restored.backup["name"] if restored else None,
        "restore_point_rpo_seconds": restored.rpo_seconds if restored else None,
        "backups_committed": len(list_backups(container)),
    }
    if archiver is not None:
        extra.update(archiver.report(pilot.pitr, load, fault_at))
        notes.append(
            f"binlog archived every {settings.binlog_flush_seconds:g}s (stack: 5s); lost "
            f"writes goal ≤ one flush interval of writes = {extra['lost_writes_goal']}"
        )
        if loss is not None:
            # The goal, shown by `make drill`: RPO within one flush interval.
            extra["binlog_rpo_met"] = loss.rpo_seconds <= settings.binlog_flush_seconds
            notes.append(binlog_rpo_line(loss.rpo_seconds, settings.binlog_flush_seconds))
    return notes, extra
