"""`drctl plan`: write the DR plan document of a DR stack (Markdown)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from drctl import command_support as support


def plan(
    stack: Annotated[str, typer.Option("--stack", help="A DR stack: tokyo or azure-pilot.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Scenarios, detection, recovery steps, objectives, roles, schedule and checklists."""
    from drctl.plan import render_plan
    from observability.stack_config import load_stack_config
    from stacks.config import ConfigError

    if output is not None:
        support.check_writable_file(output, "--output")
    try:
        cfg = load_stack_config(stack)
    except (FileNotFoundError, ConfigError) as exc:
        support.fail(str(exc))
    if cfg.role != "dr":
        support.fail(f"--stack {stack}: a primary stack has no DR plan; use its DR stack")
    text = render_plan(cfg)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {output}\n")


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
