"""The EKS control plane is priced by support window: standard vs extended."""

from __future__ import annotations

from policy.pricing import EKS_STANDARD_SUPPORT_END, HOURS_PER_MONTH, PRICES_AS_OF, estimate

from .conftest import synth


def control_plane(stack: str, *overrides: str) -> tuple[float, str]:
    lines = [
        line
        for line in estimate(synth(stack, *overrides)).lines
        if line.type == "aws:eks/cluster:Cluster"
    ]
    [line] = lines
    return line.monthly_usd, line.description


def test_shipped_version_costs_the_standard_rate() -> None:
    assert EKS_STANDARD_SUPPORT_END["1.35"] > PRICES_AS_OF
    usd, description = control_plane("seoul")
    assert usd == 0.10 * HOURS_PER_MONTH
    assert description == "EKS control plane 1.35 (standard support)"


def test_a_version_past_standard_support_costs_the_extended_rate() -> None:
    assert EKS_STANDARD_SUPPORT_END["1.31"] <= PRICES_AS_OF
    # Config refuses it unless the operator confirms the cluster still runs it.
    usd, description = control_plane("tokyo", "eks.version='1.31'", 'allow_unlisted=["1.31"]')
    assert usd == 0.60 * HOURS_PER_MONTH
    assert "extended support" in description
