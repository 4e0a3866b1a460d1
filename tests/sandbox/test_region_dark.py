"""The region-dark drill scenario: Seoul's app, database and its own AWS API server die
together; the failover completes, reports an RTO, and only looked at Seoul afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.failover.steps import OBSERVE_PRIMARY, failover_steps
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.mariadb import mariadb_available
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenario_runner import run_scenario
from drctl.sandbox.scenarios import SCENARIOS, ScenarioSettings

from .conftest import require


@pytest.mark.mariadb
def test_region_dark_failover_completes_with_seoul_apis_dead(tmp_path: Path) -> None:
    require(mariadb_available(), "MariaDB")
    assert "region-dark" in SCENARIOS  # part of `make drill`'s default list
    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        env = SandboxEnvironment(tmp_path, supervisor)
        env.start_shared(with_azurite=False)
        settings = ScenarioSettings(
            state_dir=tmp_path / "runs",
            outputs_path=tmp_path / "outputs.json",
            warmup_seconds=0.5,
            say=lambda _line: None,
        )
        [result] = run_scenario("region-dark", env, settings)
        dark_moto_after = env.primary_moto
        env.stop()

    assert result.error is None, result.error
    assert result.rto_seconds is not None and result.rto_seconds > 0
    # The control: Seoul's own API answered before the fault, so "unreachable" is real.
    assert "database seoul-db available" in result.extra["primary_api_before_fault"]
    events = {event.name: event for event in result.timeline.events}
    assert {step.name for step in failover_steps()} <= set(events)
    observed = events[OBSERVE_PRIMARY]
    assert observed.status == "skipped"
    assert "seoul region unreachable (looked for at most 2s)" in observed.detail
    assert "database seoul-db" in observed.detail  # Seoul's AWS API, not only its app
    assert all(
        events[name].status == "ok"
        for name in ("force_dns", "promote_database", "scale_deployments", "verify_health")
    )
    assert any("AWS APIs (their own moto server) were killed" in note for note in result.notes)
    assert dark_moto_after is None  # torn down with the scenario's regions
