"""The RTO/RPO budget as a policy: the worst case the configuration implies fits the
objectives (the model itself is ``policy/budget.py``).
"""

from __future__ import annotations

from pulumi_policy import (
    ReportViolation,
    StackValidationArgs,
)

from policy.budget import compute_budget
from policy.common import (
    _fail_closed,
    current_context,
)


def _rto_rpo_budget(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context(args)
    if _fail_closed(ctx, report, "rto-rpo-budget"):
        return
    assert ctx.config is not None
    budget = compute_budget(ctx.config)
    if budget is None:
        args.not_applicable("a primary stack declares no objectives")
        return
    for message in budget.breaches():
        report(message, None)


# =========================================================================== the policies
