"""EKS-region tests: the program under mocks (cached syntheses) and the real app
against a real MariaDB (skipped without MariaDB, failed under CI=true)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from drctl.preview import cached_synthesize
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.processes import ProcessSupervisor
from drctl.synth import ResourceRecord, Synthesis
from tests.sandbox.conftest import start_mariadb

APP_TAG = "2026.11.29-3f2a1c"
# Every workload with a pinned image: what a stack looks like after the first push.
PUBLISHED = (
    f"image_tags.drstack-app={APP_TAG}",
    "image_tags.auth-service=1.4.2",
    "image_tags.project-service=1.4.2",
    "image_tags.team-service=1.4.2",
    "image_tags.ai-service=1.4.2",
    "image_tags.support-service=1.4.2",
)


def synth(stack: str, *overrides: str) -> Synthesis:
    return cached_synthesize(stack, overrides)


def app_env(syn: Synthesis) -> dict[str, str]:
    deployment = syn.one("kubernetes:apps/v1:Deployment", "drstack-app")
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def by_name(syn: Synthesis, type_: str) -> dict[str, ResourceRecord]:
    return {r.name: r for r in syn.of_type(type_)}


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    with ProcessSupervisor(tmp_path_factory.mktemp("eks-logs")) as supervisor:
        server = start_mariadb(supervisor, Path(tmp_path_factory.mktemp("eks-db")), "eks", 7)
        server.execute("CREATE DATABASE IF NOT EXISTS portforge")
        yield server
        server.remove()


class ServedApp:
    """app.server's real Flask app on a loopback port, in this process (so moto's
    in-process AWS mock also answers the app's Secrets Manager call)."""

    def __init__(self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        for key in [k for k in list(__import__("os").environ) if k.startswith(("DB_", "DRSTACK_"))]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        from app.server import create_app

        self.server = make_server("127.0.0.1", 0, create_app(), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    apps: list[ServedApp] = []

    def start(env: dict[str, str]) -> ServedApp:
        app = ServedApp(env, monkeypatch)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.close()
