"""Primitive ``drstack:`` value parsers: each returns a typed value or raises a one-line
:class:`ConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi

NAMESPACE = "drstack"


class ConfigError(pulumi.RunError):
    """A bad ``drstack:`` value. The message is the whole, single-line explanation."""


# --------------------------------------------------------------------------- value parsers

T = TypeVar("T")


def _fail(key: str, value: Any, allowed: str) -> ConfigError:
    decoded = _decode(value)
    shown = repr(decoded) if isinstance(decoded, str) else json.dumps(decoded)
    return ConfigError(f"{NAMESPACE}:{key} = {shown} is invalid: {allowed}")


def _decode(raw: Any) -> Any:
    """Engine config values are strings; objects/lists/numbers arrive JSON-encoded."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _bool(key: str, raw: Any) -> bool:
    value = _decode(raw)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _fail(key, raw, "expected true or false")


def _int(key: str, raw: Any, lo: int, hi: int) -> int:
    value = _decode(raw)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(key, raw, f"expected an integer from {lo} to {hi}")
    return value


def _number(key: str, raw: Any, lo: float, hi: float) -> float:
    value = _decode(raw)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise _fail(key, raw, f"expected a number from {lo:g} to {hi:g}")
    return float(value)


def _str(key: str, raw: Any, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
    value = raw if isinstance(raw, str) else _decode(raw)
    if not isinstance(value, str) or not value or (pattern and not pattern.match(value)):
        raise _fail(key, raw, what or "expected a non-empty string")
    return value


def _choice(key: str, raw: Any, allowed: tuple[str, ...] | frozenset[str]) -> str:
    if raw not in allowed:
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 12 else "a known name"
        raise _fail(key, raw, f"expected one of {shown}")
    return str(raw)


def _cidr(key: str, raw: Any) -> str:
    try:
        net = ipaddress.ip_network(str(raw), strict=True)
    except ValueError:
        raise _fail(key, raw, "expected an IPv4 CIDR block such as 10.0.0.0/16") from None
    if net.version != 4 or not 16 <= net.prefixlen <= 24:
        raise _fail(key, raw, "expected an IPv4 CIDR block from /16 to /24")
    return str(net)


def _object(key: str, raw: Any) -> dict[str, Any]:
    value = _decode(raw)
    if not isinstance(value, dict):
        raise _fail(key, raw, "expected a mapping of settings")
    return value


def _list_of_str(key: str, raw: Any, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    value = _decode(raw)
    if not isinstance(value, list):
        raise _fail(key, raw, "expected a list")
    items = tuple(_str(f"{key}[{i}]", v, pattern, what) for i, v in enumerate(value))
    if len(set(items)) != len(items):
        raise _fail(key, raw, "expected unique names")
    return items


def _fields(key: str, raw: Any, parsers: Mapping[str, Callable[[str, Any], Any]]) -> dict[str, Any]:
    """Parse a nested object: every sub-key must be known (typos are errors)."""
    obj = _object(key, raw)
    unknown = sorted(set(obj) - set(parsers))
    if unknown:
        raise _fail(
            f"{key}.{unknown[0]}", obj[unknown[0]], f"unknown key; known: {', '.join(parsers)}"
        )
    return {name: parsers[name](f"{key}.{name}", value) for name, value in obj.items()}


def _int_in(lo: int, hi: int) -> Callable[[str, Any], int]:
    return lambda k, v: _int(k, v, lo, hi)


def _num_in(lo: float, hi: float) -> Callable[[str, Any], float]:
    return lambda k, v: _number(k, v, lo, hi)


def _text(pattern: re.Pattern[str] | None = None, what: str = "") -> Callable[[str, Any], str]:
    return lambda k, v: _str(k, v, pattern, what)


def _one_of(allowed: tuple[str, ...] | frozenset[str]) -> Callable[[str, Any], str]:
    return lambda k, v: _choice(k, v, allowed)
