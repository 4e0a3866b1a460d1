"""A throwaway server inside the restore job whose binary logs are the archived chain.

The row decoder (python-mysql-replication) reads binlog events over the replication
protocol only, so the verified segments are written back into binlog files, listed in
a binlog index, and served by a private server started for the replay: the "binlog
server" point-in-time technique. It holds no data; it only sends its binary logs to
one reader, over a unix socket in a private directory (no TCP port, no other user).

The server is the source's flavour (MySQL 8 cannot be served by MariaDB and vice
versa: each writes event types the other does not know). The restore image ships
Oracle's ``mysqld`` for RDS sources (docker/backup/Dockerfile); the sandbox uses
Debian's ``mariadbd``.

Only segments that passed their sha256 check are written: a corrupt segment ends the
installed chain, and the replay stops at the last consistent point before it. Memory
holds one segment at a time; the disk holds the chain after the chosen dump (one dump
interval of binlog, normally).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from drctl.binlog.chain import Chain, check_segment
from drctl.binlog.events import HEADER_BYTES, MAGIC
from drctl.binlog.segments import Segment
from drctl.mysql_tools import ToolMissing, find_binary
from drctl.pilotlight.dump_options import ServerFlavour

FORMAT_DESCRIPTION_EVENT = 15
READER_SERVER_ID = 4_294_967_000  # the reader's replica id; any id but the source's
_START_SECONDS = 60.0


class BinlogServerFailed(RuntimeError):
    """The throwaway server could not be set up or did not start; one line says why."""


@dataclass
class InstalledChain:
    """What was written: files in binlog order, and where the verified bytes end."""

    files: list[str] = field(default_factory=list)
    end_file: str = ""
    end_pos: int = 0
    checksum: bool = True  # the source wrote CRC32 checksums (read from its FDE)
    problem: str = ""  # a corrupt segment stopped the install here ("" : none)
    last_point: str = ""
    segments: int = 0
    bytes: int = 0


def install_chain(
    chain: Chain,
    segments: Iterator[tuple[Segment, bytes]],
    binlog_dir: Path,
    start_point: str,
) -> InstalledChain:
    """Write each verified segment at its offset in its binlog file, one at a time."""
    installed = InstalledChain(end_file=chain.start_file, end_pos=chain.start_pos)
    installed.last_point = start_point
    out: IO[bytes] | None = None
    try:
        for segment, data in segments:
            problem = check_segment(segment, data)
            if problem:  # changed since the chain was verified: stop before it
                installed.problem = problem
                break
            if segment.start == 0:
                if out is not None:
                    out.close()
                out = open(binlog_dir / segment.binlog_file, "wb")  # noqa: SIM115
                installed.files.append(segment.binlog_file)
                if len(installed.files) == 1:
                    installed.checksum = source_checksums(data)
            if out is None:
                raise BinlogServerFailed(f"segment {segment.name} does not start its file")
            out.write(data)
            installed.end_file, installed.end_pos = segment.binlog_file, segment.end
            installed.last_point = segment.point()
            installed.segments += 1
            installed.bytes += len(data)
    finally:
        if out is not None:
            out.close()
    return installed


def source_checksums(first_segment: bytes) -> bool:
    """Whether the source wrote event checksums: the algorithm byte of its FDE.

    A binlog opens with the magic and a format description event; since MySQL 5.6.1 /
    MariaDB 5.3 that event ends with the checksum algorithm (1 byte, 0 = off,
    1 = CRC32) and a 4-byte checksum. The serving server must use the same setting, or
    the reader would take the last 4 bytes of each event for data.
    """
    start = len(MAGIC)
    header = first_segment[start : start + HEADER_BYTES]
    if len(header) < HEADER_BYTES or header[4] != FORMAT_DESCRIPTION_EVENT:
        raise BinlogServerFailed("the first archived segment does not open with a binlog header")
    size = int.from_bytes(header[9:13], "little")
    return first_segment[start + size - 5] != 0


def server_binary(flavour: ServerFlavour) -> str:
    """The server that can read this flavour's binlog files; refuse a stand-in.

    Debian installs MariaDB under the name ``mysqld`` too: for a MySQL archive that is
    not enough, so the version must say MySQL.
    """
    if flavour is ServerFlavour.MARIADB:
        return find_binary("mariadbd", "mysqld")
    binary = find_binary("mysqld")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    if "mariadb" in (version.stdout + version.stderr).lower():
        raise ToolMissing(
            f"{binary} is MariaDB's; serving a MySQL 8 binlog needs MySQL's own mysqld "
            "(the backup image installs mysql-community-server-core)"
        )
    return binary


def server_argv(
    binary: str, flavour: ServerFlavour, workdir: Path, base: str, checksum: bool
) -> list[str]:
    """A server that serves ``<workdir>/binlog/<base>.*`` and nothing else, on a socket."""
    argv = [
        binary,
        "--no-defaults",
        f"--datadir={workdir / 'data'}",
        f"--socket={workdir / 'server.sock'}",
        f"--pid-file={workdir / 'server.pid'}",
        f"--log-error={workdir / 'error.log'}",
        "--skip-networking",
        f"--log-bin={workdir / 'binlog' / base}",
        f"--log-bin-index={workdir / 'binlog' / base}.index",
        "--server-id=4294967001",
        f"--binlog-checksum={'CRC32' if checksum else 'NONE'}",
        # The reader only trusts column names in table maps when the serving server says
        # FULL (they come from the source's events either way).
        "--binlog-row-metadata=FULL",
        "--innodb-buffer-pool-size=16M",
    ]
    if flavour is ServerFlavour.MARIADB:
        # No system tables at all: nothing to initialise (a second instead of several),
        # and nobody but this job can reach the socket anyway.
        argv += ["--skip-grant-tables", "--expire-logs-days=0", "--skip-slave-start"]
    else:
        # A MySQL 8 dump thread refuses GTID events under gtid_mode=OFF and anonymous
        # ones under ON; ON_PERMISSIVE sends both. The files must never expire.
        argv += [
            "--gtid-mode=ON_PERMISSIVE",
            "--secure-file-priv=NULL",  # its default directory is not in the job's image
            "--binlog-expire-logs-seconds=0",
            "--skip-replica-start",
            "--mysqlx=OFF",
        ]
    if os.geteuid() == 0:
        argv.append("--user=root")
    return argv


def initialize_argv(binary: str, workdir: Path) -> list[str]:
    """MySQL 8 needs its data dictionary before it starts (root without a password)."""
    argv = [
        binary,
        "--no-defaults",
        "--initialize-insecure",
        f"--datadir={workdir / 'data'}",
        f"--log-error={workdir / 'error.log'}",
        "--secure-file-priv=NULL",
    ]
    if os.geteuid() == 0:
        argv.append("--user=root")
    return argv


class BinlogServer:
    """Start with :meth:`start`, read over :meth:`connection_settings`, stop with :meth:`stop`."""

    def __init__(self, workdir: Path, flavour: ServerFlavour) -> None:
        self.workdir = workdir
        self.flavour = flavour
        self.process: subprocess.Popen[bytes] | None = None
        (workdir / "binlog").mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o700)

    @property
    def binlog_dir(self) -> Path:
        return self.workdir / "binlog"

    @property
    def socket(self) -> str:
        return str(self.workdir / "server.sock")

    def connection_settings(self) -> dict[str, Any]:
        return {"unix_socket": self.socket, "user": "root", "password": ""}

    def start(self, installed: InstalledChain) -> None:
        if not installed.files:
            raise BinlogServerFailed("no archived binlog file to serve")
        base = installed.files[0].rpartition(".")[0]
        index = self.binlog_dir / f"{base}.index"
        index.write_text("".join(f"{self.binlog_dir / name}\n" for name in installed.files))
        binary = server_binary(self.flavour)
        data = self.workdir / "data"
        if self.flavour is ServerFlavour.MYSQL:
            self._run_once(initialize_argv(binary, self.workdir), "initialising")
        else:
            data.mkdir(exist_ok=True)
        argv = server_argv(binary, self.flavour, self.workdir, base, installed.checksum)
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_ready()

    def _run_once(self, argv: list[str], what: str) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BinlogServerFailed(f"{what} the binlog server failed: {self._error_line()}")

    def _wait_ready(self) -> None:
        import pymysql

        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise BinlogServerFailed(f"the binlog server exited: {self._error_line()}")
            with contextlib.suppress(pymysql.err.OperationalError, OSError):
                pymysql.connect(connect_timeout=2, **self.connection_settings()).close()
                return
            time.sleep(0.1)
        raise BinlogServerFailed(
            f"the binlog server did not start within {_START_SECONDS:.0f} s: {self._error_line()}"
        )

    def _error_line(self) -> str:
        log = self.workdir / "error.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        errors = [line for line in lines if "[ERROR]" in line]
        return (errors or lines or ["no error log"])[-1].strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
