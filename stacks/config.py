"""Typed drstack configuration.

Every ``drstack:`` key is parsed here, before any resource is declared, into frozen
dataclasses. A bad value raises :class:`ConfigError` with one line naming the key, the
value and what is allowed; it subclasses ``pulumi.RunError`` so the Pulumi engine prints
that line without a Python traceback.

``parse_config`` is a pure function of the raw config map (``"drstack:eks" -> JSON
string``, as the engine and the mock runtime deliver it), so it is tested without Pulumi.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pulumi

from components.settings import (
    AppConfig,
    AzureConfig,
    BackupConfig,
    BackupFormat,
    EksConfig,
    HealthCheckConfig,
    RdsConfig,
)
from stacks.config_rules import (
    AZURE_RESERVED_USERNAMES,
    _check_cloud_rules,
    _check_cross_field,
)
from stacks.config_schema import (
    BACKUP_FORMATS,
    ROLES,
    STRATEGIES,
    AutomationConfig,
    Contact,
    DnsConfig,
    Objectives,
    Role,
    StackConfig,
    Strategy,
)
from stacks.config_sections import (
    _ALL_KEYS,
    AWS_REGIONS,
    AZURE_LOCATIONS,
    EKS_VERSIONS,
    HEALTH_CHECK_INTERVALS,
    MAX_PUBLIC_ACCESS_CIDRS,
    _allowed_keys,
    _where_key_belongs,
    parse_image_tag,
)
from stacks.config_values import (
    NAMESPACE,
    ConfigError,
    _choice,
    _fail,
)

# Every name importable from here before the split (schema, parsers and rules now live
# in stacks/config_*.py, the component inputs in components/settings.py).
__all__ = [
    "AWS_REGIONS",
    "AZURE_LOCATIONS",
    "AZURE_RESERVED_USERNAMES",
    "BACKUP_FORMATS",
    "EKS_VERSIONS",
    "HEALTH_CHECK_INTERVALS",
    "MAX_PUBLIC_ACCESS_CIDRS",
    "NAMESPACE",
    "ROLES",
    "STRATEGIES",
    "AppConfig",
    "AutomationConfig",
    "AzureConfig",
    "BackupConfig",
    "BackupFormat",
    "ConfigError",
    "Contact",
    "DnsConfig",
    "EksConfig",
    "HealthCheckConfig",
    "Objectives",
    "RdsConfig",
    "Role",
    "StackConfig",
    "Strategy",
    "_allowed_keys",
    "load_config",
    "parse_config",
    "parse_image_tag",
    "read_engine_config",
    "read_engine_secret_keys",
    "secret_config",
]

# --------------------------------------------------------------------------- entry points


def parse_config(
    stack: str, raw: Mapping[str, Any], secret_keys: Collection[str] = ()
) -> StackConfig:
    """Parse the engine's flat config map (``"ns:key" -> value``) into a StackConfig.

    ``secret_keys`` names the keys the engine marked secret: a password set in plain
    text is refused rather than stored in the stack file for everyone to read.
    """
    password_key = f"{NAMESPACE}:mysql_admin_password"
    if password_key in raw and password_key not in secret_keys:
        raise ConfigError(
            f"{password_key} is set in plain text: set it with `pulumi config set --secret "
            "drstack:mysql_admin_password`"
        )
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}

    for key in sorted(ours):
        if key not in _ALL_KEYS:
            close = [k for k in _ALL_KEYS if k.startswith(key[:3])]
            hint = f"; did you mean {close[0]}?" if close else ""
            raise _fail(key, ours[key], f"unknown key{hint}")

    if "role" not in ours:
        raise ConfigError(f"{NAMESPACE}:role is missing: set it to one of {', '.join(ROLES)}")
    role = _choice("role", ours["role"], ROLES)
    strategy = None
    if role == "dr":
        if "strategy" not in ours:
            raise ConfigError(
                f"{NAMESPACE}:strategy is missing: a DR stack needs one of {', '.join(STRATEGIES)}"
            )
        strategy = _choice("strategy", ours["strategy"], STRATEGIES)
        if "primary_stack" not in ours:
            raise ConfigError(
                f"{NAMESPACE}:primary_stack is missing: a DR stack attaches to its primary "
                "through a StackReference, e.g. primary_stack: seoul"
            )

    allowed = _allowed_keys(role, strategy)
    for key in sorted(ours):
        if key not in allowed:
            raise _fail(key, ours[key], f"only valid for {_where_key_belongs(key)}")

    region_raw = raw.get("aws:region")
    if region_raw is None:
        raise ConfigError("aws:region is missing: set the stack's AWS region, e.g. ap-northeast-2")
    if region_raw not in AWS_REGIONS:
        raise ConfigError(f"aws:region = {region_raw!r} is invalid: expected an AWS region name")

    values: dict[str, Any] = {
        name: allowed[name](name, value) for name, value in ours.items() if name in allowed
    }
    has_password = bool(values.pop("mysql_admin_password", False))
    cfg = StackConfig(
        stack=stack, region=str(region_raw), has_mysql_admin_password=has_password, **values
    )
    if cfg.role == "dr" and cfg.primary_region is None:
        cfg = _replace(cfg, primary_region="ap-northeast-2")
    _check_cross_field(cfg)
    _check_cloud_rules(cfg)
    return cfg


def _replace(cfg: StackConfig, **changes: Any) -> StackConfig:
    from dataclasses import replace

    return replace(cfg, **changes)


def read_engine_config() -> dict[str, Any]:
    """The whole config map the engine handed this program (real run or mocks)."""
    merged = dict(pulumi.runtime.config.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return merged


def read_engine_secret_keys() -> set[str]:
    keys = set(pulumi.runtime.config.get_config_secret_keys_env())
    keys.update(pulumi.runtime.config._SECRET_KEYS.get())
    return keys


def load_config() -> StackConfig:
    return parse_config(pulumi.get_stack(), read_engine_config(), read_engine_secret_keys())


def secret_config(key: str) -> pulumi.Output[str]:
    """A secret ``drstack:`` value as a secret Output (never a plain str)."""
    return pulumi.Config(NAMESPACE).require_secret(key)
