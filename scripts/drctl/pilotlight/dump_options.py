"""The dump command line, chosen by the source server's flavour (MySQL on RDS, or MariaDB).

Amazon RDS refuses ``FLUSH TABLES WITH READ LOCK`` (the master user has no SUPER, and
RDS allows no global read lock), so on MySQL every option that takes it is out:
``--master-data``/``--source-data``, ``--lock-all-tables``, ``--flush-logs``, and, since
mysqldump 8.0.32, ``--single-transaction`` with GTIDs unless ``--set-gtid-purged=OFF``
(https://repost.aws/knowledge-center/mysqldump-error-rds-mysql-mariadb, MySQL bug
#109685). ``--gtid`` is a MariaDB-only option. The binlog position of a MySQL source is
therefore read separately, just before the dump starts (see ``backup.source_facts``).

MariaDB (the sandbox) takes its binlog position *inside* the consistent snapshot
(``binlog_snapshot_file``), so ``--master-data --single-transaction`` needs no global
lock there and stays exact.
"""

from __future__ import annotations

import enum
from pathlib import Path

from drctl.mysql_tools import find_binary


class ServerFlavour(enum.StrEnum):
    MYSQL = "mysql"
    MARIADB = "mariadb"

    @classmethod
    def from_version(cls, version: str) -> ServerFlavour:
        """From ``SELECT VERSION()``: MariaDB says so ("10.11.19-MariaDB-log")."""
        return cls.MARIADB if "mariadb" in version.lower() else cls.MYSQL


# Every option an RDS MySQL source refuses (it needs FLUSH TABLES WITH READ LOCK, or
# RELOAD on the whole instance, or is MariaDB-only). Kept in one place: the tests check
# the MySQL command line against it.
REFUSED_ON_RDS = (
    "--master-data",
    "--source-data",
    "--lock-all-tables",
    "-x",
    "--flush-logs",
    "-F",
    "--gtid",
)

_COMMON = (
    "--single-transaction",
    "--quick",
    "--hex-blob",
    "--default-character-set=utf8mb4",
    # Views come by default; these three do not, and without them a restore silently
    # loses stored procedures, functions, triggers and scheduled events.
    "--routines",
    "--triggers",
    "--events",
)


def dump_binary(flavour: ServerFlavour) -> str:
    """MySQL's own mysqldump for MySQL 8 (the backup image ships it); mariadb-dump for MariaDB."""
    if flavour is ServerFlavour.MYSQL:
        return find_binary("mysqldump", "mariadb-dump")
    return find_binary("mariadb-dump", "mysqldump")


def client_binary(flavour: ServerFlavour) -> str:
    if flavour is ServerFlavour.MYSQL:
        return find_binary("mysql", "mariadb")
    return find_binary("mariadb", "mysql")


def dump_options(flavour: ServerFlavour, *, record_position: bool) -> list[str]:
    """The options after the defaults file, for one flavour."""
    options = list(_COMMON)
    if flavour is ServerFlavour.MYSQL:
        # OFF: no SET @@GLOBAL.GTID_PURGED in the dump (the restoring user on a managed
        # server may not set it) and no FLUSH TABLES WITH READ LOCK (mysqldump ≥ 8.0.32).
        # --no-tablespaces: tablespace info needs PROCESS, and a restore never uses it.
        options += ["--set-gtid-purged=OFF", "--no-tablespaces"]
    elif record_position:
        # Commented out (=2): the file restores anywhere, and names its binlog position.
        options += ["--master-data=2", "--gtid"]
    return options


def dump_argv(
    flavour: ServerFlavour, defaults_file: Path, database: str, *, record_position: bool
) -> list[str]:
    return [
        dump_binary(flavour),
        f"--defaults-extra-file={defaults_file}",
        *dump_options(flavour, record_position=record_position),
        "--",
        database,
    ]
