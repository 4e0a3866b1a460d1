"""Run one sandbox drill scenario by name: the registry of every scenario's runner.

Its own module so the scenarios (``scenarios.py``, ``planned_scenario.py``) import the
shared helpers without importing each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from drctl.failover.runner import StepFailed
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.planned_scenario import planned_switchover
from drctl.sandbox.scenarios import (
    ScenarioResult,
    ScenarioSettings,
    _new_timeline,
    app_failure,
    db_failure,
    pilot_light,
    pilot_light_dump_only,
    region_dark,
    region_failure_and_failback,
)


def run_scenario(
    key: str, env: SandboxEnvironment, settings: ScenarioSettings
) -> list[ScenarioResult]:
    """One scenario (region-failure also runs failback, which continues from it)."""
    runners: dict[str, Callable[[SandboxEnvironment, ScenarioSettings], Any]] = {
        "app-failure": app_failure,
        "db-failure": db_failure,
        "region-failure": region_failure_and_failback,
        "region-dark": region_dark,
        "pilot-light": pilot_light,
        "planned-switchover": planned_switchover,
        "pilot-light-dump-only": pilot_light_dump_only,
    }
    try:
        outcome = runners[key](env, settings)
    except Exception as exc:  # one broken scenario must not hide the others' results
        timeline = _new_timeline(key, "failover")
        error = str(exc) if isinstance(exc, StepFailed) else f"{type(exc).__name__}: {exc}"
        return [ScenarioResult(key, settings.run, None, None, None, timeline, error=error)]
    finally:
        with contextlib.suppress(Exception):
            env.teardown_regions()
    return outcome if isinstance(outcome, list) else [outcome]
