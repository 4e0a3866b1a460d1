"""Reading stack outputs: from an ``--outputs FILE`` or from the Pulumi CLI.

The file is one JSON object keyed by stack name, each value what
``pulumi stack output --json -s NAME`` prints.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from drctl.failures import tool_stderr

PULUMI_TIMEOUT_SECONDS = 60.0


class OutputsError(RuntimeError):
    """Stack outputs are missing, unreadable or lack a key a command needs."""


class StackOutputs:
    def __init__(self, stacks: dict[str, dict[str, Any]], source: str) -> None:
        self._stacks = stacks
        self.source = source

    def stack(self, name: str) -> dict[str, Any]:
        if name not in self._stacks:
            raise OutputsError(f"stack '{name}' not found in {self.source}")
        return self._stacks[name]

    def get(self, stack: str, key: str) -> Any:
        values = self.stack(stack)
        if key not in values:
            raise OutputsError(f"missing output key {stack}.{key} in {self.source}")
        return values[key]

    def optional(self, stack: str, key: str, default: Any = None) -> Any:
        return self._stacks.get(stack, {}).get(key, default)

    def has(self, stack: str) -> bool:
        return stack in self._stacks


def load_outputs_file(path: Path) -> StackOutputs:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OutputsError(f"--outputs file {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise OutputsError(f"--outputs {path} is a directory, expected a JSON file") from exc
    except OSError as exc:
        raise OutputsError(f"--outputs file {path} cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise OutputsError(f"--outputs file {path} is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise OutputsError(f"--outputs file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise OutputsError(
            f"--outputs file {path} must be one JSON object keyed by stack name, "
            'e.g. {"seoul": {...}, "tokyo": {...}}'
        )
    return StackOutputs(data, str(path))


def load_outputs_from_pulumi(stacks: Iterable[str]) -> StackOutputs:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError(
            "the Pulumi CLI is not installed; pass --outputs FILE with "
            '{"seoul": <pulumi stack output --json -s seoul>, "tokyo": ...}'
        )
    result: dict[str, dict[str, Any]] = {}
    for name in stacks:
        # --show-secrets: the kubeconfig is a secret output; it stays in memory.
        command = f"`pulumi stack output --json -s {name}`"
        try:
            # The state backend is remote too: bounded like every other call.
            completed = subprocess.run(
                [pulumi, "stack", "output", "--json", "--show-secrets", "-s", name],
                capture_output=True,
                text=True,
                check=False,
                timeout=PULUMI_TIMEOUT_SECONDS,
            )
        except OSError as exc:  # found by which() but not executable, or gone meanwhile
            raise OutputsError(f"{command} cannot run: {pulumi}: {exc.strerror}") from exc
        except subprocess.TimeoutExpired as exc:
            raise OutputsError(
                f"{command} did not answer within {PULUMI_TIMEOUT_SECONDS:g}s "
                "(is the state backend reachable?)"
            ) from exc
        if completed.returncode != 0:
            # Pulumi puts the cause on its last lines ("error: ..."); quote those, in one line.
            raise OutputsError(
                f"{command} failed (exit {completed.returncode}): {tool_stderr(completed.stderr)}"
            )
        try:
            values = json.loads(completed.stdout or "{}")
        except json.JSONDecodeError as exc:
            raise OutputsError(f"{command} printed no valid JSON: {exc}") from exc
        if not isinstance(values, dict):
            raise OutputsError(f"{command} printed {type(values).__name__}, expected an object")
        result[name] = values
    return StackOutputs(result, "pulumi stack output")


def load_outputs(path: Path | None, stacks: Iterable[str]) -> StackOutputs:
    return load_outputs_file(path) if path else load_outputs_from_pulumi(stacks)
