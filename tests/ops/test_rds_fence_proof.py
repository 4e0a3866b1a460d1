"""The planned fence's proof in SQL: production's RdsParameterGroupFence against moto (the
parameter group, RDS's apply states injected) and a real MariaDB pair as the RDS master
user (the stand-ins for the RDS primary and its read replica).

What each test pins down:
- a group that shows in-sync before the apply has begun is not a fence yet: the run
  waits for SELECT @@GLOBAL.read_only = 1, and refuses (unfenced) if it never comes;
- a pending-reboot group is refused in one line before anything changes;
- ReplicaLag 0 with the replica's I/O thread trailing is not drained: only the
  replica's executed binlog position at or past the fenced primary's is;
- every refusal unfences (group and engine) and releases the lock.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import command_support, failover_command
from drctl.failover.binlog_position import replica_progress, source_position
from drctl.failover.build import FailoverOptions, build_context
from drctl.failover.lock import DynamoDbLock
from drctl.failover.planned import SwitchoverRefusedError, planned_steps
from drctl.failover.runner import StepFailed, run_steps
from drctl.failover.state import RunState
from drctl.sandbox.mariadb import MariaDBServer, mariadb_available
from drctl.sandbox.mariadb_fence import MariaDbParameterEngine, master_user_dsns
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.rds_apply_states import ParameterApplyStates
from drctl.stack_outputs import load_outputs_file

from ..sandbox.conftest import require
from .conftest import SEOUL, TOKYO, DrWorld, make_ops_app

app = make_ops_app()
pytestmark = [pytest.mark.mariadb, pytest.mark.usefixtures("moto_promotion_clears_source")]
GROUP = "drstack-seoul-mysql8-0"
PRIMARY = "drstack-seoul-mysql"
REPLICA = "drstack-tokyo-replica"
LOCK_TABLE = "drstack-tokyo-failover-lock"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[MariaDBServer, MariaDBServer]]:
    """Seoul's primary and Tokyo's replica, with a table the app writes."""
    require(mariadb_available(), "MariaDB")
    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        seoul = MariaDBServer(supervisor, tmp_path / "seoul", "seoul-db", 1)
        tokyo = MariaDBServer(supervisor, tmp_path / "tokyo", "tokyo-db", 2)
        for server in (seoul, tokyo):
            server.start()
            server.create_accounts()
        tokyo.replicate_from(seoul)
        seoul.execute("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY)")
        yield seoul, tokyo
        for server in (seoul, tokyo):
            server.remove()


class _Factory:
    """The world's clients, with Seoul's RDS behind RDS's apply states."""

    def __init__(self, factory: Any, states: ParameterApplyStates) -> None:
        self._factory = factory
        self.states = states

    def client(self, service: str, region: str) -> Any:
        if (service, region) == ("rds", SEOUL):
            return self.states
        return self._factory.client(service, region)


