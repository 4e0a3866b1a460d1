"""No remote call hangs, no failure shows a traceback: backup and restore give up in one line.

Endpoints that misbehave on purpose: a silent listener (accepts, never answers), a
closed port, wrong credentials. Every assertion is about the message and the state
left behind, never about how long it took.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import typer
from azure.storage.blob import ContainerClient
from typer.testing import CliRunner

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight import commands
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.catalog import list_backups
from drctl.pilotlight.storage import azurite_connection_string
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.mariadb import MariaDBServer

from .conftest import seed_database

WRONG_KEY = "d3Jvbmcta2V5LWZvci10ZXN0cw=="  # base64, but not Azurite's key


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    worker = threading.Thread(target=accept, daemon=True)
    worker.start()
    yield server.getsockname()[1]
    stop.set()
    worker.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound once to pick it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    commands.register(app)
    return app


def blob_at(port: int) -> str:
    return azurite_connection_string(f"http://127.0.0.1:{port}/devstoreaccount1")


def run(cli: typer.Typer, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def assert_gave_up(code: int, output: str, *fragments: str) -> None:
    assert code == commands.EXIT_FAILED, output
    assert "Traceback" not in output
    # One line (the progress bar, on a terminal, is the only other output).
    [line] = [text for text in output.splitlines() if text.startswith("error:")]
    for fragment in fragments:
        assert fragment in line, output


# ----------------------------------------------------------------------------- backup


@pytest.mark.mariadb
@pytest.mark.azurite
@pytest.mark.parametrize("endpoint", ["silent", "closed"])
def test_backup_gives_up_on_an_unanswering_source(
    endpoint: str,
    cli: typer.Typer,
    azurite: AzuriteServer,
    container: ContainerClient,
    silent_port: int,
    closed_port: int,
) -> None:
    port = silent_port if endpoint == "silent" else closed_port
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_SOURCE_DSN": f"mysql://app:pw@127.0.0.1:{port}/app",
    }
    code, output = run(
        cli, ["backup", "--container", container.container_name, "--timeout", "2"], env
    )
    assert_gave_up(
        code,
        output,
        "backup gave up:",
        f"MySQL source 127.0.0.1:{port} did not answer",
        "nothing was committed",
    )
    assert list_backups(container) == []


@pytest.mark.mariadb
@pytest.mark.azurite
def test_backup_reports_refused_database_credentials(
    cli: typer.Typer, source_db: MariaDBServer, azurite: AzuriteServer, container: ContainerClient
) -> None:
    dsn = source_db.master_dsn("mysql")
    wrong = MySQLDsn(host=dsn.host, port=dsn.port, user=dsn.user, password="wrong", database="x")
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_SOURCE_DSN": wrong.url(),
    }
    code, output = run(cli, ["backup", "--container", container.container_name], env)
    assert_gave_up(
        code, output, f"MySQL source 127.0.0.1:{dsn.port} refused the credentials (1045)"
    )
    assert "wrong" not in output  # never the password


@pytest.mark.mariadb
@pytest.mark.parametrize("endpoint", ["silent", "closed", "wrong-key"])
def test_backup_gives_up_on_unusable_blob_storage(
    endpoint: str,
    cli: typer.Typer,
    source_db: MariaDBServer,
    azurite: AzuriteServer,
    silent_port: int,
    closed_port: int,
    database_name: str,
) -> None:
    seed_database(source_db, database_name, rows=10)
    connection_string = {
        "silent": blob_at(silent_port),
        "closed": blob_at(closed_port),
        "wrong-key": azurite.connection_string.replace(
            azurite.connection_string.split("AccountKey=")[1].split(";")[0], WRONG_KEY
        ),
    }[endpoint]
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": connection_string,
        "DRCTL_SOURCE_DSN": source_db.master_dsn(database_name).url(),
    }
    code, output = run(cli, ["backup", "--container", "backups", "--timeout", "3"], env)
    expected = (
        "refused the credentials (Authorization" if endpoint == "wrong-key" else "did not answer"
    )
    assert_gave_up(code, output, "backup gave up: Azure Blob http", expected, "nothing was")
    assert WRONG_KEY not in output


# ----------------------------------------------------------------------------- restore


@pytest.mark.mariadb
@pytest.mark.azurite
@pytest.mark.parametrize("endpoint", ["silent", "closed"])
def test_restore_gives_up_on_an_unanswering_target(
    endpoint: str,
    cli: typer.Typer,
    source_db: MariaDBServer,
    azurite: AzuriteServer,
    container: ContainerClient,
    silent_port: int,
    closed_port: int,
    database_name: str,
) -> None:
    seed_database(source_db, database_name, rows=10)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    port = silent_port if endpoint == "silent" else closed_port
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "DRCTL_TARGET_DSN": f"mysql://app:pw@127.0.0.1:{port}/{database_name}",
    }
    args = ["restore", "--yes", "--container", container.container_name, "--timeout", "2"]
    code, output = run(cli, args, env)
    assert_gave_up(
        code,
        output,
        "restore gave up:",
        f"MySQL target 127.0.0.1:{port} did not answer",
        "the target database was not changed",
    )


@pytest.mark.mariadb
@pytest.mark.parametrize("endpoint", ["silent", "closed", "wrong-key"])
def test_restore_gives_up_on_unusable_blob_storage(
    endpoint: str,
    cli: typer.Typer,
    target_db: MariaDBServer,
    azurite: AzuriteServer,
    silent_port: int,
    closed_port: int,
    database_name: str,
) -> None:
    target_db.execute(f"CREATE DATABASE `{database_name}`")
    target_db.execute(f"CREATE TABLE `{database_name}`.keep (id INT PRIMARY KEY)")
    connection_string = {
        "silent": blob_at(silent_port),
        "closed": blob_at(closed_port),
        "wrong-key": azurite.connection_string.replace(
            azurite.connection_string.split("AccountKey=")[1].split(";")[0], WRONG_KEY
        ),
    }[endpoint]
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": connection_string,
        "DRCTL_TARGET_DSN": target_db.master_dsn(database_name).url(),
    }
    args = ["restore", "--yes", "--container", "backups", "--timeout", "3"]
    code, output = run(cli, args, env)
    expected = "refused the credentials" if endpoint == "wrong-key" else "did not answer"
    assert_gave_up(code, output, "restore gave up: Azure Blob http", expected, "not changed")
    assert target_db.execute(f"SHOW TABLES FROM `{database_name}`") == [("keep",)]
