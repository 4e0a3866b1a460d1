"""Objectives and the budget model's prediction for a DR stack, from its shipped YAML.

The prediction comes from ``policy.budget.compute_budget`` (the same model the policy
pack and ``drctl preview`` use). If that model cannot be loaded, the objectives are
still read straight from ``drstack:objectives`` and the prediction is reported as
missing rather than invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from drctl.sandbox.paths import REPO_ROOT

# Used only if the stack file itself is missing (seed 000 §9 and seed 001's figures).
FALLBACK_OBJECTIVES = {
    "tokyo": {"rto_minutes": 30.0, "rpo_seconds": 5.0},
    "azure-pilot": {"rto_minutes": 240.0, "rpo_seconds": 300.0},
}


@dataclass(frozen=True)
class StackTargets:
    stack: str
    rto_minutes: float
    rpo_seconds: float
    predicted_rto_seconds: float | None
    predicted_rpo_seconds: float | None
    prediction_lines: tuple[str, ...]
    source: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _raw_config(stack: str) -> dict[str, Any] | None:
    path = REPO_ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return None
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = loaded.get("config", {})
    return config if isinstance(config, dict) else {}


def stack_targets(stack: str, mode: str = "unplanned") -> StackTargets:
    """The stack's objectives and the budget of one failover mode (planned: fence + drain
    + promote + DNS, RPO 0; policy/budget_modes.py)."""
    raw = _raw_config(stack)
    if raw is None:
        fallback = FALLBACK_OBJECTIVES[stack]
        return StackTargets(
            stack, fallback["rto_minutes"], fallback["rpo_seconds"], None, None, (), "built-in"
        )
    objectives = raw.get("drstack:objectives", FALLBACK_OBJECTIVES[stack])
    rto_minutes = float(objectives.get("rto_minutes", FALLBACK_OBJECTIVES[stack]["rto_minutes"]))
    rpo_seconds = float(objectives.get("rpo_seconds", FALLBACK_OBJECTIVES[stack]["rpo_seconds"]))
    try:
        # Hook: the budget model (policy/budget.py) owns the prediction.
        from policy.budget_modes import mode_budget
        from stacks.config import parse_config

        budget = mode_budget(parse_config(stack, raw), mode)
    except Exception as exc:  # the model is missing or rejects the config: say so
        return StackTargets(
            stack,
            rto_minutes,
            rpo_seconds,
            None,
            None,
            (f"budget model unavailable: {exc}",),
            f"Pulumi.{stack}.yaml",
        )
    if budget is None:
        return StackTargets(stack, rto_minutes, rpo_seconds, None, None, (), f"Pulumi.{stack}.yaml")
    return StackTargets(
        stack,
        budget.rto_objective_seconds / 60.0,
        budget.rpo_objective_seconds,
        budget.rto_seconds,
        budget.rpo_seconds,
        (f"RTO: {budget.rto_line()}", f"RPO: {budget.rpo_line()}"),
        f"Pulumi.{stack}.yaml + policy.budget",
    )
