"""Issue 10 item 2: a dead operator's lock blocks others for about a minute, not an hour;
a live holder keeps it by heartbeat; a takeover names the holder, asks, and is recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drctl.failover.heartbeat import LockHeartbeat
from drctl.failover.lock import DynamoDbLock
from drctl.failover.runner import run_steps
from drctl.failover.state import RunState
from drctl.failover.steps import failover_steps

from .conftest import TOKYO, DrWorld, make_ops_app
from .test_failover import SimulatedCrash, context_for, run_cli

pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")

LOCK_TABLE = "drstack-tokyo-failover-lock"
app = make_ops_app()


def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll a condition the test waits for; the timeout only stops a broken test."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.01)


def test_a_killed_runs_lock_expires_within_a_minute(dr_world: DrWorld, tmp_path: Path) -> None:
    dr_world.set_lag(1.0)
    now = [1_000_000.0]
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), LOCK_TABLE, clock=lambda: now[0])
    dead = context_for(dr_world)
    dead.lock = lock
    state = RunState.create(dr_world.state_dir, "failover-tokyo", "failover")

    def killed(name: str) -> None:
        if name == "acquire_lock":
            raise SimulatedCrash(name)

    with pytest.raises(SimulatedCrash):
        run_steps(failover_steps(), dead, state, progress=lambda _m: None, after_step=killed)

    holder = lock.holder()
    assert holder is not None and holder.owner == state.run_id
    assert "pid" in holder.holder and "@" in holder.holder  # it names who holds it
    assert holder.expires_at - now[0] <= 60

    other = context_for(dr_world)  # another operator: other machine, other state dir
    other.lock = lock
    now[0] += 61
    second = RunState.create(tmp_path / "elsewhere", "failover-tokyo", "failover")
    result = run_steps(failover_steps(), other, second, progress=lambda _m: None)
    assert result.state.finished
    assert lock.holder() is None


def test_heartbeat_keeps_a_live_holders_lock_and_notices_a_takeover(dr_world: DrWorld) -> None:
    now = [2_000_000.0]
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), LOCK_TABLE, clock=lambda: now[0])
    assert lock.acquire("alive", 60, holder="alice@ops pid 1")
    beat = LockHeartbeat(lock, "alive", 60, interval_seconds=0.01, say=lambda _m: None)
    now[0] += 50  # 10 s before expiry; a beat must push it out
    beat.start()
    try:
        eventually(
            lambda: (h := lock.holder()) is not None and h.expires_at >= now[0] + 59,
            "heartbeat renewed the lock",
        )
        assert not lock.acquire("intruder", 60)
        assert lock.take_over("rescuer", "alive", 60, holder="bob@ops pid 2")
        eventually(lambda: beat.lost is not None, "heartbeat noticed the takeover")
        assert "taken over" in str(beat.lost) and "bob@ops" in str(beat.lost)
    finally:
        beat.stop()
    holder = lock.holder()
    assert holder is not None and holder.owner == "rescuer"  # the old holder did not win it back


def test_stopped_heartbeat_lets_the_lock_expire(dr_world: DrWorld) -> None:
    now = [3_000_000.0]
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), LOCK_TABLE, clock=lambda: now[0])
    assert lock.acquire("gone", 60)
    beat = LockHeartbeat(lock, "gone", 60, interval_seconds=0.01, say=lambda _m: None)
    beat.start()
    eventually(lambda: beat.renewals > 0, "a first renewal")
    beat.stop()
    now[0] += 61
    assert lock.holder() is None
    assert lock.acquire("next", 60)


def test_take_over_is_conditional_on_the_named_holder(dr_world: DrWorld) -> None:
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), LOCK_TABLE)
    assert lock.acquire("first", 3600)
    assert not lock.take_over("me", "someone-else", 60)
    assert lock.holder().owner == "first"  # type: ignore[union-attr]
    assert not lock.renew("me", 60)
    assert lock.renew("first", 60)


def test_cli_takeover_asks_names_both_owners_and_releases(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    dr_world.set_lag(1.0)
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), LOCK_TABLE)
    assert lock.acquire("failover-tokyo-dead", 3600, holder="bob@laptop pid 4242")

    refused = run_cli(cli, dr_world, "failover")
    text = " ".join(refused.output.split())
    assert refused.exit_code == 3, refused.output
    assert "failover-tokyo-dead (bob@laptop pid 4242)" in text
    assert "--take-over-lock failover-tokyo-dead" in text

    wrong = run_cli(cli, dr_world, "failover", "--take-over-lock", "failover-tokyo-other")
    assert wrong.exit_code == 3
    assert "not by failover-tokyo-other" in " ".join(wrong.output.split())

    base = ["failover", "--outputs", str(dr_world.outputs_path)]
    base += ["--state-dir", str(dr_world.state_dir), "--take-over-lock", "failover-tokyo-dead"]
    declined = cli.invoke(app, base, input="y\nn\n")
    assert declined.exit_code == 1 and "not confirmed" in declined.output
    assert lock.holder().owner == "failover-tokyo-dead"  # type: ignore[union-attr]

    taken = cli.invoke(app, [*base, "--json"], input="y\ny\n")
    assert taken.exit_code == 0, taken.output
    report = json.loads(taken.stdout[taken.stdout.index("{") :])
    takeover = report["timeline"]["meta"]["lock_takeover"]
    assert takeover["from"] == "failover-tokyo-dead"
    assert takeover["from_holder"] == "bob@laptop pid 4242"
    assert takeover["to"] == report["run_id"] and "pid" in takeover["to_holder"]
    lock_event = next(e for e in report["timeline"]["events"] if e["name"] == "acquire_lock")
    assert "TAKEN OVER from failover-tokyo-dead" in lock_event["detail"]
    assert report["run_id"] in lock_event["detail"]
    assert lock.holder() is None


def test_lock_needs_only_the_lambda_roles_actions(dr_world: DrWorld) -> None:
    """components/failover_automation.py grants GetItem/PutItem/DeleteItem on the lock
    table; the heartbeat and takeover must not need more (UpdateItem would be denied)."""
    dynamodb = dr_world.client("dynamodb", TOKYO)
    operations: set[str] = set()
    dynamodb.meta.events.register(
        "before-call.dynamodb", lambda model, **_: operations.add(model.name)
    )
    lock = DynamoDbLock(dynamodb, LOCK_TABLE)
    assert lock.acquire("a", 60) and lock.renew("a", 60)
    assert lock.take_over("b", "a", 60) and not lock.renew("a", 60)
    lock.holder()
    lock.release("b")
    assert operations == {"GetItem", "PutItem", "DeleteItem"}
