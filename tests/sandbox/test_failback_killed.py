"""Failback killed after every step, rerun each time by a new process.

Real MariaDB pair (as the drill uses). One failback run is killed after its first step,
resumed by a fresh context and killed after the next, and so on until it completes.
It must promote Seoul exactly once, lose no write acknowledged by the DR primary, and
release the lock. Under the write load, both Seoul databases and Tokyo are polled: at
no moment may two accept writes. Seoul's app is never re-pointed: it keeps the
primary's endpoint name, which the failback's rename moves to the promoted replica.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from drctl.failover.runner import run_steps
from drctl.failover.state import RunState
from drctl.failover.steps import failback_steps
from drctl.sandbox.app_adapters import FailoverRouting
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.environment import PRIMARY_DB_ID, SandboxEnvironment
from drctl.sandbox.loadgen import WriteLoad, count_losses
from drctl.sandbox.mariadb import MariaDBServer, mariadb_available
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenarios import (
    ScenarioSettings,
    _failover_context,
    _warm_standby_failover,
    region_failure_and_failback,
    seoul_region_back,
)

from .conftest import require
from .writable_poller import WritablePoller

FAILBACK_STEPS = [step.name for step in failback_steps()]


class Killed(BaseException):
    """BaseException so no step handler can swallow it, like a killed process."""


@pytest.mark.mariadb
def test_failback_killed_after_every_step_completes_once_without_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(mariadb_available(), "MariaDB")
    promotions: list[str] = []
    original_execute = MariaDBServer.execute

    def counting_execute(self: MariaDBServer, *statements: str, **kwargs: Any) -> Any:
        # The promotion itself: leave replication AND accept writes (a rebuild also
        # resets replication, but stays read-only).
        joined = " ".join(statements)
        if "RESET SLAVE ALL" in joined and "read_only = 0" in joined:
            promotions.append(self.name)
        return original_execute(self, *statements, **kwargs)

    monkeypatch.setattr(MariaDBServer, "execute", counting_execute)

    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        env = SandboxEnvironment(tmp_path, supervisor)
        env.start_shared(with_azurite=False)
        settings = ScenarioSettings(
            state_dir=tmp_path / "runs",
            outputs_path=tmp_path / "outputs.json",
            warmup_seconds=0.5,
            say=lambda _line: None,
        )
        failover, ws, _ctx = _warm_standby_failover(env, settings, "region-failure", kill_app=True)
        assert failover.error is None and failover.rto_seconds is not None
        promotions.clear()  # Tokyo's promotion belongs to the failover
        seoul_region_back(ws)
        app_db_before = ws.seoul_app.db
        poller = WritablePoller(
            lambda: [s for s in (ws.seoul_db, ws.seoul_rebuilt, ws.tokyo_db) if s is not None]
        )
        poller.start()

        load = WriteLoad(
            FailoverRouting(
                env.dns_switch("tokyo"),
                lambda: env.apps.get("seoul"),
                lambda: env.apps.get("tokyo"),
            )
        )
        load.start()
        try:
            deadline = time.monotonic() + 30
            while not load.acknowledged() and time.monotonic() < deadline:
                time.sleep(0.05)
            attempts = 0
            for victim in FAILBACK_STEPS:
                attempts += 1
                state = RunState.load_or_create(settings.state_dir, "failback-killed", "failback")

                def kill(name: str, victim: str = victim) -> None:
                    if name == victim:
                        raise Killed(name)

                with pytest.raises(Killed):
                    run_steps(
                        failback_steps(),
                        _failover_context(env, ws, []),  # a new process: nothing in memory
                        state,
                        progress=lambda _m: None,
                        after_step=kill,
                    )
                time.sleep(0.2)  # writes keep arriving between attempts
            final = RunState.load_or_create(settings.state_dir, "failback-killed", "failback")
            result = run_steps(
                failback_steps(), _failover_context(env, ws, []), final, progress=lambda _m: None
            )
            assert result.state.run_id == state.run_id  # one run, resumed every time
            seoul_acks = time.monotonic() + 30
            while not load.first_ack_after(0, "seoul") and time.monotonic() < seoul_acks:
                time.sleep(0.05)
        finally:
            load.stop()
            poller.stop()

        assert ws.seoul_rebuilt is not None
        seoul = ws.seoul_rebuilt
        loss = count_losses(load, seoul.master_dsn(DATABASE), time.time())
        tokyo_acked = [r for r in load.acknowledged() if r.region == "tokyo"]
        holder = env.lock().holder()
        built = [s for s in env.servers if s.name == "seoul-db"]
        env_names = {
            n: server.port for n in env.endpoints.names() if (server := env.endpoints.resolve(n))
        }
        env.stop()

    assert result.state.finished
    assert attempts == len(FAILBACK_STEPS)
    assert promotions == ["seoul-db"]  # Seoul promoted exactly once over all attempts
    assert len(built) == 2  # the dead original and ONE rebuilt replica, never a second
    assert tokyo_acked, "the DR primary must have acknowledged writes during failback"
    assert load.first_ack_after(0, "seoul") is not None  # Seoul serves writes again
    assert loss.lost == 0, f"acknowledged writes missing in Seoul: {loss.lost_seqs}"
    assert holder is None  # the lock is released
    assert poller.samples > 50 and poller.overlaps == [], poller.overlaps[:3]
    assert poller.seen_writable  # the poll does see a writable primary
    # Seoul's app was never re-pointed: same DSN (the endpoint name), writes reach the
    # promoted replica through it.
    assert ws.seoul_app.db == app_db_before
    assert app_db_before.port != seoul.port
    assert env_names[PRIMARY_DB_ID] == seoul.port


@pytest.mark.mariadb
def test_failback_scenario_moves_the_name_not_the_app(tmp_path: Path) -> None:
    require(mariadb_available(), "MariaDB")
    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        env = SandboxEnvironment(tmp_path, supervisor)
        env.start_shared(with_azurite=False)
        settings = ScenarioSettings(
            state_dir=tmp_path / "runs",
            outputs_path=tmp_path / "outputs.json",
            warmup_seconds=0.5,
            say=lambda _line: None,
        )
        servers: list[MariaDBServer] = env.servers
        poller = WritablePoller(lambda: list(servers))
        poller.start()  # through the failover and the whole failback
        results = region_failure_and_failback(env, settings)
        failback = results[-1]
        poller.stop()
        app = env.apps["seoul"]
        names = {name: env.endpoints.resolve(name) for name in env.endpoints.names()}
        env.stop()

    assert [r.key for r in results] == ["region-failure", "failback"], results
    assert failback.error is None and failback.loss is not None
    assert failback.loss.lost == 0 and failback.rto_seconds is not None
    promoted = names[PRIMARY_DB_ID]
    assert promoted is not None and promoted.server_id != 1  # the rebuilt Seoul database
    assert app.db.port not in {s.port for s in servers}  # it dials the name, not a server
    assert poller.samples > 50 and poller.overlaps == [], poller.overlaps[:3]
    assert any(name.startswith(f"{PRIMARY_DB_ID}-retired-") for name in names)
