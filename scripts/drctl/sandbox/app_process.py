"""The drstack app (``app/server.py``) as a process serving one "region"."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from drctl.mysql_dsn import MySQLDsn
from drctl.sandbox.paths import REPO_ROOT
from drctl.sandbox.ports import free_port, wait_for_port
from drctl.sandbox.processes import ManagedProcess, ProcessSupervisor, SupervisedServer

DATABASE = "portforge"  # the app's default schema name (seed 000's service)


@dataclass
class AppProcess(SupervisedServer):
    supervisor: ProcessSupervisor
    region: str
    role: str
    db: MySQLDsn
    port: int = 0
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("DB_")}
        env.update(
            DRSTACK_REGION=self.region,
            DRSTACK_ROLE=self.role,
            DB_HOST=self.db.host,
            DB_PORT=str(self.db.port),
            DB_USER=self.db.user,
            DB_PASSWORD=self.db.password,
            DB_NAME=self.db.database or DATABASE,
            BIND="127.0.0.1",
            PORT=str(self.port),
            PYTHONPATH=str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        )
        return env

    def start(self, timeout: float = 20.0) -> None:
        for _attempt in range(3):
            self.port = free_port()
            self.process = self.supervisor.start(
                f"app-{self.region}",
                [sys.executable, "-m", "app.server"],
                env=self.environment(),
                cwd=REPO_ROOT,
            )
            if wait_for_port(self.port, timeout) and self.process.alive():
                return
            self.supervisor.stop(self.process, timeout=5)
        tail = self.process.log_tail(15) if self.process else ""
        raise RuntimeError(f"app {self.region} did not start:\n{tail}")

    def health(self, timeout: float = 1.0) -> dict[str, object] | None:
        """The /health document, or None when the app does not answer 200."""
        if not self.alive():
            return None
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=timeout) as response:
                data = json.loads(response.read())
                return data if isinstance(data, dict) else None
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def wait_healthy(self, timeout: float = 20.0, *, need_db: bool = True) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = self.health()
            if doc is not None and (doc.get("db") or not need_db):
                return True
            time.sleep(0.05)
        return False
