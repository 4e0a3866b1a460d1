"""Planned mode on RDS, the parts moto alone can check: which fence is built, where the
master credential for its SQL proof comes from, and the refusals before any change.

The fence itself (RDS's apply states, SELECT @@GLOBAL.read_only, the executed binlog
position) runs against moto plus a real MariaDB pair in test_rds_fence_proof.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import command_support, failover_command
from drctl.failover.build import FailoverOptions, build_context
from drctl.failover.rds_fence import FenceUnavailableError
from drctl.stack_outputs import load_outputs_file

from .conftest import SEOUL, TOKYO, DrWorld, make_ops_app

app = make_ops_app()
pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")
GROUP = "drstack-seoul-mysql"
PRIMARY = "drstack-seoul-mysql"


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


def planned_context(world: DrWorld) -> Any:
    options = FailoverOptions(waiter_delay_seconds=0)
    options.extra["mode"] = "planned"
    return build_context(
        load_outputs_file(world.outputs_path), world.factory, options, say=lambda _m: None,
        scaler=world.scaler,
    )  # fmt: skip


def with_outputs(world: DrWorld, **changes: dict[str, Any]) -> None:
    outputs = json.loads(world.outputs_path.read_text())
    for stack, values in changes.items():
        outputs[stack].update(values)
    world.outputs_path.write_text(json.dumps(outputs))


def test_the_master_credential_is_read_from_its_replica_in_the_dr_region(
    fenceable: DrWorld,
) -> None:
    """Only when the preflight asks, from Tokyo's replica of the secret; the hosts are
    the instances' endpoints, the port the secret's."""
    secret = fenceable.client("secretsmanager", TOKYO).create_secret(
        Name="seoul-master",
        SecretString=json.dumps({"username": "admin", "password": "pw", "port": 3306}),
    )
    with_outputs(
        fenceable,
        seoul={"rds_address": "seoul.rds.example"},
        tokyo={"replica_address": "tokyo.rds.example", "replica_master_secret_arn": secret["ARN"]},
    )
    fence = planned_context(fenceable).fence
    dsns = fence.dsns()
    assert (dsns.primary.host, dsns.primary.port, dsns.primary.user) == (
        "seoul.rds.example",
        3306,
        "admin",
    )
    assert dsns.replica.host == "tokyo.rds.example" and dsns.replica.password == "pw"


def test_planned_without_the_master_credential_outputs_is_refused_before_any_change(
    fenceable: DrWorld,
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "failover", "--mode", "planned", "--yes",
            "--outputs", str(fenceable.outputs_path), "--state-dir", str(fenceable.state_dir),
        ],
    )  # fmt: skip
    assert result.exit_code == failover_command.EXIT_REFUSED, result.output
    text = " ".join(result.output.split())
    assert "proves the fence and the drain in SQL as the master user" in text
    assert "seoul.rds_address" in text and "tokyo.replica_address" in text
    assert read_only(fenceable) is None  # the group was never modified
    assert fenceable.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not fenceable.switch_config().get("Inverted")


def test_a_secret_that_is_not_a_master_credential_is_refused(fenceable: DrWorld) -> None:
    secret = fenceable.client("secretsmanager", TOKYO).create_secret(
        Name="not-a-credential", SecretString="just a string"
    )
    with_outputs(
        fenceable,
        seoul={"rds_address": "seoul.rds.example"},
        tokyo={"replica_address": "tokyo.rds.example", "replica_master_secret_arn": secret["ARN"]},
    )
    with pytest.raises(FenceUnavailableError, match="is not a master credential"):
        planned_context(fenceable).fence.check()
    assert read_only(fenceable) is None


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
