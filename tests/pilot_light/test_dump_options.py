"""The dump command line per server flavour: nothing RDS refuses on MySQL, exact position on MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.pilotlight import dump_options
from drctl.pilotlight.dump_options import REFUSED_ON_RDS, ServerFlavour, dump_argv
from policy.rds_dump_options import refused_options


@pytest.fixture(autouse=True)
def fixed_binaries(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command line, not whichever client this machine has installed.
    monkeypatch.setattr(dump_options, "find_binary", lambda *names: f"/usr/bin/{names[0]}")


def _refused(argv: list[str]) -> list[str]:
    return [a for a in argv if a.split("=", 1)[0] in REFUSED_ON_RDS]


@pytest.mark.parametrize("record_position", [True, False])
def test_mysql_command_line_has_no_option_rds_refuses(record_position: bool) -> None:
    argv = dump_argv(
        ServerFlavour.MYSQL, Path("/proc/1/fd/3"), "petclinic", record_position=record_position
    )
    assert argv[0] == "/usr/bin/mysqldump"  # MySQL's own client for a MySQL 8 source
    assert _refused(argv) == []
    assert refused_options(argv) == []  # the preview policy agrees
    # Without OFF, mysqldump >= 8.0.32 takes FLUSH TABLES WITH READ LOCK under GTIDs.
    assert "--set-gtid-purged=OFF" in argv
    assert "--single-transaction" in argv
    assert argv[-2:] == ["--", "petclinic"]


def test_mariadb_command_line_keeps_the_exact_position() -> None:
    argv = dump_argv(ServerFlavour.MARIADB, Path("/proc/1/fd/3"), "app", record_position=True)
    assert argv[0] == "/usr/bin/mariadb-dump"
    # MariaDB reads the position inside the snapshot: no global lock with these.
    assert {"--master-data=2", "--gtid", "--single-transaction"} <= set(argv)
    assert "--set-gtid-purged=OFF" not in argv  # mariadb-dump does not know it
    # ...and the policy would refuse exactly these against RDS.
    assert refused_options(argv) == ["--master-data=2", "--gtid"]


def test_mariadb_without_binlog_asks_for_no_position() -> None:
    argv = dump_argv(ServerFlavour.MARIADB, Path("/x"), "app", record_position=False)
    assert _refused(argv) == []


@pytest.mark.parametrize("flavour", list(ServerFlavour))
def test_every_flavour_dumps_the_whole_schema(flavour: ServerFlavour) -> None:
    argv = dump_argv(flavour, Path("/x"), "app", record_position=True)
    assert {"--routines", "--triggers", "--events"} <= set(argv)


@pytest.mark.parametrize(
    ("version", "flavour"),
    [
        ("8.0.39", ServerFlavour.MYSQL),
        ("8.4.3-log", ServerFlavour.MYSQL),
        ("10.11.19-MariaDB-0+deb12u1-log", ServerFlavour.MARIADB),
        ("11.4.2-MariaDB", ServerFlavour.MARIADB),
    ],
)
def test_flavour_from_server_version(version: str, flavour: ServerFlavour) -> None:
    assert ServerFlavour.from_version(version) is flavour


def test_policy_short_options_only_next_to_a_dump_tool() -> None:
    assert refused_options(["mysqldump", "-x", "--flush-logs", "app"]) == ["-x", "--flush-logs"]
    assert refused_options(["tail", "-F", "/var/log/x"]) == []
    assert refused_options(["mysqldump", "--set-gtid-purged=AUTO"]) == ["--set-gtid-purged=AUTO"]
