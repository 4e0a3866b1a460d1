"""Planned switchover against the sandbox MariaDB pair under write load: nothing lost,
and a refusal (replication stopped) that changes nothing and unfences the primary."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drctl.failover.planned import SwitchoverRefusedError, planned_steps
from drctl.failover.runner import StepFailed
from drctl.sandbox.app_adapters import FailoverRouting
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.drill import DrillResult, _write_reports
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.loadgen import WriteLoad, committed_seqs
from drctl.sandbox.mariadb import mariadb_available
from drctl.sandbox.objectives import stack_targets
from drctl.sandbox.planned_scenario import planned_context, planned_switchover
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenarios import (
    SCENARIOS,
    STACK_OF,
    ScenarioSettings,
    _failover_context,
    _run_engine,
)

from .conftest import require

pytestmark = pytest.mark.mariadb


@pytest.fixture
def env(tmp_path: Path) -> Iterator[SandboxEnvironment]:
    require(mariadb_available(), "MariaDB")
    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        environment = SandboxEnvironment(tmp_path, supervisor)
        environment.start_shared(with_azurite=False)
        yield environment
        environment.stop()


def _settings(tmp_path: Path) -> ScenarioSettings:
    return ScenarioSettings(
        state_dir=tmp_path / "runs",
        outputs_path=tmp_path / "outputs.json",
        warmup_seconds=0.5,
        say=lambda _line: None,
    )


def _read_only(server: object) -> str:
    return str(server.execute("SELECT @@GLOBAL.read_only")[0][0])  # type: ignore[attr-defined]


def test_planned_switchover_loses_no_acknowledged_write(
    env: SandboxEnvironment, tmp_path: Path
) -> None:
    assert "planned-switchover" in SCENARIOS  # in `make drill`'s default list
    assert STACK_OF["planned-switchover"] == "tokyo"
    result = planned_switchover(env, _settings(tmp_path))
    assert result.error is None
    names = [event.name for event in result.timeline.events]
    assert names.index("fence_writes") < names.index("promote_database")
    # Both injected apply states ran: a pending-reboot group refused before any change,
    # then the fence held only once the engine answered read_only = 1.
    assert names[0] == "refused_pending_reboot"
    assert any(
        "is pending-reboot" in note and "reboot-db-instance" in note for note in result.notes
    )
    fence = next(e for e in result.timeline.events if e.name == "fence_writes")
    assert "parameter group in-sync and SELECT @@GLOBAL.read_only = 1" in fence.detail
    assert any("replica executed the fenced position" in note for note in result.notes)
    assert result.load is not None and result.loss is not None
    tokyo = env.servers[1]
    # Recount independently: every write the app acknowledged is on the new primary.
    acked = {r.seq for r in result.load.acknowledged()}
    present = committed_seqs(tokyo.master_dsn(DATABASE), result.load.writer)
    assert len(acked) >= 5
    assert {r.region for r in result.load.acknowledged()} == {"seoul", "tokyo"}
    assert acked - present == set()
    assert result.loss.lost == 0
    assert result.rto_seconds is not None and result.rto_seconds > 0
    # The old primary stays fenced: it must not take writes behind the new one's back.
    assert _read_only(env.servers[0]) == "1"
    assert tokyo.execute("SHOW SLAVE STATUS") == []
    # The drill's reports take it like the other scenarios.
    targets = {"tokyo": stack_targets("tokyo"), "tokyo:planned": stack_targets("tokyo", "planned")}
    drill = DrillResult([result], targets, tmp_path / "r", tmp_path)
    _write_reports(drill)
    [row] = drill.summary_rows()
    assert row["scenario"] == "planned-switchover" and row["lost_writes_worst"] == 0
    # Compared with the planned budget (fence + drain + promote + DNS; RPO 0), not the
    # unplanned one.
    assert row["rpo_predicted_s"] == 0
    assert row["rto_predicted_s"] == targets["tokyo:planned"].predicted_rto_seconds
    assert (tmp_path / "r" / "planned-switchover-run1.md").exists()


def test_refuses_and_unfences_when_replication_is_stopped(
    env: SandboxEnvironment, tmp_path: Path
) -> None:
    ws = env.warm_standby()
    routing = FailoverRouting(
        env.dns_switch("tokyo"), lambda: env.apps.get("seoul"), lambda: env.apps.get("tokyo")
    )
    load = WriteLoad(routing)
    lines: list[str] = []
    ctx = planned_context(env, ws, lines, _failover_context)
    ctx.drain_timeout_seconds = 1.5
    load.start()
    try:
        time.sleep(0.5)
        ws.tokyo_db.execute("STOP SLAVE")  # the replica can never catch up now
        time.sleep(0.5)
        with pytest.raises(StepFailed) as failed:
            _run_engine(planned_steps(), ctx, _settings(tmp_path), "refused", "failover")
        refused_at = time.time()
        assert isinstance(failed.value.cause, SwitchoverRefusedError)
        assert failed.value.step == "wait_drained"
        # Unfenced: Seoul takes writes again, and they are acknowledged.
        assert load.wait_for_ack_after(refused_at, "seoul", 10) is not None
    finally:
        load.stop()
    assert _read_only(ws.seoul_db) == "0"
    # Nothing else changed: Tokyo is still a read-only replica, DNS on Seoul, no lock.
    assert ws.tokyo_db.execute("SHOW SLAVE STATUS") != []
    assert _read_only(ws.tokyo_db) == "1"
    assert not env.dns_switch("tokyo").is_forced_to_dr()
    assert env.lock().holder() is None
    assert "refusing the planned switchover" in str(failed.value.cause)
