"""A run carries its whole plan: killed after any step or refused, then resumed, it
continues in the mode it started with, re-does what a refusal undid, and never
promotes without that mode's guards.

Kills are simulated in-process: a BaseException after a step (nothing can swallow it),
the state file being all the next process gets. Promotions are watched where they
happen, on the PromoteReadReplica call itself, so the invariant is checked at the
instant it matters, not only at the end.

The planned fence is a stand-in for Seoul's primary (moto has no engine to be
read-only): it tracks whether Seoul accepts writes and whether the replica was shown
drained since the fence went on. The real fence (parameter group, engine read_only,
executed binlog positions) is proven against MariaDB in test_rds_fence_proof.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import failover_command
from drctl.failover import runner
from drctl.failover.planned import planned_steps
from drctl.failover.state import RunState, unfinished_runs
from drctl.failover.steps import failback_steps, failover_steps

from .conftest import SEOUL, TOKYO, DrWorld, make_ops_app

app = make_ops_app()
pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")
PLANNED_STEPS = [step.name for step in planned_steps()]
UNPLANNED_STEPS = [step.name for step in failover_steps()]
FAILBACK_STEPS = [step.name for step in failback_steps()]
PROMOTE = "promote_database"


class Killed(BaseException):
    """The process died after a step: nothing below may catch it."""


class SeoulPrimary:
    """Seoul's writability as the planned fence changes it, and the drain proof."""

    def __init__(self) -> None:
        self.writable = True
        self.caught_up = True
        self.drained_since_fence = False

    def fence(self) -> None:
        self.writable = False
        self.drained_since_fence = False

    def unfence(self) -> None:
        self.writable = True
        self.drained_since_fence = False

    def drained(self) -> tuple[bool, str]:
        if self.caught_up and not self.writable:
            self.drained_since_fence = True
        return self.caught_up, "replica at the fenced position" if self.caught_up else "behind"


