"""The binlog client command line, chosen by the source's flavour (like the dump's).

MySQL 8 writes binlog events MariaDB's tool does not know and vice versa, so each
flavour gets its own ``mysqlbinlog``/``mariadb-binlog``. Only the archiver runs it: the
replay decodes events itself (drctl.binlog.replay), because the restore's account may
not run the ``BINLOG '...'`` statements these tools print for row events.
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
