"""Stack compositions: one builder per role/strategy, chosen from the typed config."""

from __future__ import annotations

from typing import Any

from stacks.config import StackConfig


def build(cfg: StackConfig) -> dict[str, Any]:
    """Declare the stack's resources and return its outputs (name -> value or Output)."""
    if cfg.role == "primary":
        from stacks.primary import build_primary

        return build_primary(cfg)
    if cfg.strategy == "warm-standby":
        from stacks.warm_standby import build_warm_standby

        return build_warm_standby(cfg)
    from stacks.pilot_light import build_pilot_light

    return build_pilot_light(cfg)
