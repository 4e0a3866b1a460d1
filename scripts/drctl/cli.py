"""drctl: the drstack operations toolkit.

Each command lives in its own module and registers itself on the shared Typer app
through a ``register(app)`` function, so this file only lists the modules.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="drctl",
    help="drstack operations: preview, status, failover, failback, backup, restore, drill, report, cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command module; each defines register(app: typer.Typer) -> None.
COMMAND_MODULES: tuple[str, ...] = (
    "drctl.pilotlight.commands",
    "drctl.sandbox.command",
    "drctl.status_command",
    "drctl.failover_command",
    "drctl.report_command",
    "drctl.preview",
    "drctl.cost",
)


def _register_all() -> None:
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)


def main() -> None:
    _register_all()
    app()


if __name__ == "__main__":
    main()
