"""`drctl failover --mode`: the planned plan, a bad mode, and planned mode refused
(changing nothing) where no write fence for the primary exists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import failover_command
from drctl.failover.lock import DynamoDbLock
from drctl.failover.planned import planned_steps
from drctl.failover.steps import failover_steps

from .conftest import TOKYO, DrWorld, make_ops_app

app = make_ops_app()
pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")


def run_cli(cli: CliRunner, world: DrWorld, *args: str) -> Any:
    return cli.invoke(
        app,
        [*args, "--outputs", str(world.outputs_path), "--state-dir", str(world.state_dir), "--yes"],
    )


def test_planned_order_fences_and_drains_before_promoting_then_moves_dns() -> None:
    names = [step.name for step in planned_steps()]
    assert names.index("fence_writes") < names.index("wait_drained")
    assert names.index("wait_drained") < names.index("promote_database")
    assert names.index("promote_database") < names.index("force_dns")
    # Unplanned stays today's path: DNS first, then promote what the replica has.
    unplanned = [step.name for step in failover_steps()]
    assert "fence_writes" not in unplanned
    assert unplanned.index("force_dns") < unplanned.index("promote_database")


def test_dry_run_shows_the_planned_steps(cli: CliRunner, dr_world: DrWorld) -> None:
    result = run_cli(cli, dr_world, "failover", "--mode", "planned", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "fence_writes" in result.output and "wait_drained" in result.output
    unplanned = run_cli(cli, dr_world, "failover", "--dry-run")
    assert "fence_writes" not in unplanned.output


def test_unknown_mode_is_named(cli: CliRunner, dr_world: DrWorld) -> None:
    result = run_cli(cli, dr_world, "failover", "--mode", "graceful")
    assert result.exit_code != 0
    assert "--mode 'graceful'" in result.output


def test_planned_without_a_fence_is_refused_and_changes_nothing(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    """No primary to fence (no outputs of the primary stack): refused before any step."""
    dr_world.set_lag(0.0)
    outputs = json.loads(dr_world.outputs_path.read_text())
    outputs.pop("seoul")
    dr_world.outputs_path.write_text(json.dumps(outputs))
    result = run_cli(cli, dr_world, "failover", "--mode", "planned")
    assert result.exit_code == failover_command.EXIT_REFUSED, result.output
    assert "no write fence" in " ".join(result.output.split())
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not dr_world.switch_config().get("Inverted")


def test_planned_on_a_default_parameter_group_is_refused_and_changes_nothing(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    """The primary of the world (like today's IaC) has the default parameter group,
    which RDS does not let anyone modify: the fence cannot work, and says why."""
    dr_world.set_lag(0.0)
    result = run_cli(cli, dr_world, "failover", "--mode", "planned")
    assert result.exit_code == failover_command.EXIT_REFUSED, result.output
    text = " ".join(result.output.split())
    assert "uses the default DB parameter group default.mysql" in text
    assert "the IaC must attach one" in text
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not dr_world.switch_config().get("Inverted")
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    assert lock.holder() is None


class _Fence:
    """Records fence calls; ``drained`` raises like a run whose deadline fired."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def fence(self) -> None:
        self.calls.append("fence")

    def unfence(self) -> None:
        self.calls.append("unfence")

    def drained(self) -> tuple[bool, str]:
        raise TimeoutError("gave up on the replica after 5s")


def test_a_drain_check_that_fails_unfences_before_the_error_propagates(
    dr_world: DrWorld, tmp_path: Any
) -> None:
    from drctl.failover.build import FailoverOptions, build_context
    from drctl.failover.runner import StepFailed, run_steps
    from drctl.failover.state import RunState
    from drctl.stack_outputs import load_outputs_file

    dr_world.set_lag(0.0)
    ctx = build_context(
        load_outputs_file(dr_world.outputs_path),
        dr_world.factory,
        FailoverOptions(waiter_delay_seconds=0),
        say=lambda _m: None,
        scaler=dr_world.scaler,
    )
    fence = _Fence()
    ctx.fence = fence
    state = RunState.create(tmp_path, "planned", "failover")
    with pytest.raises(StepFailed) as failed:
        run_steps(planned_steps(), ctx, state, progress=lambda _m: None)
    assert failed.value.step == "wait_drained"
    assert fence.calls == ["fence", "unfence"]
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")  # not promoted