@pytest.fixture
def seoul(dr_world: DrWorld, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> SeoulPrimary:
    """Planned runs fence this Seoul; every run polls fast."""
    primary = SeoulPrimary()
    real_build = failover_command.build_context

    def build(*args: Any, **kwargs: Any) -> Any:
        ctx = real_build(*args, **kwargs)
        options = args[2]
        if options.extra.get("mode") == "planned":
            ctx.fence = primary
        ctx.poll_seconds = 0.01
        return ctx

    monkeypatch.setattr(failover_command, "build_context", build)
    return primary


def watch_promotions(world: DrWorld, region: str, check: Callable[[], str | None]) -> list[str]:
    """Every promotion in ``region`` is checked at the call; violations are collected."""
    violations: list[str] = []

    def hook(**_kwargs: Any) -> None:
        problem = check()
        if problem:
            violations.append(problem)

    client = world.client("rds", region)
    client.meta.events.register("before-call.rds.PromoteReadReplica", hook)
    return violations


def planned_guards(seoul: SeoulPrimary) -> Callable[[], str | None]:
    def check() -> str | None:
        if seoul.writable:
            return "Tokyo promoted while Seoul was writable (two writable primaries)"
        if not seoul.drained_since_fence:
            return "Tokyo promoted without a drain proven after the fence"
        return None

    return check


def kill_after(monkeypatch: pytest.MonkeyPatch, step: str | None) -> None:
    real = runner.run_steps

    def run_steps(*args: Any, **kwargs: Any) -> Any:
        def after(name: str) -> None:
            if name == step:
                raise Killed(name)

        return real(*args, **kwargs, after_step=after)

    monkeypatch.setattr(failover_command, "run_steps", run_steps)


def invoke(cli: CliRunner, world: DrWorld, *args: str) -> Any:
    return cli.invoke(
        app,
        [*args, "--outputs", str(world.outputs_path), "--state-dir", str(world.state_dir), "--yes"],
    )


def only_run(world: DrWorld, kind: str) -> RunState:
    (run,) = unfinished_runs(world.state_dir, kind)
    return run


def killed_run(
    cli: CliRunner, world: DrWorld, monkeypatch: pytest.MonkeyPatch, step: str, *args: str
) -> str:
    kill_after(monkeypatch, step)
    with pytest.raises(Killed):
        invoke(cli, world, *args)
    kill_after(monkeypatch, None)
    return only_run(world, args[0]).run_id


@pytest.mark.parametrize("step", PLANNED_STEPS[:-1])
def test_planned_killed_after_each_step_resumes_planned(
    cli: CliRunner,
    dr_world: DrWorld,
    seoul: SeoulPrimary,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    """Resumed without --mode, a planned run stays planned: fence, drain, then promote."""
    dr_world.set_lag(0.0)
    violations = watch_promotions(dr_world, TOKYO, planned_guards(seoul))
    run_id = killed_run(cli, dr_world, monkeypatch, step, "failover", "--mode", "planned")
    assert not (
        seoul.writable and not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    )

    resumed = invoke(cli, dr_world, "failover", "--resume", run_id, "--json")

    assert resumed.exit_code == 0, resumed.output
    assert violations == []
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not seoul.writable  # the old primary stays fenced
    assert RunState.load(Path(dr_world.state_dir) / f"{run_id}.json").params["mode"] == "planned"


def test_a_refused_planned_run_fences_again_before_it_promotes(
    cli: CliRunner, dr_world: DrWorld, seoul: SeoulPrimary
) -> None:
    """The refusal unfenced Seoul: on resume the fence step is not done, it runs again."""
    dr_world.set_lag(0.0)
    violations = watch_promotions(dr_world, TOKYO, planned_guards(seoul))
    seoul.caught_up = False
    refused = invoke(cli, dr_world, "failover", "--mode", "planned", "--drain-timeout", "0.2")
    assert refused.exit_code == failover_command.EXIT_REFUSED, refused.output
    assert seoul.writable
    run = only_run(dr_world, "failover")
    assert not run.is_done("fence_writes")

    seoul.caught_up = True  # replication recovered
    resumed = invoke(cli, dr_world, "failover", "--resume", run.run_id, "--mode", "planned")

    assert resumed.exit_code == 0, resumed.output
    assert violations == []
    assert not seoul.writable
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")


def test_a_refused_planned_run_resumed_without_mode_stays_planned(
    cli: CliRunner, dr_world: DrWorld, seoul: SeoulPrimary
) -> None:
    dr_world.set_lag(0.0)
    violations = watch_promotions(dr_world, TOKYO, planned_guards(seoul))
    seoul.caught_up = False
    refused = invoke(cli, dr_world, "failover", "--mode", "planned", "--drain-timeout", "0.2")
    assert refused.exit_code == failover_command.EXIT_REFUSED, refused.output
    run_id = only_run(dr_world, "failover").run_id

    again = invoke(cli, dr_world, "failover", "--resume", run_id)  # still behind

    assert again.exit_code == failover_command.EXIT_REFUSED, again.output
    assert seoul.writable and dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not dr_world.switch_config().get("Inverted")
    assert violations == []


@pytest.mark.parametrize(("started", "given"), [("planned", "unplanned"), ("unplanned", "planned")])
def test_a_resume_in_another_mode_is_refused_in_one_line(
    cli: CliRunner,
    dr_world: DrWorld,
    seoul: SeoulPrimary,
    monkeypatch: pytest.MonkeyPatch,
    started: str,
    given: str,
) -> None:
    dr_world.set_lag(0.0)
    run_id = killed_run(cli, dr_world, monkeypatch, "acquire_lock", "failover", "--mode", started)
    result = invoke(cli, dr_world, "failover", "--resume", run_id, "--mode", given)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"--resume {run_id}: --mode contradicts the run's recorded plan" in text
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not dr_world.switch_config().get("Inverted")


@pytest.mark.parametrize("step", UNPLANNED_STEPS[: UNPLANNED_STEPS.index(PROMOTE)])
def test_unplanned_killed_before_promotion_rechecks_the_lag_guard_on_resume(
    cli: CliRunner,
    dr_world: DrWorld,
    seoul: SeoulPrimary,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    """The recorded --max-lag is the guard on resume; lag over it now refuses."""
    dr_world.set_lag(1.0)
    promotions = watch_promotions(dr_world, TOKYO, lambda: "promoted")
    run_id = killed_run(cli, dr_world, monkeypatch, step, "failover", "--max-lag", "5")
    dr_world.set_lag(30.0)
    resumed = invoke(cli, dr_world, "failover", "--resume", run_id)
    assert resumed.exit_code == failover_command.EXIT_REFUSED, resumed.output
    assert promotions == []
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert seoul.writable  # unplanned never touches Seoul


@pytest.mark.parametrize("step", UNPLANNED_STEPS[UNPLANNED_STEPS.index(PROMOTE) : -1])
def test_unplanned_killed_after_promotion_completes_unplanned(
    cli: CliRunner,
    dr_world: DrWorld,
    seoul: SeoulPrimary,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    dr_world.set_lag(1.0)
    run_id = killed_run(cli, dr_world, monkeypatch, step, "failover")
    promotions = watch_promotions(dr_world, TOKYO, lambda: "promoted twice")
    resumed = invoke(cli, dr_world, "failover", "--resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    assert promotions == []
    assert dr_world.switch_config()["Inverted"] is True
    assert seoul.writable  # no fence on the unplanned path


def dr_writes_stopped(world: DrWorld) -> Callable[[], str | None]:
    def check() -> str | None:
        if any(world.scaler.replicas.values()):
            return f"Seoul promoted while the DR site still serves writes: {world.scaler.replicas}"
        return None

    return check


@pytest.mark.parametrize("step", FAILBACK_STEPS[:-1])
def test_failback_killed_after_each_step_never_promotes_with_dr_writable(
    cli: CliRunner, dr_world: DrWorld, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    dr_world.set_lag(1.0)
    assert invoke(cli, dr_world, "failover").exit_code == 0
    for instance in ("drstack-seoul-mysql-failback", "drstack-seoul-mysql"):
        dr_world.set_lag(0.5, instance_id=instance, region=SEOUL)
    violations = watch_promotions(dr_world, SEOUL, dr_writes_stopped(dr_world))
    args = ("--sync-timeout", "0", "--max-lag", "5")
    run_id = killed_run(cli, dr_world, monkeypatch, step, "failback", *args)
    resumed = invoke(cli, dr_world, "failback", "--resume", run_id, "--json")
    assert resumed.exit_code == 0, resumed.output
    assert violations == []
    assert dr_world.switch_config()["Inverted"] is False
    recorded = RunState.load(Path(dr_world.state_dir) / f"{run_id}.json").params
    assert recorded["max_lag_seconds"] == 5.0  # the resume ran with the recorded guard


def test_failback_refused_then_resumed_promotes_only_once_dr_writes_stopped(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    dr_world.set_lag(1.0)
    assert invoke(cli, dr_world, "failover").exit_code == 0
    violations = watch_promotions(dr_world, SEOUL, dr_writes_stopped(dr_world))
    refused = invoke(cli, dr_world, "failback", "--sync-timeout", "0", "--max-lag", "5")
    assert refused.exit_code == failover_command.EXIT_REFUSED, refused.output
    run_id = only_run(dr_world, "failback").run_id
    for instance in ("drstack-seoul-mysql-failback", "drstack-seoul-mysql"):
        dr_world.set_lag(0.5, instance_id=instance, region=SEOUL)
    resumed = invoke(cli, dr_world, "failback", "--resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    assert violations == []
