"""Helpers shared by the drctl command modules: outputs loading, consoles, clients."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from drctl.aws import ClientFactory
from drctl.stack_outputs import OutputsError, StackOutputs, load_outputs

OUTPUTS_HELP = (
    'Stack outputs JSON: {"seoul": {...}, "tokyo": {...}} as printed by '
    "`pulumi stack output --json -s NAME`. Without it drctl asks the Pulumi CLI."
)


def make_client_factory() -> ClientFactory:
    """The clients every command uses; tests replace this to observe or forbid calls."""
    return ClientFactory()


def consoles(as_json: bool) -> tuple[Console, Console]:
    """(result console, progress console): with --json, progress goes to stderr so
    stdout stays one parseable JSON document."""
    out = Console(soft_wrap=True)
    progress = Console(stderr=True, soft_wrap=True) if as_json else out
    return out, progress


def read_outputs(path: Path | None, stacks: list[str]) -> StackOutputs:
    try:
        return load_outputs(path, stacks)
    except OutputsError as exc:
        fail(str(exc))


def fail(message: str, code: int = 2) -> NoReturn:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
