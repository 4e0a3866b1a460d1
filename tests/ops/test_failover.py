"""Failover/failback end to end in moto, resume after crashes, lock, lag guard, dry run."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from drctl import command_support, failover_command
from drctl.aws import ClientFactory
from drctl.failover.build import FailoverOptions, build_context
from drctl.failover.lock import DynamoDbLock
from drctl.failover.route53 import Route53DnsSwitch
from drctl.failover.runner import StepFailed, run_steps
from drctl.failover.state import RunInProgressError, RunState
from drctl.failover.steps import LockHeldError, failover_steps
from drctl.stack_outputs import load_outputs_file
from drctl.timeline import FORCE_DNS, PROMOTE_DATABASE

from .conftest import SEOUL, TOKYO, DrWorld, make_ops_app

app = make_ops_app()

pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")

FAILOVER_STEP_NAMES = [step.name for step in failover_steps()]


def count_calls(factory: ClientFactory, service: str, region: str, operation: str) -> list[int]:
    counter = [0]

    def hook(**_: Any) -> None:
        counter[0] += 1

    factory.client(service, region).meta.events.register(f"before-call.{service}.{operation}", hook)
    return counter


def run_cli(cli: CliRunner, world: DrWorld, *args: str) -> Any:
    return cli.invoke(
        app,
        [*args, "--outputs", str(world.outputs_path), "--state-dir", str(world.state_dir), "--yes"],
    )


def context_for(world: DrWorld, **overrides: Any) -> Any:
    options = FailoverOptions(waiter_delay_seconds=0, health_timeout_seconds=5, **overrides)
    ctx = build_context(
        load_outputs_file(world.outputs_path),
        world.factory,
        options,
        say=lambda _m: None,
        scaler=world.scaler,
    )
    ctx.poll_seconds = 0.01
    return ctx


def test_failover_end_to_end(cli: CliRunner, dr_world: DrWorld) -> None:
    dr_world.set_lag(2.0)
    promotes = count_calls(dr_world.factory, "rds", TOKYO, "PromoteReadReplica")

    result = run_cli(cli, dr_world, "failover", "--to", "tokyo", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "completed"
    assert report["config_commands"] == [
        "pulumi config set drstack:force_failover true -s tokyo",
        "pulumi config set drstack:promote_replica true -s tokyo",
    ]
    assert promotes[0] == 1
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    config = dr_world.switch_config()
    assert config["Inverted"] is True and config["Disabled"] is False
    assert dr_world.scaler.replicas == {"auth-deployment": 2, "team-service": 2}
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    assert lock.holder() is None  # released on success
    events = {e["name"]: e for e in report["timeline"]["events"]}
    assert set(FAILOVER_STEP_NAMES) <= set(events)
    assert all(e["finished_at"] and e["status"] == "ok" for e in events.values())
    assert "2.0s behind" in events["replica_lag_guard"]["detail"]
    # kubeconfig is a secret output and must never reach the terminal.
    assert "secret-token" not in result.output


def test_rerun_after_completion_is_a_new_run_that_checks_again(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    dr_world.set_lag(1.0)
    first = run_cli(cli, dr_world, "failover", "--json")
    assert first.exit_code == 0
    promotes = count_calls(dr_world.factory, "rds", TOKYO, "PromoteReadReplica")
    again = run_cli(cli, dr_world, "failover", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["run_id"] != json.loads(first.stdout)["run_id"]
    assert "already completed" not in again.output
    # Still failed over: every step looked at the real state and found nothing to change.
    assert promotes[0] == 0
    assert dr_world.switch_config()["Inverted"] is True


class SimulatedCrash(BaseException):
    """BaseException so no step handler can swallow it, like a killed process."""


@pytest.mark.parametrize("crash_after", FAILOVER_STEP_NAMES)
def test_crash_after_each_step_then_resume(dr_world: DrWorld, crash_after: str) -> None:
    dr_world.set_lag(1.0)
    promotes = count_calls(dr_world.factory, "rds", TOKYO, "PromoteReadReplica")
    inverts = count_calls(dr_world.factory, "route53", "us-east-1", "UpdateHealthCheck")
    steps = failover_steps()

    def crash(name: str) -> None:
        if name == crash_after:
            raise SimulatedCrash(name)

    first = RunState.load_or_create(dr_world.state_dir, "failover-tokyo", "failover")
    with pytest.raises(SimulatedCrash):
        run_steps(steps, context_for(dr_world), first, progress=lambda _m: None, after_step=crash)

    # A new process: state comes back from disk only.
    resumed = RunState.load_or_create(dr_world.state_dir, "failover-tokyo", "failover")
    assert resumed.run_id == first.run_id
    result = run_steps(steps, context_for(dr_world), resumed, progress=lambda _m: None)

    done_before = FAILOVER_STEP_NAMES[: FAILOVER_STEP_NAMES.index(crash_after) + 1]
    assert result.state.finished
    assert set(result.skipped_done) | set(result.executed) == set(FAILOVER_STEP_NAMES)
    # Only the guards run again (lock re-acquired by the same owner, lag re-checked
    # until promotion); no step that changes infrastructure repeats.
    assert not set(result.executed) & (set(done_before) - {"acquire_lock", "replica_lag_guard"})
    assert promotes[0] == 1 and inverts[0] == 1 and len(dr_world.scaler.calls) == 1
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert dr_world.switch_config()["Inverted"] is True


def test_lag_guard_is_rechecked_on_resume_before_promotion(dr_world: DrWorld) -> None:
    dr_world.set_lag(1.0)
    state = RunState.load_or_create(dr_world.state_dir, "failover-tokyo", "failover")

    def crash(name: str) -> None:
        if name == FORCE_DNS:
            raise SimulatedCrash(name)

    with pytest.raises(SimulatedCrash):
        run_steps(
            failover_steps(),
            context_for(dr_world),
            state,
            progress=lambda _m: None,
            after_step=crash,
        )
    dr_world.set_lag(500.0)  # the replica fell behind while we were down
    resumed = RunState.load_or_create(dr_world.state_dir, "failover-tokyo", "failover")
    with pytest.raises(StepFailed, match="refusing to promote") as failure:
        run_steps(failover_steps(), context_for(dr_world), resumed, progress=lambda _m: None)
    assert failure.value.step == "replica_lag_guard"
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")


class BarrierLock:
    """Both runs attempt the lock before either may continue, so the race is real."""

    def __init__(self, inner: DynamoDbLock, barrier: threading.Barrier) -> None:
        self._inner = inner
        self._barrier = barrier

    def acquire(self, owner: str, ttl_seconds: int, purpose: str = "", holder: str = "") -> bool:
        got = self._inner.acquire(owner, ttl_seconds, purpose, holder)
        self._barrier.wait(timeout=30)
        return got

    def renew(self, owner: str, ttl_seconds: int) -> bool:
        return self._inner.renew(owner, ttl_seconds)

    def take_over(self, owner: str, previous: str, ttl_seconds: int, *args: Any) -> bool:
        return self._inner.take_over(owner, previous, ttl_seconds, *args)

    def release(self, owner: str) -> None:
        self._inner.release(owner)

    def holder(self) -> Any:
        return self._inner.holder()


def test_two_concurrent_failovers_exactly_one_proceeds(dr_world: DrWorld, tmp_path: Path) -> None:
    dr_world.set_lag(1.0)
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def operator(name: str) -> None:
        ctx = context_for(dr_world)
        ctx.lock = BarrierLock(ctx.lock, barrier)
        state = RunState.load_or_create(tmp_path / name, "failover-tokyo", "failover")
        try:
            run_steps(failover_steps(), ctx, state, progress=lambda _m: None)
            outcomes[name] = "completed"
        except StepFailed as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=operator, args=(n,)) for n in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    completed = [n for n, o in outcomes.items() if o == "completed"]
    refused = [o for o in outcomes.values() if isinstance(o, StepFailed)]
    assert len(completed) == 1 and len(refused) == 1
    assert refused[0].step == "acquire_lock"
    assert isinstance(refused[0].cause, LockHeldError)
    assert "lock held by failover-tokyo-" in str(refused[0].cause)


def test_same_run_in_two_local_processes_is_refused(dr_world: DrWorld) -> None:
    holder = RunState.load_or_create(dr_world.state_dir, "failover-tokyo", "failover")
    holder.claim()
    try:
        other = RunState.load_or_create(dr_world.state_dir, "failover-tokyo", "failover")
        with pytest.raises(RunInProgressError, match="already being executed"):
            run_steps(failover_steps(), context_for(dr_world), other, progress=lambda _m: None)
    finally:
        holder.unclaim()


def test_lag_over_limit_is_refused_with_data_at_risk(cli: CliRunner, dr_world: DrWorld) -> None:
    dr_world.set_lag(120.0)
    result = run_cli(cli, dr_world, "failover", "--to", "tokyo")
    assert result.exit_code == failover_command.EXIT_REFUSED, result.output
    text = " ".join(result.output.split())
    assert "refusing to promote drstack-tokyo-replica" in text
    assert "120.0s behind the primary" in text
    assert "limit 30s" in text and "--accept-data-loss" in text
    assert "lock is released" in text
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not dr_world.switch_config().get("Inverted")
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    assert lock.holder() is None  # a refusal changed nothing, so it blocks nobody

    forced = run_cli(
        cli,
        dr_world,
        "failover",
        "--to",
        "tokyo",
        "--accept-data-loss",
        "--run-name",
        "second-operator",
    )
    assert forced.exit_code == 0, forced.output
    assert "accept-data-loss given" in " ".join(forced.output.split())
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")


def test_unknown_lag_is_refused(cli: CliRunner, dr_world: DrWorld) -> None:
    result = run_cli(cli, dr_world, "failover")
    assert result.exit_code == failover_command.EXIT_REFUSED
    assert "lag is UNKNOWN" in " ".join(result.output.split())


def test_replica_lag_minus_one_is_unknown_and_bounded_from_the_last_good_datapoint(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    """Seoul is gone: RDS publishes ReplicaLag -1 (replication not running). The guard
    refuses as for an unknown lag; accepted, the bound is now - t_last + lag_last."""
    from datetime import UTC, datetime, timedelta

    last_good_at = datetime.now(UTC) - timedelta(minutes=3)
    dr_world.set_lag(4.0, at=last_good_at)
    dr_world.set_lag(-1.0)
    refused = run_cli(cli, dr_world, "failover", "--to", "tokyo")
    assert refused.exit_code == failover_command.EXIT_REFUSED, refused.output
    text = " ".join(refused.output.split())
    assert "lag is UNKNOWN" in text and "reports -1 (replication is not running)" in text
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")

    forced = run_cli(
        cli, dr_world, "failover", "--to", "tokyo", "--accept-data-loss", "--run-name", "forced"
    )
    assert forced.exit_code == 0, forced.output
    state = json.loads(next(dr_world.state_dir.glob("*forced*.json")).read_text())
    assert state["data"]["lag_at_promotion_seconds"] is None  # never a -1 s bound
    assert state["data"]["lag_reported_seconds"] == -1.0
    bound = state["data"]["data_loss_bound_seconds"]
    # The datapoint's period starts at most a minute before last_good_at.
    assert 180 + 4 <= bound <= 180 + 60 + 4 + 30, bound
    guard = state["steps"]["replica_lag_guard"]["detail"]
    assert "last known lag 4.0s" in guard and "can be missing" in guard


def test_failback_never_counts_minus_one_as_caught_up(cli: CliRunner, dr_world: DrWorld) -> None:
    dr_world.set_lag(1.0)
    assert run_cli(cli, dr_world, "failover").exit_code == 0
    refused = run_cli(cli, dr_world, "failback", "--sync-timeout", "0", "--max-lag", "5")
    assert refused.exit_code == failover_command.EXIT_REFUSED, refused.output
    run_id = " ".join(refused.output.split()).split("rerun with --resume ")[1].split(":")[0]
    reverse_id = "drstack-seoul-mysql-failback"
    dr_world.set_lag(-1.0, instance_id=reverse_id, region=SEOUL)  # its IO thread is down
    again = run_cli(
        cli, dr_world, "failback", "--sync-timeout", "0", "--max-lag", "5", "--resume", run_id
    )
    assert again.exit_code == failover_command.EXIT_REFUSED, again.output
    assert "lag unknown" in " ".join(again.output.split())
    assert dr_world.switch_config()["Inverted"] is True  # DNS not moved back


def test_dry_run_calls_no_api(
    aws_credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = boto3.session.Session()
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    factory = ClientFactory(session=session, max_attempts=1)
    monkeypatch.setattr(command_support, "make_client_factory", lambda: factory)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "seoul": {"region": SEOUL, "rds_instance_id": "db"},
                "tokyo": {
                    "region": TOKYO,
                    "replica_instance_id": "replica",
                    "health_check_id": "hc-1",
                    "failover_switch_id": "hc-2",
                    "lock_table_name": "locks",
                    "app_url": "http://127.0.0.1:9",
                },
            }
        )
    )
    for command in ("failover", "failback"):
        result = CliRunner().invoke(
            app, [command, "--outputs", str(outputs), "--dry-run", "--state-dir", str(tmp_path)]
        )
        assert result.exit_code == 0, result.output
        assert "dry run" in result.output and "promote" in result.output
    assert calls == []
    assert not list(tmp_path.glob("*.json.lock"))
    # Positive control: the hook does see calls made through this factory.
    with pytest.raises(Exception):  # noqa: B017 - any failure is fine, we count the attempt
        factory.client("sts", TOKYO).get_caller_identity()
    assert calls == ["GetCallerIdentity"]


def test_failback_refuses_until_caught_up_then_completes(cli: CliRunner, dr_world: DrWorld) -> None:
    dr_world.set_lag(1.0)
    assert run_cli(cli, dr_world, "failover").exit_code == 0
    dr_world.scaler.calls.clear()

    refused = run_cli(cli, dr_world, "failback", "--sync-timeout", "0", "--max-lag", "5")
    assert refused.exit_code == failover_command.EXIT_REFUSED, refused.output
    text = " ".join(refused.output.split())
    assert "refusing to fail back" in text
    run_id = text.split("rerun with --resume ")[1].split(":")[0]
    assert dr_world.switch_config()["Inverted"] is True  # DNS not touched

    reverse_id = "drstack-seoul-mysql-failback"
    reverse = dr_world.client("rds", SEOUL).describe_db_instances(DBInstanceIdentifier=reverse_id)[
        "DBInstances"
    ][0]
    assert reverse["ReadReplicaSourceDBInstanceIdentifier"]
    dr_world.set_lag(0.5, instance_id=reverse_id, region=SEOUL)
    # After take_primary_endpoint RDS publishes its ReplicaLag under the primary's name.
    dr_world.set_lag(0.5, instance_id="drstack-seoul-mysql", region=SEOUL)

    done = run_cli(
        cli, dr_world, "failback", "--sync-timeout", "0", "--max-lag", "5", "--json",
        "--resume", run_id,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    # promote_replica goes off first: the config refuses a promoted replica while DNS
    # is not forced, so the other order would leave an invalid stack between the two.
    assert report["config_commands"] == [
        "pulumi config set drstack:promote_replica false -s tokyo",
        "pulumi config set drstack:force_failover false -s tokyo",
    ]
    # The promoted replica now carries the primary's identifier (the app's endpoint).
    primary_id = dr_world.outputs["seoul"]["rds_instance_id"]
    reverse = dr_world.client("rds", SEOUL).describe_db_instances(DBInstanceIdentifier=primary_id)[
        "DBInstances"
    ][0]
    assert not reverse.get("ReadReplicaSourceDBInstanceIdentifier")
    config = dr_world.switch_config()
    assert config["Inverted"] is False and config["Disabled"] is False
    # Fenced before the Seoul copy was promoted (no split brain), then back to standby.
    assert dr_world.scaler.calls == [
        {"auth-deployment": 0, "team-service": 0},
        {"auth-deployment": 1, "team-service": 1},
    ]
    steps = list(report["steps"])
    assert steps.index("fence_dr_writes") < steps.index("promote_primary")
    assert steps.index("promote_primary") < steps.index("revert_dns")  # DNS to a writable Seoul


def test_failback_refuses_when_nothing_was_promoted(cli: CliRunner, dr_world: DrWorld) -> None:
    result = run_cli(cli, dr_world, "failback")
    assert result.exit_code == failover_command.EXIT_FAILED
    assert "is not promoted" in " ".join(result.output.split())


def test_force_dns_inverts_and_never_leaves_the_check_disabled(dr_world: DrWorld) -> None:
    route53 = dr_world.client("route53", "us-east-1")
    hc_id = dr_world.outputs["tokyo"]["failover_switch_id"]
    route53.update_health_check(HealthCheckId=hc_id, Disabled=True)
    switch = Route53DnsSwitch(route53, hc_id)
    assert not switch.is_forced_to_dr()  # disabled counts as healthy: not forced
    switch.force_to_dr()
    config = dr_world.switch_config()
    assert config["Inverted"] is True and config["Disabled"] is False
    switch.revert()
    assert dr_world.switch_config()["Inverted"] is False


def test_lock_expiry_owner_and_release(dr_world: DrWorld) -> None:
    now = [1000.0]
    lock = DynamoDbLock(
        dr_world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock", clock=lambda: now[0]
    )
    assert lock.acquire("a", 60)
    assert not lock.acquire("b", 60)
    assert lock.acquire("a", 60)  # resume by the same owner
    lock.release("b")  # not the owner: no effect
    assert lock.holder() is not None and lock.holder().owner == "a"  # type: ignore[union-attr]
    now[0] += 61
    assert lock.acquire("b", 60)  # expired: taken over
    lock.release("b")
    assert lock.holder() is None


def test_promote_step_name_matches_report_row() -> None:
    assert PROMOTE_DATABASE in FAILOVER_STEP_NAMES and FORCE_DNS in FAILOVER_STEP_NAMES


def test_config_commands_follow_the_strategy() -> None:
    from drctl.failover.steps import failback_config_commands, failover_config_commands

    assert failover_config_commands("azure-pilot", "pilot-light") == [
        "pulumi config set drstack:force_failover true -s azure-pilot",
        "pulumi config set drstack:emergency true -s azure-pilot",
        "pulumi config set drstack:enable_petclinic true -s azure-pilot",
    ]
    # Seed 001 failback: writes on Azure stop first, DNS moves back, the site goes last.
    assert [c.split()[3] for c in failback_config_commands("azure-pilot", "pilot-light")] == [
        "drstack:enable_petclinic",
        "drstack:force_failover",
        "drstack:emergency",
    ]


def test_an_unknown_strategy_is_one_clear_error_before_anything_runs(dr_world: DrWorld) -> None:
    """The CLI's outputs schema refuses it already; the guard covers every other caller
    of build_context (the Lambda, scripts): no client is made, so nothing can change."""
    from drctl.failover.steps import UnknownStrategyError, failover_config_commands
    from drctl.stack_outputs import StackOutputs

    outputs = json.loads(dr_world.outputs_path.read_text())
    outputs["tokyo"]["strategy"] = "cold-standby"
    clients: list[str] = []

    class RecordingFactory:
        def client(self, service: str, region: str) -> Any:
            clients.append(service)
            return dr_world.factory.client(service, region)

    with pytest.raises(UnknownStrategyError, match=r"tokyo\.strategy = 'cold-standby' is unknown"):
        build_context(
            StackOutputs(outputs, "test"),
            RecordingFactory(),  # type: ignore[arg-type]
            FailoverOptions(),
        )
    assert clients == []
    with pytest.raises(UnknownStrategyError, match="'cold-standby' is unknown"):
        failover_config_commands("tokyo", "cold-standby")
