"""The budget model's production worst case for every shipped or example DR stack.

    python -m benchmarks.budget_model

Not a measurement: the RTO/RPO the budget model (policy/budget.py, budget_modes.py)
computes from each ``Pulumi.<stack>.yaml``, per engine and failover mode, against the
stack's objective and seed 001's Plan A. Writes ``benchmarks/budget_model.md``, which
``benchmarks/results.md`` includes; a test fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from observability.stack_config import RULE_STACKS, load_stack_config
from policy.budget import Budget, compute_budget, fmt_seconds
from policy.budget_modes import PLAN_A_RPO_SECONDS, PLAN_A_RTO_SECONDS, plan_a_rows

ROOT = Path(__file__).resolve().parent
SECTION = ROOT / "budget_model.md"


def _rows(stack: str) -> list[str]:
    cfg = load_stack_config(stack)
    base = compute_budget(cfg)
    if base is None:
        return []
    objective = (
        f"{fmt_seconds(base.rto_objective_seconds)} / {fmt_seconds(base.rpo_objective_seconds)}"
    )
    rows: list[tuple[str, str, bool, Budget, bool | None]]
    if cfg.strategy != "warm-standby":  # pilot light is Plan B: one path, no Plan A check
        rows = [("-", "unplanned", True, base, None)]
    else:
        rows = [(r.engine, r.mode, r.configured, r.budget, r.meets) for r in plan_a_rows(cfg)]
    lines = []
    for engine, mode, configured, budget, meets in rows:
        plan_a = "n/a (Plan B)" if meets is None else ("meets" if meets else "misses")
        lines.append(
            f"| `{stack}` | {engine}{'' if configured else ' (what-if)'} | {mode} "
            f"| {fmt_seconds(budget.rto_seconds)} | {fmt_seconds(budget.rpo_seconds)} "
            f"| {objective} | {plan_a} |"
        )
    return lines


def render() -> str:
    lines = [
        "## Budget model: production worst case per configuration",
        "",
        "Computed, not measured: `python -m benchmarks.budget_model` from the shipped stack "
        "files (policy/budget.py terms with their dated sources; `drctl preview` shows the "
        f"terms). Plan A = seed 001's RTO ≤ {fmt_seconds(PLAN_A_RTO_SECONDS)} and "
        f"RPO ≤ {fmt_seconds(PLAN_A_RPO_SECONDS)}.",
        "",
        "| stack | engine | mode | RTO | RPO | objective RTO / RPO | Plan A |",
        "|---|---|---|---|---|---|---|",
    ]
    for stack in RULE_STACKS:
        lines += _rows(stack)
    return "\n".join(lines) + "\n"


def main() -> None:
    SECTION.write_text(render(), encoding="utf-8")
    print(SECTION.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
