"""Shared, cached syntheses: each one runs the whole program under mocks (~2 s)."""

from __future__ import annotations

from functools import cache

import pytest

from drctl.synth import Synthesis, synthesize


@cache
def synth(stack: str, *overrides: str) -> Synthesis:
    return synthesize(stack, overrides)


@pytest.fixture(scope="session")
def seoul() -> Synthesis:
    return synth("seoul")


@pytest.fixture(scope="session")
def tokyo() -> Synthesis:
    return synth("tokyo")
