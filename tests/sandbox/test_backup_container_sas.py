"""`drctl backup` with the container-scoped SAS the backup job really gets (no account key).

Azurite checks SAS signatures and permissions like Azure does for these calls: it refuses
Create Container with a container SAS (403), which is what the job hit on every run.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import typer
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient, generate_container_sas
from typer.testing import CliRunner

from components.azure_backup_access import READER_PERMISSIONS, WRITER_PERMISSIONS
from drctl.pilotlight import commands
from drctl.pilotlight.storage import AZURITE_ACCOUNT, AZURITE_KEY, container_exists, open_container
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.mariadb import MariaDBServer

from .conftest import seed_database


def sas_connection_string(azurite: AzuriteServer, container: str, permissions: str) -> str:
    """What the site stack hands the job: blob endpoint + container SAS, no account key."""
    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=permissions,
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    return f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}"


@pytest.mark.azurite
def test_azurite_refuses_create_container_with_a_container_sas(
    azurite: AzuriteServer, container: ContainerClient
) -> None:
    """Control: the failure the fix avoids is real here (not a 409 'already exists')."""
    sas = sas_connection_string(azurite, container.container_name, WRITER_PERMISSIONS)
    with pytest.raises(HttpResponseError) as refused:
        open_container(sas, container.container_name).create_container()
    assert refused.value.status_code == 403


@pytest.mark.azurite
@pytest.mark.parametrize("permissions", [WRITER_PERMISSIONS, READER_PERMISSIONS])
def test_existence_is_asked_the_way_a_container_sas_may(
    azurite: AzuriteServer, container: ContainerClient, permissions: str
) -> None:
    name = container.container_name
    assert container_exists(open_container(sas_connection_string(azurite, name, permissions), name))
    missing = f"gone{uuid.uuid4().hex[:8]}"
    client = open_container(sas_connection_string(azurite, missing, permissions), missing)
    assert not container_exists(client)
    # With the account key, create=True still creates a missing container (sandbox).
    created = open_container(azurite.connection_string, missing, create=True)
    assert container_exists(created)


@pytest.mark.mariadb
@pytest.mark.azurite
def test_cli_backup_with_the_jobs_container_sas(
    source_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    database_name: str,
) -> None:
    seed_database(source_db, database_name, rows=50)
    app = typer.Typer()
    commands.register(app)
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": sas_connection_string(
            azurite, container.container_name, WRITER_PERMISSIONS
        ),
        "DRCTL_SOURCE_DSN": source_db.master_dsn(database_name).url(),
    }
    where = ["--container", container.container_name]
    made = CliRunner().invoke(app, ["backup", "--json", *where], env=env)
    assert made.exit_code == 0, made.output
    name = json.loads(made.stdout)["name"]
    assert container.get_blob_client(name).exists()
    assert "sig=" not in made.output  # the SAS is a secret: never printed
