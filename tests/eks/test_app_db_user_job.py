"""The Job's command line against a real MariaDB, logged in as an account with the RDS
master user's documented grants (drctl.sandbox.accounts.RDS_MASTER), reading both logins
from Secrets Manager (moto's server, reached as boto3 reaches any endpoint).

It proves what the IaC relies on: the master user can create the app's user with exactly
the app's grants; a rerun is idempotent and removes grants added by hand; a rotation
takes effect; and ``read_only`` binds the app's user (the planned-failover fence)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest
from moto.server import ThreadedMotoServer

from components.app_db_user import APP_DATABASE_PRIVILEGES, job_command
from drctl.sandbox.accounts import RDS_MASTER
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.ports import free_port
from drctl.synth import PROJECT_DIR

SEOUL = "ap-northeast-2"
APP_USER = "portforge_app"
DATABASE = "portforge"
READ_ONLY = 1290  # ER_OPTION_PREVENTS_STATEMENT


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def master(mariadb: MariaDBServer) -> dict[str, str]:
    password = secrets.token_hex(12)
    mariadb.execute(
        f"CREATE USER IF NOT EXISTS '{RDS_MASTER.user}'@'%' IDENTIFIED BY '{password}'",
        f"ALTER USER '{RDS_MASTER.user}'@'%' IDENTIFIED BY '{password}'",
        RDS_MASTER.grant_statement(),
    )
    return {"username": RDS_MASTER.user, "password": password}


class Deployment:
    """The two secrets the Job reads, and the Job's command line run as production runs it."""

    def __init__(self, endpoint: str, mariadb: MariaDBServer, master: dict[str, str]) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DB_"))},
            # The image runs `python` from PATH: here, this interpreter's.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": SEOUL,
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(mariadb.port),
        }
        self.client = boto3.client(
            "secretsmanager",
            region_name=SEOUL,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        suffix = secrets.token_hex(4)
        self.env["MASTER_SECRET_ARN"] = self._secret(f"portforge-rds/master-{suffix}", master)
        self.app_password = secrets.token_hex(12)
        self.app_arn = self._secret(
            f"portforge-rds/app-{suffix}", {"username": APP_USER, "password": self.app_password}
        )
        self.env["APP_SECRET_ARN"] = self.app_arn
        self.port = mariadb.port

    def _secret(self, name: str, value: dict[str, str]) -> str:
        return str(self.client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])

    def rotate(self) -> str:
        old, self.app_password = self.app_password, secrets.token_hex(12)
        value = json.dumps({"username": APP_USER, "password": self.app_password})
        self.client.put_secret_value(SecretId=self.app_arn, SecretString=value)
        return old

    def run_job(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            job_command(DATABASE),
            cwd=PROJECT_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def as_app(self, password: str | None = None) -> pymysql.connections.Connection:
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user=APP_USER,
            password=self.app_password if password is None else password,
            database=DATABASE,
            autocommit=True,
        )


@pytest.fixture
def deployed(moto_endpoint: str, mariadb: MariaDBServer, master: dict[str, str]) -> Deployment:
    mariadb.execute(f"DROP USER IF EXISTS '{APP_USER}'@'%'")
    return Deployment(moto_endpoint, mariadb, master)


def _grants(mariadb: MariaDBServer) -> list[str]:
    rows = mariadb.execute(f"SHOW GRANTS FOR '{APP_USER}'@'%'")
    return sorted(str(r[0]).split(" IDENTIFIED BY")[0] for r in rows)


EXPECTED = sorted(
    [
        f"GRANT USAGE ON *.* TO `{APP_USER}`@`%`",
        f"GRANT {', '.join(APP_DATABASE_PRIVILEGES)} ON `{DATABASE}`.* TO `{APP_USER}`@`%`",
    ]
)


def _execute(conn: pymysql.connections.Connection, sql: str) -> list[Any]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def test_the_rds_master_creates_the_app_user_with_exactly_its_grants(
    deployed: Deployment, mariadb: MariaDBServer
) -> None:
    done = deployed.run_job()
    assert done.returncode == 0, done.stderr
    assert f"database user {APP_USER} has SELECT, INSERT" in done.stdout
    assert _grants(mariadb) == EXPECTED
    with deployed.as_app() as conn:
        _execute(conn, "CREATE TABLE IF NOT EXISTS app_login_probe (id INT PRIMARY KEY)")
        _execute(conn, "REPLACE INTO app_login_probe VALUES (1)")
        assert _execute(conn, "SELECT id FROM app_login_probe") == [(1,)]
        for forbidden in ("SELECT user FROM mysql.user", "CREATE DATABASE app_may_not"):
            with pytest.raises(pymysql.err.OperationalError):
                _execute(conn, forbidden)


def test_a_rerun_is_idempotent_restores_exact_grants_and_applies_a_rotation(
    deployed: Deployment, mariadb: MariaDBServer
) -> None:
    assert deployed.run_job().returncode == 0
    mariadb.execute(f"GRANT DROP ON `{DATABASE}`.* TO '{APP_USER}'@'%'")  # added by hand
    old = deployed.rotate()
    done = deployed.run_job()
    assert done.returncode == 0, done.stderr
    assert _grants(mariadb) == EXPECTED
    with deployed.as_app() as conn:
        assert _execute(conn, "SELECT 1") == [(1,)]
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        deployed.as_app(password=old)


def test_read_only_binds_the_app_user(deployed: Deployment, mariadb: MariaDBServer) -> None:
    assert deployed.run_job().returncode == 0
    with deployed.as_app() as conn:
        _execute(conn, "CREATE TABLE IF NOT EXISTS app_login_probe (id INT PRIMARY KEY)")
        # The parameter group's read_only (root stands in for RDS's control plane).
        mariadb.execute("SET GLOBAL read_only = 1")
        try:
            with pytest.raises(pymysql.err.OperationalError) as refused:
                _execute(conn, "REPLACE INTO app_login_probe VALUES (2)")
            assert refused.value.args[0] == READ_ONLY
        finally:
            mariadb.execute("SET GLOBAL read_only = 0")


def test_a_refused_login_is_one_line_and_exit_4(deployed: Deployment) -> None:
    deployed.env["MASTER_SECRET_ARN"] = deployed._secret(
        f"portforge-rds/wrong-{secrets.token_hex(4)}",
        {"username": RDS_MASTER.user, "password": "wrong"},
    )
    done = deployed.run_job()
    assert done.returncode == 4
    assert done.stderr.startswith("app-db-user: the database refused:")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_admin_privileges_are_refused_before_any_login(deployed: Deployment) -> None:
    command = [*job_command(DATABASE)[:-1], "SELECT,SUPER"]
    done = subprocess.run(
        command, cwd=PROJECT_DIR, env=deployed.env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "SUPER" in done.stderr