@pytest.fixture
def world(
    dr_world: DrWorld,
    pair: tuple[MariaDBServer, MariaDBServer],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[DrWorld]:
    """dr_world whose primary has a custom group, whose outputs name both databases and
    the replicated master credential, and whose Seoul RDS shows RDS's apply states."""
    seoul, tokyo = pair
    rds = dr_world.client("rds", SEOUL)
    rds.create_db_parameter_group(
        DBParameterGroupName=GROUP, DBParameterGroupFamily="mysql8.0", Description="drstack"
    )
    rds.modify_db_instance(
        DBInstanceIdentifier=PRIMARY, DBParameterGroupName=GROUP, ApplyImmediately=True
    )
    primary_dsn, _ = master_user_dsns(seoul, tokyo)
    secret = dr_world.client("secretsmanager", TOKYO).create_secret(
        Name="drstack-seoul-master",
        SecretString=json.dumps(
            {"username": primary_dsn.user, "password": primary_dsn.password, "port": 3306}
        ),
    )
    outputs = json.loads(dr_world.outputs_path.read_text())
    outputs["seoul"]["rds_address"] = f"127.0.0.1:{seoul.port}"
    outputs["tokyo"]["replica_address"] = f"127.0.0.1:{tokyo.port}"
    outputs["tokyo"]["replica_master_secret_arn"] = secret["ARN"]
    dr_world.outputs_path.write_text(json.dumps(outputs))
    states = ParameterApplyStates(
        rds, MariaDbParameterEngine({PRIMARY: seoul}), stale_in_sync_seconds=0.3
    )
    factory = _Factory(dr_world.factory, states)
    dr_world.extra.update(seoul=seoul, tokyo=tokyo, states=states, factory=factory)
    monkeypatch.setattr(command_support, "make_client_factory", lambda: factory)
    monkeypatch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
    yield dr_world
    states.close()
    factory.states.close()  # a test may have put its own in front of moto


def engine_read_only(server: MariaDBServer) -> int:
    return int(server.execute("SELECT @@GLOBAL.read_only")[0][0])


def group_read_only(world: DrWorld) -> str | None:
    rds = world.client("rds", SEOUL)
    for parameter in rds.describe_db_parameters(DBParameterGroupName=GROUP)["Parameters"]:
        if parameter["ParameterName"] == "read_only":
            return str(parameter.get("ParameterValue"))
    return None


def replica_lag_zero_after_the_fence(world: DrWorld) -> None:
    """What RDS publishes while the SQL thread has applied all it received."""
    start = math.ceil(time.time() / 60) * 60
    for minute in range(3):
        world.client("cloudwatch", TOKYO).put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "ReplicaLag",
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": REPLICA}],
                    "Timestamp": datetime.fromtimestamp(start + 60 * minute, UTC),
                    "Value": 0.0,
                    "Unit": "Seconds",
                }
            ],
        )


def run_planned(world: DrWorld, *, drain: float = 5.0) -> tuple[RunState, BaseException | None]:
    options = FailoverOptions(
        waiter_delay_seconds=0,
        drain_timeout_seconds=drain,
        fence_apply_timeout_seconds=3.0,
        poll_seconds=0.05,
    )
    options.extra["mode"] = "planned"
    ctx = build_context(
        load_outputs_file(world.outputs_path), world.extra["factory"], options,
        say=lambda _m: None, scaler=world.scaler,
    )  # fmt: skip
    state = RunState.create(world.state_dir, "failover-tokyo", "failover")
    try:
        run_steps(planned_steps(), ctx, state, progress=lambda _m: None)
    except StepFailed as failed:
        return state, failed.cause
    return state, None


def assert_unfenced_and_nothing_else_changed(world: DrWorld) -> None:
    assert group_read_only(world) == "{TrueIfReplica}"
    assert engine_read_only(world.extra["seoul"]) == 0  # the engine too, not only the group
    assert world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not world.switch_config().get("Inverted")
    assert DynamoDbLock(world.client("dynamodb", TOKYO), LOCK_TABLE).holder() is None
    assert world.scaler.calls == []


def test_the_fence_holds_only_once_the_engine_answers_read_only(world: DrWorld) -> None:
    """The group reads in-sync for 0.3 s before the apply begins, then applying: the
    fence is taken, and the drain starts, only after SELECT @@GLOBAL.read_only = 1."""
    seoul: MariaDBServer = world.extra["seoul"]
    seoul.execute("INSERT INTO app.t VALUES (1)")
    state, error = run_planned(world)
    assert error is None, error
    applied = [
        at for _, values, at in world.extra["states"].applied if values == {"read_only": "1"}
    ]
    assert applied, "read_only=1 never reached the engine"
    assert state.data["fenced_at"] >= applied[0]
    assert "SELECT @@GLOBAL.read_only = 1" in state.steps["fence_writes"]["detail"]
    assert engine_read_only(seoul) == 1  # the old primary stays fenced
    assert state.data["fenced_position"] == str(source_position(master_dsn(world, seoul)))
    assert world.switch_config()["Inverted"] is True


def master_dsn(world: DrWorld, server: MariaDBServer) -> Any:
    secret = world.client("secretsmanager", TOKYO).get_secret_value(SecretId="drstack-seoul-master")
    credential = json.loads(secret["SecretString"])
    from drctl.mysql_dsn import MySQLDsn

    return MySQLDsn("127.0.0.1", server.port, credential["username"], credential["password"])


