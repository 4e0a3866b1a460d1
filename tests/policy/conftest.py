"""Shared helpers for the policy tests: cached syntheses and engine-shaped bad records.

Each synthesis costs about a second (a DR stack also synthesizes its primary), so every
(stack, overrides) pair is synthesized once per session (``drctl.preview`` caches it).
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from drctl.preview import cached_synthesize, primary_outputs
from drctl.synth import ResourceRecord, Synthesis
from policy.policies import Violation, evaluate


def synth(stack: str, *overrides: str) -> Synthesis:
    return cached_synthesize(stack, overrides)


def run_policies(
    syn: Synthesis, resources: Sequence[ResourceRecord] | None = None, config: Any = None
) -> list[Violation]:
    return evaluate(
        list(syn.resources if resources is None else resources),
        syn.config if config is None else config,
        primary_outputs(syn),
    )


def mutate(
    syn: Synthesis, type_: str, name_contains: str, change: Callable[[dict[str, Any]], None]
) -> tuple[list[ResourceRecord], ResourceRecord]:
    """A copy of the synthesis' records with one resource's engine inputs changed."""
    target = syn.one(type_, name_contains)
    inputs = copy.deepcopy(target.inputs)
    change(inputs)
    display = copy.deepcopy(target.display_inputs)
    change(display)
    bad = replace(target, inputs=inputs, display_inputs=display)
    return [bad if r.urn == target.urn else r for r in syn.resources], bad


def without(syn: Synthesis, predicate: Callable[[ResourceRecord], bool]) -> list[ResourceRecord]:
    gone = {r.urn for r in syn.resources if predicate(r)}
    return [
        replace(r, depends_on=[u for u in r.depends_on if u not in gone])
        for r in syn.resources
        if r.urn not in gone
    ]


def record(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    region: str = "ap-northeast-2",
    depends_on: Sequence[str] = (),
    display_inputs: dict[str, Any] | None = None,
) -> ResourceRecord:
    return ResourceRecord(
        urn=f"urn:pulumi:test::drstack::{type_}::{name}",
        type=type_,
        name=name,
        parent=None,
        region=region,
        provider=None,
        custom=True,
        inputs=inputs,
        display_inputs=inputs if display_inputs is None else display_inputs,
        depends_on=list(depends_on),
        ignore_changes=[],
        protect=False,
    )


def caught(policy: str, violations: Sequence[Violation], *fragments: str) -> None:
    """The policy reported the bad case, with every fragment in its messages."""
    mine = [v for v in violations if v.policy == policy]
    assert mine, f"{policy} did not catch the bad case; got {[v.policy for v in violations]}"
    text = " | ".join(v.message for v in mine)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def deploy_cases() -> dict[str, Callable[[], None]]:
    """The bad cases of the deploy-time constraints: ``CASES`` of every
    ``tests/policy/deploy_cases_*.py`` module (one per ``policy/deploy_*.py``)."""
    import tests.policy as package

    cases: dict[str, Callable[[], None]] = {}
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("deploy_cases_"):
            cases.update(importlib.import_module(f"tests.policy.{module.name}").CASES)
    return cases


def names(violations: Sequence[Violation], level: str | None = None) -> set[str]:
    return {v.policy for v in violations if level is None or v.level == level}


@pytest.fixture
def seoul() -> Synthesis:
    return synth("seoul")


@pytest.fixture
def tokyo() -> Synthesis:
    return synth("tokyo")
