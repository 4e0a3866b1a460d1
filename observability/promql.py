"""The metric names a PromQL expression reads (enough of PromQL for our rules and panels)."""

from __future__ import annotations

import re

_KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "and",
        "or",
        "unless",
        "inf",
        "nan",
    }
)
_LABELS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_TOKEN = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    text = _RANGE.sub(" ", _GROUPING.sub(" ", _LABELS.sub(" ", expr)))
    names = set()
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        end = match.end()
        if token.lower() in _KEYWORDS or text[end:].lstrip().startswith("("):
            continue
        names.add(token)
    return names
