"""Checks that need the primary's outputs (read through the StackReference, i.e. from the
state backend, never from the primary region: they hold during a regional outage)."""

from __future__ import annotations

from typing import Any

import pulumi

from stacks.config import NAMESPACE, ConfigError, StackConfig


def checked_primary_region(primary: pulumi.StackReference, cfg: StackConfig) -> pulumi.Output[str]:
    """The primary's region, refused when ``drstack:primary_region`` says otherwise: the
    replica source, the replication rules and the backup job would look in the wrong region."""

    def check(region: Any) -> str:
        if region != cfg.primary_region:
            raise ConfigError(
                f"{NAMESPACE}:primary_region = {cfg.primary_region!r} is invalid: the primary "
                f"stack {cfg.primary_stack} runs in {region}; set primary_region: {region}"
            )
        return str(region)

    return primary.require_output("region").apply(check)
