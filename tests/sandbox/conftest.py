"""Real servers for the sandbox tests: MariaDB and Azurite on free loopback ports.

Servers that tests only read from are shared per session (each test uses its own
database and container names); a test that kills a server starts its own. Under
``CI=true`` a missing server binary is a failure, never a skip: CI must not go green
by testing nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from drctl.pilotlight.storage import open_container
from drctl.sandbox.accounts import AZURE_ADMIN, RDS_MASTER, Account
from drctl.sandbox.azurite import AzuriteServer, azurite_available
from drctl.sandbox.mariadb import MariaDBServer, mariadb_available
from drctl.sandbox.processes import ProcessSupervisor


def require(available: bool, what: str) -> None:
    if available:
        return
    message = f"{what} is not installed (run `make services`)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def supervisor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessSupervisor]:
    with ProcessSupervisor(tmp_path_factory.mktemp("sandbox-logs")) as sup:
        yield sup


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


def start_mariadb(
    supervisor: ProcessSupervisor,
    basedir: Path,
    name: str,
    server_id: int,
    account: Account = RDS_MASTER,
) -> MariaDBServer:
    """A server with the cloud's accounts: the RDS master user unless told otherwise."""
    require(mariadb_available(), "MariaDB")
    server = MariaDBServer(supervisor, basedir / name, name, server_id, account=account)
    server.start()
    server.create_accounts()
    return server


def start_azurite(supervisor: ProcessSupervisor, location: Path) -> AzuriteServer:
    require(azurite_available(), "Azurite")
    server = AzuriteServer(supervisor, location)
    server.start()
    return server


@pytest.fixture(scope="session")
def source_db(supervisor: ProcessSupervisor, session_dir: Path) -> Iterator[MariaDBServer]:
    server = start_mariadb(supervisor, session_dir, "source", 1)
    yield server
    server.remove()


@pytest.fixture(scope="session")
def target_db(supervisor: ProcessSupervisor, session_dir: Path) -> Iterator[MariaDBServer]:
    # Restores land on the pilot light's server: its account is the Azure admin.
    server = start_mariadb(supervisor, session_dir, "target", 2, AZURE_ADMIN)
    yield server
    server.remove()


@pytest.fixture(scope="session")
def azurite(supervisor: ProcessSupervisor, session_dir: Path) -> Iterator[AzuriteServer]:
    server = start_azurite(supervisor, session_dir / "azurite")
    yield server
    server.stop()


@pytest.fixture
def container(azurite: AzuriteServer) -> ContainerClient:
    """A fresh container per test, on the shared Azurite."""
    return open_container(azurite.connection_string, f"t{uuid.uuid4().hex[:12]}", create=True)


@pytest.fixture
def database_name() -> str:
    return f"app_{uuid.uuid4().hex[:8]}"


def seed_database(server: MariaDBServer, database: str, rows: int = 5000) -> None:
    """A table with awkward data (quotes, UTF-8, binary, NULLs) and a second small one."""
    server.execute(f"CREATE DATABASE `{database}`")
    server.execute(
        f"CREATE TABLE `{database}`.orders (id INT PRIMARY KEY AUTO_INCREMENT, "
        "note VARCHAR(200), payload BLOB, amount DECIMAL(10,2), created DATETIME(6))",
        f"CREATE TABLE `{database}`.owners (id INT PRIMARY KEY, name VARCHAR(50))",
        f"INSERT INTO `{database}`.orders (note, payload, amount, created) "
        "SELECT CONCAT('order ', seq, ' \\'quoted\\' \"dq\" 서울 ', IF(seq % 7 = 0, NULL, 'x')), "
        "UNHEX(CONCAT('00FF', HEX(seq))), seq / 3, "
        "TIMESTAMP('2025-01-01') + INTERVAL seq SECOND "
        f"FROM seq_1_to_{rows}",
        f"INSERT INTO `{database}`.owners VALUES (1, 'George Franklin'), (2, 'Betty Davis')",
        database=database,  # the seq_1_to_N engine needs a current database
    )
