"""Reading a ``Pulumi.<stack>.yaml`` file: one line naming the file when it is malformed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stacks.config_values import ConfigError


def read_stack_file(path: Path) -> dict[str, Any]:
    """The whole stack file as a mapping, or ConfigError naming the file, line and problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {_problem(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name} cannot be read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("config") or {}, dict):
        raise ConfigError(
            f"{path.name} is not a Pulumi stack file: expected a mapping with config:"
        )
    return data


def _problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        return f"{exc.problem or exc.context or 'parse error'}{where}".replace("\n", " ")
    return " ".join(str(exc).split())
