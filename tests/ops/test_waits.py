"""Waiting is visible and bounded: a step that waits says so every 15 s, and failover's
read-only preflight gives up on its own budget, naming the endpoint, instead of
spending the RTO budget silent on botocore retries."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drctl import deadline
from drctl.failover.runner import Step, run_steps
from drctl.failover.state import RunState
from drctl.failover_command import EXIT_GAVE_UP

from .conftest import make_ops_app
from .test_timeouts import SilentListener, outputs_file, silent_aws  # noqa: F401 (fixture)

app = make_ops_app()


def _sleeps(seconds: float):
    def run(ctx: object, state: RunState) -> str:
        time.sleep(seconds)
        return "done"

    return run


def test_a_step_that_waits_says_what_it_waits_for_again_and_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadline, "SAY_EVERY_SECONDS", 0.1)
    said: list[str] = []
    steps = [
        Step("promote_database", "promote and wait until available", _sleeps(0.45)),
        Step("quick", "returns at once", _sleeps(0)),
    ]
    run_steps(steps, None, RunState.create(tmp_path, "t", "failover"), progress=said.append)

    reminders = [line for line in said if line.startswith("[wait]")]
    assert len(reminders) >= 3, said
    assert all(line.startswith("[wait] promote_database: still waiting (") for line in reminders)
    assert said.index("[ ok ] promote_database: done") > said.index(reminders[-1])
    assert not any("quick: still waiting" in line for line in said)


def test_a_reminder_says_how_long_so_far_and_when_the_run_gives_up() -> None:
    said: list[str] = []
    with deadline.limit(600), deadline.waiting("ECR replication", said.append, every=0.05):
        time.sleep(0.12)
    assert said, "no reminder"
    assert said[0].startswith("[wait] ECR replication: still waiting (0s so far; gives up in ")


def test_the_default_reminder_interval_is_at_most_15_seconds() -> None:
    assert 0 < deadline.SAY_EVERY_SECONDS <= 15


def test_preflight_gives_up_on_its_own_budget_naming_the_endpoint(
    silent_aws: SilentListener,  # noqa: F811
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(
        app,
        [
            *("failover", "--outputs", str(outputs_file(tmp_path)), "--yes"),
            *("--timeout", "600", "--preflight-timeout", "1"),
            *("--state-dir", str(tmp_path / "runs")),
        ],
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == EXIT_GAVE_UP, result.output
    assert (
        f"failover (step 'preflight') gave up: {silent_aws.url} did not answer "
        "(--preflight-timeout 1s); nothing was changed"
    ) in " ".join(result.output.split())
    # The budget plus at most one attempt already in flight (aws.py read timeout, 20 s),
    # not the 600 s --timeout.
    assert elapsed < 1 + 20 + 10, elapsed


def test_preflight_budget_defaults_to_well_under_a_minute() -> None:
    from drctl import command_support

    # With one read timeout (20 s) in flight on top, the worst case stays within 60 s.
    assert command_support.PREFLIGHT_TIMEOUT_SECONDS + 20 <= 60
