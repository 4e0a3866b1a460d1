"""Each sandbox server has the accounts production has, with the grants the clouds document.

Seoul and Tokyo: the RDS master user; the pilot light's server: the Azure Flexible Server
admin; every server: the app's own user (DML on its database only) and the replication
user. None of them holds what the real accounts lack (accounts.NEVER_GRANTED), so a
production step that needs SUPER or BINLOG REPLAY fails here as it would in the cloud.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from drctl.sandbox.accounts import APP_DATABASE_PRIVILEGES, AZURE_ADMIN, NEVER_GRANTED, RDS_MASTER
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.mariadb import APP_USER, MariaDBServer, mariadb_available
from drctl.sandbox.processes import ProcessSupervisor

from .conftest import require

pytestmark = [pytest.mark.mariadb]

_GRANT = re.compile(r"^GRANT (?P<privs>.+?) ON (?P<scope>\S+) TO (?P<rest>.*)$")
ER_OPTION_PREVENTS_STATEMENT = 1290  # "running with the --read-only option"
ER_SPECIFIC_ACCESS_DENIED = 1227


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, MariaDBServer]]:
    require(mariadb_available(), "MariaDB")
    workdir = tmp_path_factory.mktemp("accounts")
    with ProcessSupervisor(workdir / "logs") as supervisor:
        env = SandboxEnvironment(Path(workdir), supervisor)
        try:
            yield {name: env.new_database(name) for name in ("seoul", "tokyo", "azure")}
        finally:
            env.teardown_regions()


def grants(server: MariaDBServer, user: str) -> dict[str, tuple[set[str], bool]]:
    """scope -> (privileges, with grant option), from SHOW GRANTS as root."""
    found: dict[str, tuple[set[str], bool]] = {}
    for (line,) in server.execute(f"SHOW GRANTS FOR '{user}'@'%'"):
        match = _GRANT.match(str(line))
        assert match, line
        privileges = {p.strip() for p in match["privs"].split(",")}
        found[match["scope"].replace("`", "")] = (privileges, "WITH GRANT OPTION" in line)
    return found


@pytest.mark.parametrize(
    ("name", "account"), [("seoul", RDS_MASTER), ("tokyo", RDS_MASTER), ("azure", AZURE_ADMIN)]
)
def test_each_server_has_its_clouds_admin_account_with_exactly_the_documented_grants(
    servers: dict[str, MariaDBServer], name: str, account: object
) -> None:
    server = servers[name]
    assert server.account is account
    assert server.master_dsn().user == server.account.user
    held = grants(server, server.account.user)
    assert held == {"*.*": (set(server.account.privileges), True)}
    assert not set(NEVER_GRANTED) & held["*.*"][0]
    # The other cloud's account does not exist here.
    other = AZURE_ADMIN if server.account is RDS_MASTER else RDS_MASTER
    assert not server.execute(f"SELECT 1 FROM mysql.user WHERE user = '{other.user}'")


@pytest.mark.parametrize("name", ["seoul", "tokyo", "azure"])
def test_the_app_user_has_its_database_only_and_no_global_privilege(
    servers: dict[str, MariaDBServer], name: str
) -> None:
    held = grants(servers[name], APP_USER)
    assert held == {
        "*.*": ({"USAGE"}, False),
        f"{DATABASE}.*": (set(APP_DATABASE_PRIVILEGES), False),
    }


def test_read_only_refuses_the_apps_writes(servers: dict[str, MariaDBServer]) -> None:
    server = servers["seoul"]
    server.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    app = server.app_dsn(DATABASE).connect()
    try:
        with app.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS fenced (id INT PRIMARY KEY)")
            cur.execute("INSERT INTO fenced VALUES (1)")
            server.execute("SET GLOBAL read_only = 1")  # the parameter group (control plane)
            try:
                with pytest.raises(pymysql.err.OperationalError) as refused:
                    cur.execute("INSERT INTO fenced VALUES (2)")
                assert refused.value.args[0] == ER_OPTION_PREVENTS_STATEMENT
            finally:
                server.execute("SET GLOBAL read_only = 0")
            cur.execute("SELECT id FROM fenced")
            assert cur.fetchall() == ((1,),)
    finally:
        app.close()


@pytest.mark.parametrize("name", ["seoul", "azure"])
def test_the_admin_account_creates_users_but_cannot_change_server_settings(
    servers: dict[str, MariaDBServer], name: str
) -> None:
    server = servers[name]
    # What a deploy-time init job does with the master credential: the app's user.
    server.master_execute(
        "CREATE USER IF NOT EXISTS 'probe'@'%' IDENTIFIED BY 'probe-pass'",
        f"GRANT {', '.join(APP_DATABASE_PRIVILEGES)} ON `{DATABASE}`.* TO 'probe'@'%'",
        "DROP USER 'probe'@'%'",
    )
    # Server settings change through the parameter group / the Azure service, not SQL.
    with pytest.raises(pymysql.err.OperationalError) as denied:
        server.master_execute("SET GLOBAL read_only = 1")
    assert denied.value.args[0] == ER_SPECIFIC_ACCESS_DENIED
