"""A throwaway MariaDB server: install a datadir, start it on a free loopback port, stop it.

Used by the sandbox (primary, replica, the pilot-light "Azure" target), the tests and
the benchmarks. The server is a real ``mariadbd`` with binary logs and GTIDs, so
replication, promotion and dumps behave as they do on RDS/Azure MySQL.

Its accounts are the cloud's (accounts.py): the cloud's admin account (the RDS master
user, or on the "Azure" server the Flexible Server admin) for every production step,
the app's own least-privileged user, and the replication user. Root, over the unix
socket, only sets the server up and stands in for the cloud's control plane.
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
from drctl.sandbox.accounts import RDS_MASTER, Account, app_grant_statement
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.ports import free_port
from drctl.sandbox.processes import ManagedProcess, ProcessSupervisor, SupervisedServer

APP_USER = "drstack"
REPL_USER = "repl"


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
    # The cloud's admin account: RDS_MASTER (Seoul, Tokyo) or AZURE_ADMIN (Azure).
    account: Account = RDS_MASTER
    app_database: str = DATABASE  # the app user's grants cover this database only
    master_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    app_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    repl_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    _socket_dir: str = ""

    @property
    def datadir(self) -> Path:
        return self.basedir / "data"

    @property
    def tmpdir(self) -> Path:
        """Its own: servers of parallel test runs sharing /tmp removed each other's
        temporary tables (mariadb-install-db: "Could not remove temporary table")."""
        path = self.basedir / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def socket(self) -> str:
        # unix socket paths are limited to 108 bytes; test tmp dirs can be longer.
        if not self._socket_dir:
            self._socket_dir = tempfile.mkdtemp(prefix="drctl-sock-")
        return f"{self._socket_dir}/mysqld.sock"

    def admin_dsn(self, database: str = "") -> MySQLDsn:
        """root over the unix socket: set-up and the cloud's control plane, no production step."""
        return MySQLDsn(user="root", unix_socket=self.socket, database=database, port=self.port)

    def master_dsn(self, database: str = "") -> MySQLDsn:
        """The cloud's admin account over TCP (RDS master user / Azure admin): what
        production's backup, archive, restore, fence and failback steps log in as."""
        return self._tcp_dsn(self.account.user, self.master_password, database)

    def app_dsn(self, database: str = "") -> MySQLDsn:
        """The app's own user over TCP: DML (and CREATE) on the app database, nothing else."""
        return self._tcp_dsn(APP_USER, self.app_password, database)

    def repl_dsn(self) -> MySQLDsn:
        return self._tcp_dsn(REPL_USER, self.repl_password, "")

    def _tcp_dsn(self, user: str, password: str, database: str) -> MySQLDsn:
        return MySQLDsn(
            host="127.0.0.1", port=self.port, user=user, password=password, database=database
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
            f"--tmpdir={self.tmpdir}",
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
            f"--tmpdir={self.tmpdir}",
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
        """Run statements as root (set-up, control plane); returns the rows of the last one."""
        return self.execute_as(self.admin_dsn(database), *statements)

    def master_execute(self, *statements: str, database: str = "") -> list[Any]:
        """Run statements as the cloud's admin account, as a production step does."""
        return self.execute_as(self.master_dsn(database), *statements)

    @staticmethod
    def execute_as(dsn: MySQLDsn, *statements: str) -> list[Any]:
        conn = dsn.connect()
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
        """The cloud's admin account, the app's user and the replication user.

        Kept out of the binlog: each server has its own, as each RDS instance or Azure
        server has its master user/admin (a replica that replayed its source's CREATE USER
        would also break GTID strict mode).
        """
        account = self.account
        self.execute(
            "SET SESSION sql_log_bin = 0",
            f"CREATE USER IF NOT EXISTS '{account.user}'@'%' "
            f"IDENTIFIED BY '{self.master_password}'",
            account.grant_statement(),
            f"CREATE USER IF NOT EXISTS '{APP_USER}'@'%' IDENTIFIED BY '{self.app_password}'",
            # DML on the app's database only, no global privilege: read_only binds it.
            app_grant_statement(APP_USER, self.app_database),
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
