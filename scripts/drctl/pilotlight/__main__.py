"""``python -m drctl.pilotlight backup|restore|binlog-archive``: these commands alone, for the backup host.

Same commands as ``drctl backup``/``drctl restore``, without importing every other
drctl command (Pulumi, Kubernetes, boto3): the scheduled job stays small.
"""

from __future__ import annotations

import typer

from drctl.binlog.command import register as register_binlog
from drctl.failures import guarded
from drctl.pilotlight.commands import register

app = typer.Typer(
    name="drctl-pilotlight",
    help="Pilot-light backups: backup and restore only.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register(app)
register_binlog(app)

if __name__ == "__main__":
    guarded(app, ("backup", "restore", "binlog-archive"))
