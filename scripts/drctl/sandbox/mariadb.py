"""A throwaway MariaDB server: install a datadir, start it on a free loopback port, stop it.

Used by the sandbox (primary, replica, the pilot-light "Azure" target), the tests and
the benchmarks. The server is a real ``mariadbd`` with binary logs and GTIDs, so
replication, promotion and dumps behave as they do on RDS/Azure MySQL.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drctl.mysql_dsn import MySQLDsn
from drctl.mysql_tools import ToolMissing, find_binary
from drctl.sandbox.ports import free_port
from drctl.sandbox.processes import ManagedProcess, ProcessSupervisor, SupervisedServer

APP_USER = "drstack"
REPL_USER = "repl"
APP_PRIVILEGES = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, CREATE TEMPORARY TABLES, "
    "LOCK TABLES, REFERENCES, CREATE VIEW, SHOW VIEW, TRIGGER, EVENT, CREATE ROUTINE, "
    "ALTER ROUTINE, EXECUTE, RELOAD, BINLOG MONITOR, PROCESS"
    # No BINLOG REPLAY: neither RDS's master user nor Azure's admin has its MySQL
    # counterparts, and the point-in-time replay runs plain SQL (drctl.binlog.replay).
)


def mariadb_available() -> bool:
    try:
        for name in ("mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump"):
            find_binary(name)
    except ToolMissing:
        return False
    return True


@dataclass
class MariaDBServer(SupervisedServer):
    supervisor: ProcessSupervisor
    basedir: Path
    name: str
    server_id: int
    buffer_pool: str = "128M"
    extra_args: list[str] = field(default_factory=list)
    port: int = 0
    process: ManagedProcess | None = None
    app_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    repl_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    _socket_dir: str = ""

    @property
    def datadir(self) -> Path:
        return self.basedir / "data"

    @property
    def socket(self) -> str:
        # unix socket paths are limited to 108 bytes; test tmp dirs can be longer.
        if not self._socket_dir:
            self._socket_dir = tempfile.mkdtemp(prefix="drctl-sock-")
        return f"{self._socket_dir}/mysqld.sock"

    def admin_dsn(self, database: str = "") -> MySQLDsn:
        """root over the unix socket: for managing the server, never given to the app."""
        return MySQLDsn(user="root", unix_socket=self.socket, database=database, port=self.port)

    def app_dsn(self, database: str = "") -> MySQLDsn:
        """The application account over TCP, as an app in the "region" would connect."""
        return MySQLDsn(
            host="127.0.0.1",
            port=self.port,
            user=APP_USER,
            password=self.app_password,
            database=database,
        )

    def install(self) -> None:
        self.basedir.mkdir(parents=True, exist_ok=True)
        if (self.datadir / "mysql").exists():
            return
        argv = [
            find_binary("mariadb-install-db"),
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            f"--datadir={self.datadir}",
            "--innodb-log-file-size=32M",
        ]
        if os.geteuid() == 0:
            argv.append("--user=root")
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed for {self.name}: {result.stderr[-500:]}")

    def start(self, timeout: float = 30.0) -> None:
        self.install()
        for _attempt in range(3):
            self.port = free_port()
            self.process = self.supervisor.start(f"mariadb-{self.name}", self._argv())
            if self._wait_ready(timeout):
                return
            self.supervisor.stop(self.process, timeout=5)
            # Another process may have taken the port between free_port() and bind().
            if "Address already in use" not in (self.process.log_tail(40) or ""):
                break
        tail = self.process.log_tail(15) if self.process else ""
        raise RuntimeError(f"MariaDB {self.name} did not start:\n{tail}")

    def _argv(self) -> list[str]:
        argv = [
            find_binary("mariadbd"),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--pid-file={self.basedir / 'mariadbd.pid'}",
            f"--log-error={self.basedir / 'error.log'}",
            "--bind-address=127.0.0.1",
            f"--port={self.port}",
            f"--server-id={self.server_id}",
            "--log-bin=mysql-bin",
            "--log-slave-updates",
            "--binlog-format=ROW",
            # As the primary's parameter group: the replay writes SQL from the column
            # names in table map events (drctl.binlog.replay).
            "--binlog-row-metadata=FULL",
            "--gtid-strict-mode=1",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            f"--innodb-buffer-pool-size={self.buffer_pool}",
            "--innodb-log-file-size=32M",
            "--max-connections=200",
            "--log-bin-trust-function-creators=1",
            *self.extra_args,
        ]
        if os.geteuid() == 0:
            argv.append("--user=root")
        return argv

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or not self.process.alive():
                return False
            try:
                conn = self.admin_dsn().connect(timeout=1)
                conn.close()
                return True
            except Exception:
                time.sleep(0.05)
        return False

    def error_log_tail(self, lines: int = 15) -> str:
        path = self.basedir / "error.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def execute(self, *statements: str, database: str = "") -> list[Any]:
        """Run admin statements; returns the rows of the last one."""
        conn = self.admin_dsn(database).connect()
        try:
            rows: list[Any] = []
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
                    rows = list(cur.fetchall())
            return rows
        finally:
            conn.close()

    def create_accounts(self) -> None:
        """The app and replication accounts, kept out of the binlog: each server has its own."""
        self.execute(
            "SET SESSION sql_log_bin = 0",
            f"CREATE USER IF NOT EXISTS '{APP_USER}'@'%' IDENTIFIED BY '{self.app_password}'",
            # Like RDS's master user: everything an app and a dump/restore need, but not
            # SUPER/READ_ONLY ADMIN, so a read-only replica really refuses its writes.
            f"GRANT {APP_PRIVILEGES} ON *.* TO '{APP_USER}'@'%'",
            f"CREATE USER IF NOT EXISTS '{REPL_USER}'@'%' IDENTIFIED BY '{self.repl_password}'",
            f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{REPL_USER}'@'%'",
        )

    def replicate_from(self, primary: MariaDBServer) -> None:
        """GTID replication from ``primary`` (which must have run create_accounts)."""
        self.execute(
            "STOP SLAVE",
            "RESET SLAVE ALL",
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
            f"MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{primary.repl_password}', "
            "MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos",
            "SET GLOBAL read_only = 1",
            "START SLAVE",
        )

    def crash(self) -> None:
        """SIGKILL: the region's database is gone, unflushed work with it."""
        if self.process is not None:
            self.supervisor.kill(self.process)

    stop_timeout = 20.0  # InnoDB flushes its buffer pool on a clean shutdown

    def stop(self) -> None:
        super().stop()
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = ""

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.basedir, ignore_errors=True)
