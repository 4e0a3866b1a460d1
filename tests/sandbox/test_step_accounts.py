"""The sandbox's production steps log in as the accounts production gives them.

The servers' general log records every login. While the steps run (backup, binlog
archive, restore into "Azure"; the fence's and failback's reads), nothing logs in as
root, and every login is the account the component gives that step in production: the
RDS master user on Seoul and Tokyo, the Flexible Server admin on Azure.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from drctl.binlog.segments import list_segments
from drctl.failover.positions import executed_position, wait_executed
from drctl.failover.rds_fence import global_read_only
from drctl.sandbox.accounts import AZURE_ADMIN, RDS_MASTER
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.mariadb import MariaDBServer, mariadb_available
from drctl.sandbox.mariadb_adapter import MariaDbDatabase
from drctl.sandbox.mariadb_fence import master_user_dsns
from drctl.sandbox.pilot_light_adapter import PilotLightDatabase
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.production_jobs import azure_restore_job, seoul_jobs
from drctl.sandbox.scenarios import ScenarioSettings, _pilot_archiver, _pilot_backups

from .conftest import require

pytestmark = [pytest.mark.mariadb, pytest.mark.azurite]

# general_log.user_host: "<login>[<privilege user>] @ <host> [<ip>]"; MariaDB leaves the
# login name empty and always fills the bracketed one.
_USER = re.compile(r"^[^\[]*\[([^\]]*)\]")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[SandboxEnvironment]:
    require(mariadb_available(), "MariaDB")
    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        environment = SandboxEnvironment(tmp_path, supervisor)
        try:
            yield environment
        finally:
            environment.teardown_regions()


def start_logging(server: MariaDBServer) -> None:
    """Set-up (root): from here on every login to ``server`` is recorded."""
    server.execute("TRUNCATE mysql.general_log", "SET GLOBAL log_output = 'TABLE'")
    server.execute("SET GLOBAL general_log = 1")


def logins(server: MariaDBServer) -> list[str]:
    """The users that logged in while logging was on (the one root login that stops it
    is the test's own, and is dropped)."""
    server.execute("SET GLOBAL general_log = 0")
    rows = server.execute(
        "SELECT user_host FROM mysql.general_log WHERE command_type = 'Connect' ORDER BY event_time"
    )
    users = [match[1] for (host,) in rows if (match := _USER.match(str(host)))]
    assert users and users[-1] == "root", users  # the login that switched logging off
    return users[:-1]


def _settings(tmp_path: Path) -> ScenarioSettings:
    return ScenarioSettings(
        state_dir=tmp_path / "runs", outputs_path=tmp_path / "out.json", say=lambda _: None
    )


def _seed(server: MariaDBServer) -> None:
    server.execute(
        f"CREATE DATABASE {DATABASE}",
        f"CREATE TABLE {DATABASE}.owners (id INT PRIMARY KEY, name VARCHAR(40))",
        f"INSERT INTO {DATABASE}.owners VALUES (1, 'George Franklin'), (2, 'Betty Davis')",
    )


def _wait(condition: object, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_pilot_light_steps_log_in_as_the_master_user_and_the_azure_admin(
    env: SandboxEnvironment, tmp_path: Path
) -> None:
    env.start_shared()  # moto (the master secret) and Azurite, as the drill
    seoul = env.new_database("seoul")
    azure = env.new_database("azure")
    _seed(seoul)
    settings = _settings(tmp_path)
    jobs = seoul_jobs(env, seoul, DATABASE)  # set-up: the secret the jobs read
    container = env.backup_container()
    start_logging(seoul)
    start_logging(azure)

    archiver = _pilot_archiver(env, jobs, container, settings)
    archiver.start()
    backups = _pilot_backups(jobs, settings)
    backups.start()
    _wait(lambda: backups.completed, "a backup")
    backups.stop()
    _wait(lambda: list_segments(container), "an archived segment")
    archiver.die_and_join()
    pilot = PilotLightDatabase(
        container,
        make_server=lambda: azure,
        restore_job=azure_restore_job(env, database=DATABASE, binlog_archive=True),
        failure_time=lambda: None,
        log_dir=tmp_path / "restore",
    )
    pilot.promote()
    pilot.wait_promoted(120.0)

    assert pilot.outcome is not None and backups.failures == []
    assert set(logins(seoul)) == {RDS_MASTER.user}
    assert set(logins(azure)) == {AZURE_ADMIN.user}


def test_fence_and_failback_reads_log_in_as_the_master_user(env: SandboxEnvironment) -> None:
    seoul = env.new_database("seoul")
    tokyo = env.new_database("tokyo")
    tokyo.replicate_from(seoul)
    _seed(seoul)
    # What the planned scenario hands production's fence (set up before logging starts).
    primary, standby = master_user_dsns(seoul, tokyo)
    start_logging(seoul)
    start_logging(tokyo)

    replica = MariaDbDatabase(tokyo, source=seoul)
    assert global_read_only(primary) is False
    _wait(lambda: replica.replica_lag_seconds() == 0.0, "the replica to catch up")
    assert replica.is_promoted() is False
    seoul.execute("SET GLOBAL read_only = 1")  # the parameter group (control plane)
    try:
        assert global_read_only(primary)
        assert wait_executed(standby, executed_position(primary), 30.0)
    finally:
        seoul.execute("SET GLOBAL read_only = 0")

    # Root logged in twice on Seoul: this test's two parameter-group changes.
    seoul_logins = Counter(logins(seoul))
    assert seoul_logins.pop("root") == 2 and set(seoul_logins) == {RDS_MASTER.user}
    assert set(logins(tokyo)) == {RDS_MASTER.user}
