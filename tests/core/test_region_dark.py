"""Region-dark failover (static stability), proven on the DR programs.

With the primary region (Seoul) down, its APIs are down too. The documented IaC failover
(`force_failover`, `promote_replica`, `emergency`, `enable_petclinic`, then `pulumi up` of
the DR stack) must therefore:
* change no resource in the primary region (an unchanged resource costs no API call:
  `pulumi up` does not refresh by default);
* read nothing there: no `X.get(...)` and no invoke through a primary-region provider;
* configure every primary-region provider so that configure and diff call nothing
  (no STS, no metadata API, no region lookup).

What this cannot prove offline: that a provider plugin makes no call beyond what its
documented skip flags promise; and the state backend, which must not live in the
primary region (README, Deploy).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from drctl.synth import PROJECT_DIR, ResourceRecord, Synthesis, load_stack_file, synthesize
from tests.pilot_light.conftest import PREPARED

PRIMARY = "ap-northeast-2"
STATIC_FLAGS = (
    "skipCredentialsValidation",
    "skipRequestingAccountId",
    "skipMetadataApiCheck",
    "skipRegionValidation",
)

# Each DR stack's standby config, and the failover steps an operator applies in order.
BASE: dict[str, tuple[str, ...]] = {"tokyo": (), "tokyo-aurora": (), "azure-pilot": PREPARED}
STEPS: dict[str, list[tuple[str, ...]]] = {
    "tokyo": [
        ("force_failover=true",),
        ("force_failover=true", "promote_replica=true"),
    ],
    # The Aurora secondary: the same toggles, the global database attached by id only.
    "tokyo-aurora": [
        ("force_failover=true",),
        ("force_failover=true", "promote_replica=true"),
    ],
    "azure-pilot": [
        ("force_failover=true",),
        ("force_failover=true", "emergency=true"),
        ("force_failover=true", "emergency=true", "enable_petclinic=true"),
    ],
}


def _failover_path_stacks() -> set[str]:
    """Every shipped DR stack an operator runs `pulumi up` on during a failover.

    Skipped: a DR stack with `drstack:site_stack` (azure-pilot-backup). It holds the
    site's backup CronJob, which must run next to the source database, so it lives in
    Seoul on purpose; when Seoul is gone its job and source database are gone with it, and
    nobody runs `pulumi up` on it during a failover.
    """
    stacks = set()
    for path in PROJECT_DIR.glob("Pulumi.*.yaml"):
        name = path.name[len("Pulumi.") : -len(".yaml")]
        config = load_stack_file(name)
        if config.get("drstack:role") == "dr" and "drstack:site_stack" not in config:
            stacks.add(name)
    return stacks


def test_every_dr_stack_on_the_failover_path_is_covered() -> None:
    assert _failover_path_stacks() == set(STEPS) == set(BASE)


def _params(with_standby: bool) -> list[Any]:
    return [
        pytest.param(
            (stack, step),
            id=f"{stack}[{','.join(step) or 'standby'}]",
        )
        for stack, steps in STEPS.items()
        for step in ([(), *steps] if with_standby else steps)
    ]


@cache
def synth(stack: str, *overrides: str) -> Synthesis:
    return synthesize(stack, (*BASE[stack], *overrides))


def _custom_in_primary(syn: Synthesis) -> dict[str, ResourceRecord]:
    return {
        r.urn: r
        for r in syn.resources
        if r.custom and not r.type.startswith("pulumi:") and r.region == PRIMARY
    }


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        value = json.loads(value) if value in ("true", "false") else value
    return value is True


@pytest.mark.parametrize("case", _params(with_standby=True))
def test_dr_program_reads_nothing_in_the_primary_region(case: tuple[str, tuple[str, ...]]) -> None:
    syn = synth(case[0], *case[1])
    # A StackReference reads the state backend, not the cloud (see README, Deploy).
    reads = [
        r.urn
        for r in syn.resources
        if r.read and r.region == PRIMARY and not r.type.startswith("pulumi:")
    ]
    assert reads == [], f"reads of primary-region resources: {reads}"
    invokes = [i.token for i in syn.invokes if i.region == PRIMARY]
    assert invokes == [], f"invokes through a primary-region provider: {invokes}"


@pytest.mark.parametrize("case", _params(with_standby=True))
def test_primary_region_providers_call_nothing_when_configured(
    case: tuple[str, tuple[str, ...]],
) -> None:
    syn = synth(case[0], *case[1])
    in_primary = [
        r for r in syn.resources if r.type.startswith("pulumi:providers:") and r.region == PRIMARY
    ]
    bad = []
    for provider in in_primary:
        if provider.type != "pulumi:providers:aws":
            # A Kubernetes/other provider for a primary-region cluster needs that region's
            # API server (and an STS token) to diff: it cannot be static.
            bad.append(f"{provider.name} ({provider.type})")
            continue
        missing = [f for f in STATIC_FLAGS if not _flag(provider.inputs.get(f))]
        if missing:
            bad.append(f"{provider.name} lacks {missing}")
    assert bad == [], f"primary-region providers that call the region: {bad}"


@pytest.mark.parametrize("case", _params(with_standby=False))
def test_failover_toggles_change_nothing_in_the_primary_region(
    case: tuple[str, tuple[str, ...]],
) -> None:
    stack, toggles = case
    before = _custom_in_primary(synth(stack))
    after = _custom_in_primary(synth(stack, *toggles))
    assert sorted(after) == sorted(before), "primary-region resources appear or disappear"
    changed = [urn for urn, r in after.items() if r.inputs != before[urn].inputs]
    assert changed == [], f"primary-region resources changed by {toggles}: {changed}"


def test_the_harness_sees_primary_region_reads_and_invokes() -> None:
    """Positive control: the recording does see a read and an invoke in the primary
    region when a program makes them (the seoul program invokes there)."""
    seoul = synthesize("seoul")
    assert any(i.region == PRIMARY for i in seoul.invokes)
