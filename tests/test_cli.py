"""The drctl entry point: every command loads lazily from the module that registers it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer
from typer.testing import CliRunner

from drctl.cli import COMMAND_MODULES, COMMANDS, app, load_command


def test_every_listed_command_loads_from_its_module() -> None:
    for name in COMMANDS:
        command = load_command(name)
        assert command is not None and command.name == name


def test_no_module_registers_a_command_the_entry_point_does_not_list() -> None:
    for module in COMMAND_MODULES:
        holder = typer.Typer()
        importlib.import_module(module).register(holder)
        registered = set(typer.main.get_group(holder).commands)
        assert registered <= set(COMMANDS), f"{module} registers {registered - set(COMMANDS)}"


def test_help_lists_every_command_and_unknown_is_an_error() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in COMMANDS)
    assert CliRunner().invoke(app, ["nosuch"]).exit_code == 2


def test_a_backup_does_not_import_pulumi_or_the_cloud_sdks_it_does_not_use() -> None:
    probe = (
        "import sys; sys.argv = ['drctl', 'backup', '--help']\n"
        "from drctl.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pulumi', 'kubernetes', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
