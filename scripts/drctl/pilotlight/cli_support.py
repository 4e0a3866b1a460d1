"""The exit codes and the few CLI helpers of the backup/restore commands.

Shared by ``drctl.pilotlight.commands`` and ``drctl.binlog.pitr_command`` without either
importing the other.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

EXIT_FAILED = 1

EXIT_REFUSED = 3  # same meaning as failover's: a deliberate "no", not a crash
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM, as a shell reports it


class _Support:
    """The few CLI helpers these commands need.

    Local rather than ``drctl.command_support`` because that module pulls in boto3: the
    backup job runs every few minutes on a small host and should not pay for AWS SDKs
    it never calls (peak memory is part of the backup's budget, see benchmarks/).
    """

    @staticmethod
    def consoles(as_json: bool) -> tuple[Console, Console]:
        out = Console(soft_wrap=True)
        return out, (Console(stderr=True, soft_wrap=True) if as_json else out)

    @staticmethod
    def fail(message: str, code: int = 2) -> NoReturn:
        # soft_wrap: one line however long, so logs and scripts see one line.
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]error:[/] {escape(message)}", highlight=False
        )
        raise typer.Exit(code)

    @staticmethod
    def print_json(data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


support = _Support()


def _print_result(data: dict, as_json: bool, out, title: str) -> None:
    if as_json:
        support.print_json(data)
        return
    out.print(f"[bold green]{escape(title)}[/]", highlight=False)
    for key, value in data.items():
        out.print(f"  {key}: {escape(str(value))}", highlight=False)
