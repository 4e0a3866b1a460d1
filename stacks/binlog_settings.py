"""The pilot-light backup stack's binlog settings, checked against its site's (read
through the StackReference, i.e. from the state backend)."""

from __future__ import annotations

from typing import Any

import pulumi

from stacks.config import NAMESPACE, ConfigError, StackConfig


def checked_binlog_settings(site: pulumi.StackReference, cfg: StackConfig) -> pulumi.Output[Any]:
    """This stack's binlog settings, refused when the site's RPO budget assumes others:
    the site promises flush + one upload only if this stack runs that archiver."""
    mine = {
        "binlog_archive": cfg.backup.binlog_archive,
        "binlog_flush_seconds": cfg.backup.binlog_flush_seconds,
    }

    def check(values: list[Any]) -> dict[str, Any]:
        theirs = dict(zip(mine, values, strict=True))
        if any(value is None for value in values):
            raise ConfigError(
                f"site stack {cfg.site_stack} exports no binlog settings (binlog_archive, "
                "binlog_flush_seconds): `pulumi up` the site stack first"
            )
        for key, value in mine.items():
            if theirs[key] != value:
                raise ConfigError(
                    f"{NAMESPACE}:backup.{key} = {value!r} is invalid: site stack "
                    f"{cfg.site_stack} budgets its RPO on {theirs[key]!r}; set the same in both"
                )
        return mine

    return pulumi.Output.all(*(site.get_output(key) for key in mine)).apply(check)
