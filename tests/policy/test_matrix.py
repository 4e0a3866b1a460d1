"""The stack policy matrix: every shipped stack × every toggle combination synthesizes
under mocks and passes every mandatory policy.

Stacks are discovered from ``Pulumi.*.yaml`` (plus the three the design ships, so a
missing one fails instead of silently shrinking the matrix); the toggles that apply to
a stack come from the typed config's key tables for its role/strategy.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
import yaml

from drctl.cost import prerequisite_overrides
from drctl.synth import PROJECT_DIR
from stacks.config import ConfigError, _allowed_keys
from tests.policy.conftest import run_policies, synth

SHIPPED = ("seoul", "tokyo", "azure-pilot", "seoul-aurora", "tokyo-aurora")
TOGGLES = ("force_failover", "promote_replica", "emergency", "enable_petclinic")


def _stacks() -> list[str]:
    found = {p.name[len("Pulumi.") : -len(".yaml")] for p in PROJECT_DIR.glob("Pulumi.*.yaml")}
    return sorted(found | set(SHIPPED))


def _stack_config(stack: str) -> dict[str, object]:
    path = PROJECT_DIR / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    return dict((yaml.safe_load(path.read_text()) or {}).get("config") or {})


def _toggles(stack: str) -> tuple[str, ...]:
    raw = _stack_config(stack)
    role = str(raw.get("drstack:role", "primary"))
    strategy = raw.get("drstack:strategy")
    allowed = _allowed_keys(role, str(strategy) if strategy else None)
    return tuple(t for t in TOGGLES if t in allowed)


def expected_invalid(combo: dict[str, bool]) -> bool:
    """The phase-order rules of stacks/config.py (DESIGN 'Config toggles')."""
    if combo.get("promote_replica") and not combo.get("force_failover"):
        return True  # a promoted replica with DNS on the primary splits writes
    return bool(combo.get("enable_petclinic") and not combo.get("emergency"))


def _cases() -> Iterator[tuple[str, tuple[tuple[str, bool], ...]]]:
    for stack in _stacks():
        toggles = _toggles(stack)
        for values in itertools.product((False, True), repeat=len(toggles)):
            yield stack, tuple(zip(toggles, values, strict=True))


CASES = list(_cases())


def _id(case: tuple[str, tuple[tuple[str, bool], ...]]) -> str:
    stack, combo = case
    on = [k for k, v in combo if v]
    return f"{stack}[{'+'.join(on) or 'shipped'}]"


def _overrides(stack: str, combo: dict[str, bool]) -> list[str]:
    out = [f"{k}={json.dumps(v)}" for k, v in combo.items()]
    if combo.get("emergency"):
        out += prerequisite_overrides(stack)  # set once ahead of a disaster (seed 001)
    return out


def test_matrix_covers_every_shipped_stack() -> None:
    stacks = {stack for stack, _ in CASES}
    assert set(SHIPPED) <= stacks
    assert len(CASES) >= 1 + 4 + 8


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_stack_passes_mandatory_policies(case: tuple[str, tuple[tuple[str, bool], ...]]) -> None:
    stack, pairs = case
    assert (PROJECT_DIR / f"Pulumi.{stack}.yaml").exists(), f"stack {stack} is not shipped yet"
    combo = dict(pairs)
    overrides = _overrides(stack, combo)
    if expected_invalid(combo):
        with pytest.raises(ConfigError):
            synth(stack, *overrides)
        return
    syn = synth(stack, *overrides)
    assert syn.resources, f"{stack} declares no resources"
    for key, value in combo.items():
        assert getattr(syn.config, key) is value
    mandatory = [v for v in run_policies(syn) if v.level == "mandatory"]
    assert not mandatory, "\n".join(f"{v.policy}: {v.message} ({v.urn})" for v in mandatory)
