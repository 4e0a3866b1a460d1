"""What one ``drctl preview`` found: the synthesis, the policy verdicts, budget and cost.

Its own module so that the view (``drctl.preview_view``) and the command
(``drctl.preview``) both use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drctl.synth import Synthesis
from policy.budget import Budget
from policy.policies import Violation
from policy.pricing import Cost


@dataclass
class PreviewResult:
    synthesis: Synthesis
    violations: list[Violation]
    budget: Budget | None
    cost: Cost

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    def as_json(self) -> dict[str, Any]:
        syn = self.synthesis
        return {
            "stack": syn.stack,
            "resources": [r.as_json() for r in syn.resources],
            "outputs": syn.display_outputs(),
            "policy": [v.as_json() for v in self.violations],
            "budget": self.budget.as_json() if self.budget is not None else None,
            "plan_a": _plan_a_json(self.synthesis),
            "cost": self.cost.as_json(),
        }


def _plan_a_json(syn: Synthesis) -> list[dict[str, Any]]:
    from policy.budget_modes import plan_a_rows

    return [row.as_json() for row in plan_a_rows(syn.config)]
