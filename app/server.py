"""The drstack demo app: shows which region serves it, and writes to its database.

Seed 002 §2 asks for a small web app that displays the region it runs in. Drills use
``POST /writes`` as the probe write: a 2xx answer means the row is committed, so every
acknowledged write can later be checked for on the recovered database.
"""

from __future__ import annotations

import html
import os
from typing import Any

import pymysql
from flask import Flask, jsonify, request

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
        "role": os.environ.get("DRSTACK_ROLE", "unknown"),
        "db": {
            "host": os.environ.get("DB_HOST", "127.0.0.1"),
            "port": int(os.environ.get("DB_PORT", "3306")),
            "user": os.environ.get("DB_USER", "app"),
            "password": os.environ.get("DB_PASSWORD", ""),
            "database": os.environ.get("DB_NAME", "portforge"),
        },
    }


def _connect(db: dict[str, Any]) -> pymysql.connections.Connection:
    # Short timeouts: during a failover a hung connection must fail fast, not pin a worker.
    return pymysql.connect(
        **db, connect_timeout=2, read_timeout=3, write_timeout=3, autocommit=True
    )


def create_app() -> Flask:
    app = Flask(__name__)
    settings = _settings()

    @app.get("/")
    def index() -> str:
        region = html.escape(settings["region"])
        return (
            "<!doctype html><title>drstack</title>"
            f"<h1>Served from {region}</h1><p>role: {html.escape(settings['role'])}</p>"
        )

    @app.get("/health")
    def health() -> Any:
        # Liveness of the app itself; DB reachability is reported but does not fail the
        # check, so a DB outage alone does not flip DNS away from a healthy region.
        db_ok = True
        try:
            with _connect(settings["db"]) as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
        except pymysql.MySQLError:
            db_ok = False
        return jsonify(status="ok", region=settings["region"], db=db_ok)

    @app.post("/writes")
    def write() -> Any:
        body = request.get_json(silent=True) or {}
        writer, seq = str(body.get("writer", "anon"))[:64], int(body.get("seq", 0))
        try:
            with _connect(settings["db"]) as conn, conn.cursor() as cur:
                cur.execute(WRITES_TABLE)
                cur.execute(
                    "INSERT INTO drill_writes (writer, seq, region) VALUES (%s, %s, %s)",
                    (writer, seq, settings["region"]),
                )
        except pymysql.MySQLError as exc:
            return jsonify(error=str(exc.args[-1] if exc.args else exc)), 503
        return jsonify(writer=writer, seq=seq, region=settings["region"]), 201

    @app.get("/writes")
    def count() -> Any:
        try:
            with _connect(settings["db"]) as conn, conn.cursor() as cur:
                cur.execute(WRITES_TABLE)
                cur.execute("SELECT COUNT(*) FROM drill_writes")
                (n,) = cur.fetchone() or (0,)
        except pymysql.MySQLError as exc:
            return jsonify(error=str(exc.args[-1] if exc.args else exc)), 503
        return jsonify(count=n, region=settings["region"])

    return app


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    create_app().run(host=os.environ.get("BIND", "127.0.0.1"), port=port, threaded=True)


if __name__ == "__main__":
    main()