def test_a_group_in_sync_whose_value_never_reaches_the_engine_is_refused_and_unfenced(
    world: DrWorld,
) -> None:
    """RDS shows in-sync, the engine still runs read_only=0 (the apply has not begun):
    writes are not fenced, so the run must not drain or promote."""
    engine = MariaDbParameterEngine({PRIMARY: world.extra["seoul"]})

    def not_yet(instance: str, values: dict[str, str]) -> None:
        if values.get("read_only") != "1":
            engine(instance, values)

    world.extra["factory"].states = ParameterApplyStates(world.client("rds", SEOUL), not_yet)
    replica_lag_zero_after_the_fence(world)
    state, error = run_planned(world)
    assert isinstance(error, SwitchoverRefusedError), error
    assert "write fence did not take effect" in str(error)
    assert "SELECT @@GLOBAL.read_only still returns 0" in str(error)
    assert "wait_drained" not in state.steps or state.steps["wait_drained"]["status"] != "done"
    assert_unfenced_and_nothing_else_changed(world)


def test_a_pending_reboot_group_is_refused_in_one_line_before_anything_changes(
    world: DrWorld,
) -> None:
    world.extra["states"].associate_without_reboot(PRIMARY)
    replica_lag_zero_after_the_fence(world)
    result = CliRunner().invoke(
        app,
        [
            "failover", "--mode", "planned", "--yes", "--drain-timeout", "5",
            "--outputs", str(world.outputs_path), "--state-dir", str(world.state_dir),
        ],
    )  # fmt: skip
    assert result.exit_code == failover_command.EXIT_REFUSED, result.output
    text = " ".join(result.output.split())
    assert f"its DB parameter group {GROUP} is pending-reboot" in text
    assert f"aws rds reboot-db-instance --db-instance-identifier {PRIMARY}" in text
    assert "Traceback" not in result.output
    assert group_read_only(world) is None  # never modified
    assert world.extra["states"].applied == []
    assert engine_read_only(world.extra["seoul"]) == 0
    assert world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not world.switch_config().get("Inverted")
    assert DynamoDbLock(world.client("dynamodb", TOKYO), LOCK_TABLE).holder() is None


def test_replica_lag_zero_with_a_trailing_io_thread_is_not_drained(world: DrWorld) -> None:
    """The I/O thread stopped before the last writes: the SQL thread applied all it
    received, so lag reads 0 (and RDS publishes 0), yet Tokyo lacks Seoul's last rows."""
    seoul: MariaDBServer = world.extra["seoul"]
    tokyo: MariaDBServer = world.extra["tokyo"]
    tokyo.execute("STOP SLAVE IO_THREAD")
    seoul.execute("INSERT INTO app.t VALUES (1), (2), (3)")
    assert tokyo.execute("SHOW SLAVE STATUS")  # still a replica, its SQL thread idle
    replica_lag_zero_after_the_fence(world)
    state, error = run_planned(world, drain=1.0)
    assert isinstance(error, SwitchoverRefusedError), error
    assert "did not apply everything" in str(error)
    assert "I/O thread No" in str(error)
    # The fence ran, then the refusal undid it: a resume must fence again.
    assert state.steps["fence_writes"]["status"] == "undone"
    assert_unfenced_and_nothing_else_changed(world)


def test_drained_once_the_replica_executed_the_fenced_position(world: DrWorld) -> None:
    seoul: MariaDBServer = world.extra["seoul"]
    tokyo: MariaDBServer = world.extra["tokyo"]
    seoul.execute("INSERT INTO app.t VALUES (1), (2), (3)")
    state, error = run_planned(world)
    assert error is None, error
    fenced = state.data["fenced_position"]
    assert "replica executed the fenced position" in state.steps["wait_drained"]["detail"]
    progress = replica_progress(master_dsn(world, tokyo))
    assert progress is not None and str(progress.executed) == fenced
    assert tokyo.execute("SELECT COUNT(*) FROM app.t")[0][0] == 3
