"""Issue 10 item 1: a run has an identity. A new event is a new run; only --resume
continues an old one, and a completed run is never reported as this event's success."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from drctl.failover.route53 import Route53DnsSwitch
from drctl.failover.runner import run_steps
from drctl.failover.state import RunNotResumableError, RunState
from drctl.failover.steps import failover_steps
from drctl.timeline import FORCE_DNS

from .conftest import TOKYO, DrWorld
from .test_failover import SimulatedCrash, context_for, count_calls, run_cli

pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")


def end_the_drill(world: DrWorld) -> None:
    """What failback and the next `pulumi up` leave: DNS on Seoul, a fresh replica."""
    route53 = world.client("route53", "us-east-1")
    Route53DnsSwitch(route53, world.outputs["tokyo"]["failover_switch_id"]).revert()
    rds = world.client("rds", TOKYO)
    replica_id = world.outputs["tokyo"]["replica_instance_id"]
    rds.delete_db_instance(DBInstanceIdentifier=replica_id, SkipFinalSnapshot=True)
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier=replica_id,
        SourceDBInstanceIdentifier=world.outputs["seoul"]["rds_instance_arn"],
        DBInstanceClass="db.t3.micro",
    )
    world.set_lag(1.0)


def test_a_new_event_after_a_completed_drill_acts_again(cli: CliRunner, dr_world: DrWorld) -> None:
    dr_world.set_lag(1.0)
    drill = run_cli(cli, dr_world, "failover", "--json")
    assert drill.exit_code == 0, drill.output
    end_the_drill(dr_world)
    assert not dr_world.switch_config().get("Inverted")
    promotes = count_calls(dr_world.factory, "rds", TOKYO, "PromoteReadReplica")

    disaster = run_cli(cli, dr_world, "failover", "--json")

    assert disaster.exit_code == 0, disaster.output
    report = json.loads(disaster.stdout)
    assert report["status"] == "completed"
    assert report["run_id"] != json.loads(drill.stdout)["run_id"]
    assert "already completed" not in disaster.output
    assert promotes[0] == 1  # this event promoted the new replica
    assert dr_world.switch_config()["Inverted"] is True
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert all(entry["status"] == "done" for entry in report["steps"].values())


def crash_after(world: DrWorld, step: str) -> RunState:
    state = RunState.create(world.state_dir, "failover-tokyo", "failover")

    def crash(name: str) -> None:
        if name == step:
            raise SimulatedCrash(name)

    with pytest.raises(SimulatedCrash):
        run_steps(
            failover_steps(), context_for(world), state, progress=lambda _m: None, after_step=crash
        )
    return state


def test_resume_continues_only_the_named_unfinished_run(cli: CliRunner, dr_world: DrWorld) -> None:
    dr_world.set_lag(1.0)
    crashed = crash_after(dr_world, FORCE_DNS)
    inverts = count_calls(dr_world.factory, "route53", "us-east-1", "UpdateHealthCheck")
    promotes = count_calls(dr_world.factory, "rds", TOKYO, "PromoteReadReplica")

    # A plain rerun is a new event: it points at the unfinished run and meets its lock.
    fresh = run_cli(cli, dr_world, "failover")
    text = " ".join(fresh.output.split())
    assert fresh.exit_code == 3, fresh.output
    assert f"--resume {crashed.run_id}" in text
    assert f"lock held by {crashed.run_id}" in text and "--take-over-lock" in text

    resumed = run_cli(cli, dr_world, "failover", "--resume", crashed.run_id, "--json")
    assert resumed.exit_code == 0, resumed.output
    report = json.loads(resumed.stdout)
    assert report["run_id"] == crashed.run_id and report["status"] == "completed"
    assert inverts[0] == 0 and promotes[0] == 1

    again = run_cli(cli, dr_world, "failover", "--resume", crashed.run_id)
    assert again.exit_code == 2
    assert "already completed" in again.output and "Omit --resume" in " ".join(again.output.split())
    unknown = run_cli(cli, dr_world, "failover", "--resume", "failover-tokyo-nope")
    assert unknown.exit_code == 2 and "no such run" in unknown.output


def test_resume_refuses_a_run_of_another_kind(dr_world: DrWorld) -> None:
    state = RunState.create(dr_world.state_dir, "failback-tokyo", "failback")
    state.save()
    with pytest.raises(RunNotResumableError, match="is a failback, not a failover"):
        RunState.resume(dr_world.state_dir, state.run_id, "failover")


def test_load_or_create_never_replays_a_finished_run(dr_world: DrWorld) -> None:
    """The Lambda and the drill name their runs: a finished one must not be reused."""
    dr_world.set_lag(1.0)
    first = RunState.load_or_create(dr_world.state_dir, "auto-failover-tokyo", "failover")
    run_steps(failover_steps(), context_for(dr_world), first, progress=lambda _m: None)
    assert first.finished
    second = RunState.load_or_create(dr_world.state_dir, "auto-failover-tokyo", "failover")
    assert second.run_id != first.run_id and not second.steps and not second.finished
    kept = dr_world.state_dir / f"auto-failover-tokyo.{first.run_id}.json"
    assert json.loads(kept.read_text())["finished"] is True
