"""ReplicaLag -1 in the drill: replication stops, the sandbox publishes what RDS
publishes (-1 for Seconds_Behind_Master NULL), and production's lag guard, reading it
from moto through CloudWatchLagReader, treats it as unknown and bounds the loss from
the last good datapoint."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from drctl.sandbox.environment import SandboxEnvironment, WarmStandby
from drctl.sandbox.lag_publisher import NOT_REPLICATING
from drctl.sandbox.mariadb import mariadb_available
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenarios import ScenarioSettings, _warm_standby_failover

from .conftest import require


@pytest.mark.mariadb
def test_stopped_replication_is_minus_one_unknown_and_the_bound_covers_the_loss(
    tmp_path: Path,
) -> None:
    require(mariadb_available(), "MariaDB")

    def stall_replication(ws: WarmStandby) -> None:
        ws.tokyo_db.execute("STOP SLAVE IO_THREAD")  # Seconds_Behind_Master is NULL now
        time.sleep(1.5)

    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        env = SandboxEnvironment(tmp_path, supervisor)
        env.start_shared(with_azurite=False)
        settings = ScenarioSettings(
            state_dir=tmp_path / "runs",
            outputs_path=tmp_path / "outputs.json",
            # Long enough for whole 1-second periods of good lag before the stall: a
            # period that also holds a -1 reads as -1 (its Minimum), as on CloudWatch.
            warmup_seconds=2.5,
            say=lambda _line: None,
        )
        result, _ws, ctx = _warm_standby_failover(
            env, settings, "db-failure", kill_app=False, before_fault=stall_replication
        )
        env.stop()

    assert result.error is None and result.loss is not None
    state = json.loads(next((tmp_path / "runs").glob("db-failure*.json")).read_text())
    data = state["data"]
    assert data["lag_reported_seconds"] == NOT_REPLICATING
    assert data["lag_at_promotion_seconds"] is None  # never "caught up", never -1 s
    guard = state["steps"]["replica_lag_guard"]["detail"]
    assert "accepted data loss" in guard and "reports -1" in guard, guard
    bound = data["data_loss_bound_seconds"]
    assert bound is not None, (guard, result.notes)
    # The bound from the last good datapoint covers what was really lost.
    assert result.loss.lost > 0
    assert bound >= result.loss.rpo_seconds, (bound, result.loss.rpo_seconds)
    assert any("-1 once replication stopped" in note for note in result.notes)
    assert getattr(ctx.database, "lag_reader", None) is not None  # production's reader
