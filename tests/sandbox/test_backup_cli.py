"""`drctl backup` / `drctl restore` as a user runs them: JSON out, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
import typer
from azure.storage.blob import ContainerClient
from typer.testing import CliRunner

from drctl.pilotlight import commands
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.mariadb import MariaDBServer

from .conftest import seed_database


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    commands.register(app)
    return app


@pytest.mark.mariadb
@pytest.mark.azurite
def test_cli_backup_then_restore_and_refusal(
    cli: typer.Typer,
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
) -> None:
    seed_database(source_db, database_name, rows=100)
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_SOURCE_DSN": source_db.master_dsn(database_name).url(),
        "DRCTL_TARGET_DSN": target_db.master_dsn(database_name).url(),
    }
    runner = CliRunner()
    where = ["--container", container.container_name]

    made = runner.invoke(cli, ["backup", "--json", *where], env=env)
    assert made.exit_code == 0, made.output
    backup = json.loads(made.stdout)
    assert backup["name"].endswith(".sql.zst")
    assert source_db.master_password not in made.output  # secrets never printed

    restored = runner.invoke(cli, ["restore", "--json", "--yes", *where], env=env)
    assert restored.exit_code == 0, restored.output
    result = json.loads(restored.stdout)
    assert result["backup"]["name"] == backup["name"]
    assert result["source_check"]["matches"] is True
    assert target_db.master_password not in restored.output

    # A corrupted blob: exit code 3 and a message naming the blob.
    blob = container.get_blob_client(backup["name"])
    metadata = blob.get_blob_properties().metadata
    blob.upload_blob(b"\x28\xb5\x2f\xfd" + b"\0" * 64, overwrite=True, metadata=metadata)
    refused = runner.invoke(cli, ["restore", "--yes", *where], env=env)
    assert refused.exit_code == commands.EXIT_REFUSED
    assert backup["name"] in refused.output and "refused" in refused.output

    bad_dsn = runner.invoke(cli, ["restore", "--yes", "--target", "postgres://x", *where], env=env)
    assert bad_dsn.exit_code == 2
    assert "--target" in bad_dsn.output
