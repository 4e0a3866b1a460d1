"""Issue 9 item 4/6: the real app against a real MariaDB: the login comes from the
region's own Secrets Manager secret, /health tells "up" from "writable", and the real
failover step accepts exactly the app EksRegion deploys in Tokyo."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
import pytest
from moto import mock_aws

from drctl.failover.health import HttpHealthProbe
from drctl.failover.state import RunState
from drctl.failover.steps import FailoverContext, verify_health
from drctl.sandbox.mariadb import APP_USER, MariaDBServer

from .conftest import PUBLISHED, app_env, synth

TOKYO = "ap-northeast-1"


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def post_write(url: str, seq: int) -> int:
    request = urllib.request.Request(
        url + "/writes",
        data=json.dumps({"writer": "eks-test", "seq": seq}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def db_env(db: MariaDBServer) -> dict[str, str]:
    dsn = db.app_dsn("portforge")
    return {"DB_HOST": dsn.host, "DB_PORT": str(dsn.port), "DB_NAME": "portforge"}


@pytest.fixture
def read_only(mariadb: MariaDBServer) -> Any:
    """Turn the server read-only as an unpromoted RDS replica is; always undone."""
    yield lambda: mariadb.execute("SET GLOBAL read_only = 1")
    mariadb.execute("SET GLOBAL read_only = 0")


def test_health_tells_process_up_from_database_writable(
    mariadb: MariaDBServer, serve: Any, read_only: Any
) -> None:
    env = {**db_env(mariadb), "DB_USER": APP_USER, "DB_PASSWORD": mariadb.app_password}
    app = serve({**env, "DRSTACK_REGION": TOKYO})
    assert get(app.url + "/health") == (
        200,
        {
            "status": "ok",
            "region": TOKYO,
            "stack": "",
            "role": "unknown",
            "db": True,
            "db_writable": True,
        },
    )
    assert get(app.url + "/health/db")[0] == 200
    assert post_write(app.url, 1) == 201

    read_only()
    status, doc = get(app.url + "/health")
    assert status == 200 and doc["db"] is True and doc["db_writable"] is False
    assert get(app.url + "/health/db")[0] == 503
    assert post_write(app.url, 2) == 503


def _secret(region: str, name: str, value: dict[str, str]) -> str:
    client = boto3.client("secretsmanager", region_name=region)
    return str(client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])


def test_login_comes_from_the_secret_in_its_own_region(
    mariadb: MariaDBServer, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with mock_aws():
        login = {"username": APP_USER, "password": mariadb.app_password}
        # The same name exists in Seoul with a wrong password: reading the wrong region fails.
        _secret("ap-northeast-2", "portforge/db", {"username": APP_USER, "password": "wrong"})
        arn = _secret(TOKYO, "portforge/db", login)
        app = serve({**db_env(mariadb), "DRSTACK_REGION": TOKYO, "DB_SECRET_ARN": arn})
        status, doc = get(app.url + "/health")
        assert status == 200 and doc["db_writable"] is True, doc
        assert post_write(app.url, 10) == 201
        rows = mariadb.execute(
            "SELECT region FROM drill_writes WHERE writer = 'eks-test' AND seq = 10",
            database="portforge",
        )
        assert [tuple(r) for r in rows] == [(TOKYO,)]


def test_a_secret_without_a_password_is_a_database_error_not_a_crash(
    mariadb: MariaDBServer, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        arn = _secret(TOKYO, "portforge/broken", {"username": APP_USER})
        app = serve({**db_env(mariadb), "DB_SECRET_ARN": arn})
        status, doc = get(app.url + "/health")
        assert status == 200 and doc["db"] is False
        assert "has no username/password" in doc["db_error"]
        assert post_write(app.url, 20) == 503


def _ctx(probe: HttpHealthProbe) -> FailoverContext:
    # verify_health uses only the probe and the polling settings of the context.
    return FailoverContext(
        database=None,  # type: ignore[arg-type]
        dns=None,  # type: ignore[arg-type]
        lock=None,  # type: ignore[arg-type]
        health=probe,
        health_timeout_seconds=1.0,
        poll_seconds=0.05,
    )


def test_verify_health_accepts_the_app_eks_deploys_in_tokyo(
    mariadb: MariaDBServer, serve: Any, read_only: Any
) -> None:
    tokyo = synth("tokyo", *PUBLISHED)
    env = app_env(tokyo)
    # The deployed environment, with only the database pointed at the local server.
    env.update(
        db_env(mariadb), DB_SECRET_ARN="", DB_USER=APP_USER, DB_PASSWORD=mariadb.app_password
    )
    app = serve(env)
    # Exactly what drctl.failover.build wires: the DR stack's `region` output.
    probe = HttpHealthProbe(app.url, expect_region=tokyo.outputs["region"])
    detail = verify_health(_ctx(probe), RunState.__new__(RunState))
    assert "database writable" in detail

    read_only()  # an unpromoted replica: the app is up, but the failover is not done
    with pytest.raises(RuntimeError, match="database not writable"):
        verify_health(_ctx(probe), RunState.__new__(RunState))


def test_verify_health_refuses_the_old_primary(mariadb: MariaDBServer, serve: Any) -> None:
    seoul = synth("seoul", *PUBLISHED)
    env = app_env(seoul)
    env.update(
        db_env(mariadb), DB_SECRET_ARN="", DB_USER=APP_USER, DB_PASSWORD=mariadb.app_password
    )
    app = serve(env)
    probe = HttpHealthProbe(app.url, expect_region=TOKYO)
    assert not probe.check().ok
    assert "served by ap-northeast-2" in probe.check().detail
