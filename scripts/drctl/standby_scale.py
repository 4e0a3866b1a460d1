"""``standby_scale: full`` against the primary's production size (drctl only: it reads
the primary's stack file, which a stack's own config validation cannot see)."""

from __future__ import annotations

from stacks.config import StackConfig


def size_shortfalls(dr: StackConfig, primary: StackConfig) -> list[str]:
    """Where a DR stack declared ``full`` runs smaller than its primary: the budget's
    missing scale-up term would then be a promise the standby cannot keep."""
    if dr.standby_scale != "full":
        return []
    out = []
    if dr.eks.desired_size < primary.eks.desired_size:
        out.append(
            f"eks.desired_size {dr.eks.desired_size} < {primary.stack}'s {primary.eks.desired_size}"
        )
    for name, count in sorted(primary.services.items()):
        mine = dr.services.get(name, 0)
        if mine < count:
            out.append(f"services.{name} {mine} < {primary.stack}'s {count}")
    return out


def full_size_overrides(dr: StackConfig, primary: StackConfig) -> list[str]:
    """``--set`` values that run this DR stack at the primary's size (for pricing)."""
    desired = min(max(primary.eks.desired_size, dr.eks.desired_size), dr.eks.max_size)
    out = ["standby_scale=full", f"eks.desired_size={desired}"]
    out += [
        f"services.{name}={max(count, dr.services.get(name, 0))}"
        for name, count in sorted(primary.services.items())
    ]
    return out
