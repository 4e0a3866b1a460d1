"""The pilot-light drill with the binlog archiver: lost writes within one flush interval."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.sandbox.azurite import azurite_available
from drctl.sandbox.drill import DrillResult, _one_line, binlog_goal_lines, render_summary
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.mariadb import mariadb_available
from drctl.sandbox.objectives import stack_targets
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenario_runner import run_scenario
from drctl.sandbox.scenarios import SCENARIOS, ScenarioSettings

from .conftest import require


@pytest.mark.mariadb
@pytest.mark.azurite
def test_pilot_light_replays_the_archive_and_loses_at_most_one_flush(tmp_path: Path) -> None:
    require(mariadb_available(), "MariaDB")
    require(azurite_available(), "Azurite")
    assert {"pilot-light", "pilot-light-dump-only"} <= set(SCENARIOS)  # both in `make drill`
    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        env = SandboxEnvironment(tmp_path, supervisor)
        env.start_shared()
        settings = ScenarioSettings(
            state_dir=tmp_path / "runs",
            outputs_path=tmp_path / "outputs.json",
            warmup_seconds=0.5,
            backup_interval=8.0,  # dumps far apart: the archive carries what came after
            say=lambda _line: None,
        )
        [result] = run_scenario("pilot-light", env, settings)
        env.stop()

    assert result.error is None, result.error
    assert result.loss is not None and result.rto_seconds is not None
    extra = result.extra
    assert extra["binlog_archiver_errors"] == []
    assert extra["binlog_replayed_segments"] >= 1
    # With an 8 s dump interval a dump-only restore would lose seconds of writes (the
    # fault comes mid-interval); the archive bounds the loss by one flush interval (the
    # issue's goal): the archiver commits a segment so that its upload ends within the
    # interval. Time, not a write count: the write rate swings with the machine's load.
    assert result.loss.rpo_seconds <= settings.binlog_flush_seconds, extra
    assert extra["binlog_rpo_met"] is True
    # `make drill` shows it: the run's line and the summary's goal table.
    assert f"RPO ≤ one binlog flush ({settings.binlog_flush_seconds:g}s): met" in _one_line(result)
    drill = DrillResult([result], {"azure-pilot": stack_targets("azure-pilot")}, tmp_path, tmp_path)
    summary = render_summary(drill)
    assert "## Pilot-light RPO against one binlog flush interval (the goal)" in summary
    assert f"| pilot-light #1 | {result.loss.rpo_seconds:.2f}s | 1s |" in summary
    assert binlog_goal_lines(drill) == [
        f"pilot-light run 1: RPO {result.loss.rpo_seconds:.2f}s vs one binlog flush interval "
        "1s: met"
    ]
    assert result.loss.rpo_seconds < settings.backup_interval / 2
