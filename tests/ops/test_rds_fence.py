"""Planned mode on real-AWS RDS: the read_only fence through the primary's custom DB
parameter group, drained once ReplicaLag is 0 for a whole period after the fence.

Against moto 5.2.5: ModifyDBParameterGroup / DescribeDBParameters / DescribeDBInstances
and CloudWatch metric data are real moto calls. moto applies a parameter change at once
("in-sync"); that RDS takes a moment, and that MySQL then refuses writes, is not covered
here (the sandbox drill covers the MariaDB side of a fence).
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import command_support, failover_command
from drctl.failover.build import FailoverOptions, build_context
from drctl.failover.lock import DynamoDbLock
from drctl.failover.planned import SwitchoverRefusedError, planned_steps
from drctl.failover.runner import StepFailed, run_steps
from drctl.failover.state import RunState
from drctl.stack_outputs import load_outputs_file

from .conftest import SEOUL, TOKYO, DrWorld, make_ops_app

app = make_ops_app()
pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")
GROUP = "drstack-seoul-mysql"
PRIMARY = "drstack-seoul-mysql"
REPLICA = "drstack-tokyo-replica"


@pytest.fixture
def fenceable(dr_world: DrWorld, monkeypatch: pytest.MonkeyPatch) -> DrWorld:
    """The primary on a custom parameter group (what the IaC must attach)."""
    rds = dr_world.client("rds", SEOUL)
    rds.create_db_parameter_group(
        DBParameterGroupName=GROUP, DBParameterGroupFamily="mysql8.0", Description="drstack"
    )
    rds.modify_db_instance(
        DBInstanceIdentifier=PRIMARY, DBParameterGroupName=GROUP, ApplyImmediately=True
    )
    monkeypatch.setattr(command_support, "make_client_factory", lambda: dr_world.factory)
    monkeypatch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
    return dr_world


def read_only(world: DrWorld) -> str | None:
    parameters = world.client("rds", SEOUL).describe_db_parameters(DBParameterGroupName=GROUP)
    values = [p.get("ParameterValue") for p in parameters["Parameters"]]
    names = [p["ParameterName"] for p in parameters["Parameters"]]
    return values[names.index("read_only")] if "read_only" in names else None


def replica_lag_at(world: DrWorld, when: datetime, seconds: float) -> None:
    world.client("cloudwatch", TOKYO).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": REPLICA}],
                "Timestamp": when,
                "Value": seconds,
                "Unit": "Seconds",
            }
        ],
    )


def next_period_after_now() -> datetime:
    """A period that starts after any fence this test can apply (RDS publishes lag per
    minute; the datapoint stands for the minute after the fence)."""
    return datetime.fromtimestamp((math.ceil(time.time() / 60) + 1) * 60, UTC)


def test_planned_rds_switchover_fences_drains_promotes_then_moves_dns(
    fenceable: DrWorld,
) -> None:
    world = fenceable
    replica_lag_at(world, next_period_after_now(), 0.0)
    result = CliRunner().invoke(
        app,
        [
            "failover", "--mode", "planned", "--json", "--drain-timeout", "10",
            "--outputs", str(world.outputs_path), "--state-dir", str(world.state_dir), "--yes",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = [e["name"] for e in report["timeline"]["events"]]
    assert names == [step.name for step in planned_steps()]
    assert (
        "ReplicaLag of drstack-tokyo-replica since the fence: max 0s"
        in (report["steps"]["wait_drained"]["detail"])
    )
    assert read_only(world) == "1"  # the old primary stays fenced
    assert not world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert world.switch_config()["Inverted"] is True


def run_planned(world: DrWorld) -> tuple[RunState, BaseException]:
    options = FailoverOptions(waiter_delay_seconds=0, drain_timeout_seconds=0.3)
    options.extra["mode"] = "planned"
    ctx = build_context(
        load_outputs_file(world.outputs_path), world.factory, options, say=lambda _m: None,
        scaler=world.scaler,
    )  # fmt: skip
    ctx.poll_seconds = 0.05
    state = RunState.create(world.state_dir, "failover-tokyo", "failover")
    with pytest.raises(StepFailed) as failed:
        run_steps(planned_steps(), ctx, state, progress=lambda _m: None)
    return state, failed.value.cause


def assert_unfenced_and_nothing_else_changed(world: DrWorld) -> None:
    # Back to the engine default: 0 on the primary, still 1 on any replica of the group.
    assert read_only(world) == "{TrueIfReplica}"
    assert world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not world.switch_config().get("Inverted")
    assert (
        DynamoDbLock(world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock").holder()
        is None
    )
    assert world.scaler.calls == []


@pytest.mark.parametrize(
    ("case", "lag", "expected"),
    [
        ("replica still behind", 3.0, "max 3s"),
        ("replication stopped", -1.0, "replication is not running"),
    ],
)
def test_a_replica_that_does_not_catch_up_is_refused_and_unfenced(
    fenceable: DrWorld, case: str, lag: float, expected: str
) -> None:
    replica_lag_at(fenceable, next_period_after_now(), lag)
    state, cause = run_planned(fenceable)
    assert isinstance(cause, SwitchoverRefusedError), cause
    assert expected in str(cause)
    assert state.steps["fence_writes"]["status"] == "done"
    assert_unfenced_and_nothing_else_changed(fenceable)


def test_zero_lag_from_before_the_fence_proves_nothing(fenceable: DrWorld) -> None:
    replica_lag_at(fenceable, datetime.fromtimestamp(time.time() - 120, UTC), 0.0)
    _, cause = run_planned(fenceable)
    assert isinstance(cause, SwitchoverRefusedError)
    assert "no ReplicaLag datapoint of drstack-tokyo-replica for a period starting after" in str(
        cause
    )
    assert_unfenced_and_nothing_else_changed(fenceable)


def test_unplanned_never_builds_the_fence(fenceable: DrWorld) -> None:
    """The fence reads and changes Seoul: the unplanned path must not even have one."""
    ctx: Any = build_context(
        load_outputs_file(fenceable.outputs_path), fenceable.factory, FailoverOptions()
    )
    assert ctx.fence is None


def test_the_drain_wait_never_outlasts_the_run_deadline() -> None:
    options = FailoverOptions(drain_timeout_seconds=300.0)
    failover_command._cap_step_timeouts(options, 45.0)
    assert options.drain_timeout_seconds == 45.0
