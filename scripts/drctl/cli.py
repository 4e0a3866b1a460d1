"""drctl: the drstack operations toolkit.

Each command lives in its own module and registers itself on a Typer app through a
``register(app)`` function. Modules are imported only when one of their commands runs:
importing all of them (Pulumi, the Azure and Kubernetes SDKs, boto3) costs about 70 MB
and a second of start-up that `drctl backup` on a small host should not pay.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import typer
from typer.core import TyperGroup

from drctl.failures import guarded

# Command name -> the module that registers it (one module may register several).
COMMANDS: Mapping[str, str] = {
    "preview": "drctl.preview",
    "cost": "drctl.cost",
    "status": "drctl.status_command",
    "failover": "drctl.failover_command",
    "failback": "drctl.failover_command",
    "iac-sync": "drctl.iac_sync",
    "report": "drctl.report_command",
    "backup": "drctl.pilotlight.commands",
    "restore": "drctl.pilotlight.commands",
    "binlog-archive": "drctl.binlog.command",
    "drill": "drctl.sandbox.command",
    "exporter": "drctl.exporter_command",
    "diagram": "drctl.diagram_command",
    "plan": "drctl.plan_command",
    "image": "drctl.image_command",
}
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))


def load_command(name: str) -> Any:
    """Import the module behind ``name`` and return its (Typer-built) command, or None."""
    module = COMMANDS.get(name)
    if module is None:
        return None
    holder = typer.Typer()
    importlib.import_module(module).register(holder)
    group = typer.main.get_group(holder)
    return group.commands.get(name)


class LazyCommands(TyperGroup):
    # ctx is typed Any: Typer builds on its own vendored click, whose types are private.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return load_command(cmd_name)


app = typer.Typer(
    name="drctl",
    cls=LazyCommands,
    help="drstack operations: preview, status, failover, failback, backup, restore, drill, "
    "report, cost, exporter, diagram, plan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """drstack operations: preview, status, failover, failback, backup, restore, drill,
    report, cost, exporter, diagram, plan."""


def main() -> None:
    # Whatever a command did not turn into its own one line becomes one here (failures.py).
    guarded(app, COMMANDS)


if __name__ == "__main__":
    main()
