"""The drstack demo app: shows which region serves it, and writes to its database.

Seed 002 §2 asks for a small web app that displays the region it runs in. Drills use
``POST /writes`` as the probe write: a 2xx answer means the row is committed, so every
acknowledged write can later be checked for on the recovered database.

``/health`` answers 200 while the process is up and says separately whether the
database is reachable (``db``) and writable (``db_writable``: connected and not
``read_only``). A warm standby's replica is read-only until it is promoted, so its app
is "up" but not "writable"; the failover's last step waits for "writable".
``/health/db`` answers 200 only when the database is writable.

``DRSTACK_REGION`` is the cloud region (``ap-northeast-1``), which is what ``drctl
failover`` expects; ``DRSTACK_STACK`` is the Pulumi stack name (``tokyo``).
"""

from __future__ import annotations

import html
import os
from typing import Any

import pymysql
from flask import Flask, jsonify, request

from app.db_credentials import CredentialError, SecretLogin, StaticLogin, login_from_environment

# MySQL "Access denied": the password may have been rotated since it was cached.
ACCESS_DENIED = 1045

WRITES_TABLE = """
CREATE TABLE IF NOT EXISTS drill_writes (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    writer VARCHAR(64) NOT NULL,
    seq BIGINT NOT NULL,
    region VARCHAR(32) NOT NULL,
    written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY writer_seq (writer, seq)
) ENGINE=InnoDB
"""


def _settings() -> dict[str, Any]:
    return {
        "region": os.environ.get("DRSTACK_REGION", "unknown"),
        "stack": os.environ.get("DRSTACK_STACK", ""),
        "role": os.environ.get("DRSTACK_ROLE", "unknown"),
        "db": {
            "host": os.environ.get("DB_HOST", "127.0.0.1"),
            "port": int(os.environ.get("DB_PORT", "3306")),
            "database": os.environ.get("DB_NAME", "portforge"),
        },
    }


class Database:
    """Connections with the current login; a refused login is re-read once (rotation)."""

    def __init__(self, target: dict[str, Any], login: SecretLogin | StaticLogin) -> None:
        self.target = target
        self.login = login

    def connect(self) -> pymysql.connections.Connection:
        try:
            return self._connect()
        except pymysql.err.OperationalError as exc:
            if not exc.args or exc.args[0] != ACCESS_DENIED:
                raise
            self.login.forget()
            return self._connect()

    def _connect(self) -> pymysql.connections.Connection:
        try:
            login = self.login.get()
        except CredentialError as exc:
            # Reported like any other database failure: the app stays up, writes get 503.
            raise pymysql.err.OperationalError(0, str(exc)) from exc
        # Short timeouts: during a failover a hung connection must fail fast, not pin a worker.
        return pymysql.connect(
            **self.target,
            user=login.user,
            password=login.password,
            connect_timeout=2,
            read_timeout=3,
            write_timeout=3,
            autocommit=True,
        )

    def state(self) -> dict[str, Any]:
        """Reachable and writable, told apart: a read-only replica is reachable only."""
        try:
            with self.connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT @@global.read_only")
                (read_only,) = cur.fetchone() or (1,)
        except pymysql.MySQLError as exc:
            return {"db": False, "db_writable": False, "db_error": _message(exc)}
        writable = int(read_only) == 0
        return {
            "db": True,
            "db_writable": writable,
            **({} if writable else {"db_error": "read_only"}),
        }


def _message(exc: BaseException) -> str:
    return str(exc.args[-1] if exc.args else exc)


def create_app() -> Flask:
    app = Flask(__name__)
    settings = _settings()
    database = Database(settings["db"], login_from_environment())

    @app.get("/")
    def index() -> str:
        region = html.escape(settings["region"])
        return (
            "<!doctype html><title>drstack</title>"
            f"<h1>Served from {region}</h1><p>role: {html.escape(settings['role'])}</p>"
        )

    def identity() -> dict[str, str]:
        return {"region": settings["region"], "stack": settings["stack"], "role": settings["role"]}

    @app.get("/health")
    def health() -> Any:
        # 200 = the process is up. The database state is reported, not enforced: a
        # standby's read-only replica must not fail its pods' probes or its NLB targets.
        return jsonify(status="ok", **identity(), **database.state())

    @app.get("/health/db")
    def health_db() -> Any:
        state = database.state()
        return jsonify(**identity(), **state), 200 if state["db_writable"] else 503

    @app.post("/writes")
    def write() -> Any:
        body = request.get_json(silent=True) or {}
        writer, seq = str(body.get("writer", "anon"))[:64], int(body.get("seq", 0))
        try:
            with database.connect() as conn, conn.cursor() as cur:
                cur.execute(WRITES_TABLE)
                cur.execute(
                    "INSERT INTO drill_writes (writer, seq, region) VALUES (%s, %s, %s)",
                    (writer, seq, settings["region"]),
                )
        except pymysql.MySQLError as exc:
            return jsonify(error=_message(exc)), 503
        return jsonify(writer=writer, seq=seq, region=settings["region"]), 201

    @app.get("/writes")
    def count() -> Any:
        try:
            with database.connect() as conn, conn.cursor() as cur:
                cur.execute(WRITES_TABLE)
                cur.execute("SELECT COUNT(*) FROM drill_writes")
                (n,) = cur.fetchone() or (0,)
        except pymysql.MySQLError as exc:
            return jsonify(error=_message(exc)), 503
        return jsonify(count=n, region=settings["region"])

    return app


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    create_app().run(host=os.environ.get("BIND", "127.0.0.1"), port=port, threaded=True)


if __name__ == "__main__":
    main()
