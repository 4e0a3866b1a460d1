"""benchmarks/budget_model.md is what the budget model computes from the shipped stacks."""

from __future__ import annotations

from benchmarks.budget_model import SECTION, render


def test_budget_model_section_is_current() -> None:
    assert SECTION.read_text(encoding="utf-8") == render(), (
        "benchmarks/budget_model.md is stale: run `python -m benchmarks.budget_model`"
    )
