"""The plan a run was started with, recorded in its state and used by ``--resume``.

A resumed run continues the event it started for: the same mode, stacks and guards.
Resuming a planned run without ``--mode`` once continued it as an unplanned one (no
fence, no drain) although its next step was a planned one. A flag given on resume that
contradicts the recorded plan is refused in one line; a flag left out takes the
recorded value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from drctl.failover.build import FailoverOptions

MODE = "mode"
FENCE_STEP = "fence_writes"  # only planned runs have it (planned.FENCE_WRITES)


@dataclass(frozen=True)
class PlanOption:
    attr: str  # FailoverOptions attribute, or "mode"
    flag: str  # how the operator spells it
    param: str  # the command's parameter name (to know whether it was given)


FAILOVER_PLAN = (
    PlanOption(MODE, "--mode", "mode"),
    PlanOption("dr_stack", "--to", "to"),
    PlanOption("primary_stack", "--from", "primary"),
    PlanOption("max_lag_seconds", "--max-lag", "max_lag"),
    PlanOption("accept_data_loss", "--accept-data-loss", "accept_data_loss"),
    PlanOption("drain_timeout_seconds", "--drain-timeout", "drain_timeout"),
)
FAILBACK_PLAN = (
    PlanOption("dr_stack", "--dr", "dr"),
    PlanOption("primary_stack", "--to", "to"),
    PlanOption("max_lag_seconds", "--max-lag", "max_lag"),
    PlanOption("reverse_replica_id", "--reverse-replica-id", "reverse_replica_id"),
    PlanOption("gtid_proof", "--lag-only", "lag_only"),
)


class PlanConflictError(ValueError):
    """A flag given with --resume contradicts the plan the run recorded."""


def plan_for(kind: str) -> tuple[PlanOption, ...]:
    return FAILBACK_PLAN if kind == "failback" else FAILOVER_PLAN


class _ParameterSources(Protocol):
    def get_parameter_source(self, name: str) -> Any: ...


def given_flags(ctx: _ParameterSources, kind: str) -> set[str]:
    """The plan options the operator typed (not defaults)."""
    given = set()
    for option in plan_for(kind):
        source = ctx.get_parameter_source(option.param)
        # By name: Typer may bring its own copy of click's ParameterSource enum.
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            given.add(option.attr)
    return given


def _get(options: FailoverOptions, attr: str) -> Any:
    return options.extra.get(MODE) if attr == MODE else getattr(options, attr)


def _set(options: FailoverOptions, attr: str, value: Any) -> None:
    if attr == MODE:
        options.extra[MODE] = value
    else:
        setattr(options, attr, value)


def record(kind: str, options: FailoverOptions) -> dict[str, Any]:
    return {option.attr: _get(options, option.attr) for option in plan_for(kind)}


def recorded_plan(params: dict[str, Any], steps: dict[str, Any]) -> dict[str, Any]:
    """A run file from before plans were recorded: only planned runs have a fence step."""
    plan = dict(params)
    if MODE not in plan and steps:
        plan[MODE] = "planned" if FENCE_STEP in steps else "unplanned"
    return plan


def adopt(
    kind: str,
    run_id: str,
    recorded: dict[str, Any],
    options: FailoverOptions,
    given: set[str],
) -> None:
    """Continue with the recorded plan; refuse a given flag that contradicts it."""
    for option in plan_for(kind):
        if option.attr not in recorded:
            continue
        value, now = recorded[option.attr], _get(options, option.attr)
        if option.attr in given and now != value:
            raise PlanConflictError(
                f"--resume {run_id}: {option.flag} contradicts the run's recorded plan "
                f"({option.attr}={value!r}, given {now!r}); a run continues with the plan it "
                f"started with: omit {option.flag}, or start a new run without --resume"
            )
        _set(options, option.attr, value)
