"""The binlog client command lines, chosen by the source's flavour (like the dump's).

MySQL 8 writes binlog events MariaDB's tool does not know and vice versa, so each
flavour gets its own ``mysqlbinlog``/``mariadb-binlog`` (the backup image ships both).
"""

from __future__ import annotations

from pathlib import Path

from drctl.mysql_tools import find_binary
from drctl.pilotlight.dump_options import ServerFlavour


def binlog_binary(flavour: ServerFlavour) -> str:
    if flavour is ServerFlavour.MYSQL:
        return find_binary("mysqlbinlog", "mariadb-binlog")
    return find_binary("mariadb-binlog", "mysqlbinlog")


def stream_argv(
    flavour: ServerFlavour, defaults_file: Path, spool_dir: Path, binlog_file: str
) -> list[str]:
    """Copy the source's binlog, byte for byte, from ``binlog_file`` on, and keep waiting.

    ``--raw`` writes each binlog file as ``<spool>/<name>`` exactly as the server has it
    (offsets are positions); ``--stop-never`` keeps the connection as a replica would.
    """
    return [
        binlog_binary(flavour),
        f"--defaults-extra-file={defaults_file}",
        "--read-from-remote-server",
        "--raw",
        "--stop-never",
        f"--result-file={spool_dir}/",
        binlog_file,
    ]


def replay_argv(
    flavour: ServerFlavour,
    *,
    start: int,
    stop_datetime: str | None,
    database: str,
    rename_from: str = "",
) -> list[str]:
    """Decode a binlog read from stdin into SQL for one database, from ``start`` up to
    ``stop_datetime`` (read in the tool's local time zone: callers run it with TZ=UTC).

    The source's binlog holds every database; only the restored one is replayed.
    """
    argv = [binlog_binary(flavour), f"--start-position={start}"]
    if rename_from and rename_from != database:
        argv.append(f"--rewrite-db={rename_from}->{database}")
    argv.append(f"--database={database}")
    if flavour is ServerFlavour.MYSQL:
        # The restored server is a new primary with its own GTIDs: replaying the
        # source's GTID_NEXT would collide with them (MariaDB: see replay.GTID_LINES).
        argv.append("--skip-gtids")
    if stop_datetime:
        argv.append(f"--stop-datetime={stop_datetime}")
    return [*argv, "-"]
