"""The throwaway binlog server: which binary, which settings, and the image that ships it."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from drctl.binlog import binlog_server
from drctl.binlog.binlog_server import server_argv, server_binary, source_checksums
from drctl.binlog.events import MAGIC
from drctl.mysql_tools import ToolMissing
from drctl.pilotlight.dump_options import ServerFlavour

ROOT = Path(__file__).resolve().parents[2]


def _fake_mysqld(tmp_path: Path, version: str) -> str:
    script = tmp_path / "mysqld"
    script.write_text(f"#!/bin/sh\necho '{version}'\n")
    script.chmod(0o755)
    return str(script)


def test_a_mysql_archive_is_not_served_by_debians_mysqld(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Debian's /usr/sbin/mysqld is MariaDB, which cannot read MySQL 8's binlog events.
    fake = _fake_mysqld(tmp_path, "/usr/sbin/mysqld  Ver 10.11.19-MariaDB-0+deb12u1 for debian")
    monkeypatch.setattr(binlog_server, "find_binary", lambda *names: fake)
    with pytest.raises(ToolMissing, match="MariaDB's; serving a MySQL 8 binlog needs"):
        server_binary(ServerFlavour.MYSQL)

    real = _fake_mysqld(tmp_path, "/usr/sbin/mysqld  Ver 8.0.39 for Linux on x86_64 (MySQL)")
    monkeypatch.setattr(binlog_server, "find_binary", lambda *names: real)
    assert server_binary(ServerFlavour.MYSQL) == real


def _fde(algorithm: int) -> bytes:
    body = b"\x04\x00" + b"8.0.39".ljust(50, b"\x00") + b"\x00" * 4 + b"\x13" + b"\x00" * 40
    body += bytes([algorithm]) + b"\x00\x00\x00\x00"
    header = struct.pack("<IBIII", 1, 15, 1, 19 + len(body), 4 + 19 + len(body)) + b"\x00\x00"
    return MAGIC + header + body


def test_the_server_checksums_events_as_the_source_did() -> None:
    assert source_checksums(_fde(1)) is True
    assert source_checksums(_fde(0)) is False
    argv = server_argv("mariadbd", ServerFlavour.MARIADB, Path("/w"), "mysql-bin", False)
    assert "--binlog-checksum=NONE" in argv


@pytest.mark.parametrize("flavour", list(ServerFlavour))
def test_the_server_listens_on_no_port_and_keeps_every_served_file(flavour: ServerFlavour) -> None:
    argv = server_argv("server", flavour, Path("/w"), "mysql-bin-changelog", True)
    assert "--skip-networking" in argv
    assert "--log-bin=/w/binlog/mysql-bin-changelog" in argv
    assert "--binlog-row-metadata=FULL" in argv  # or the decoder ignores the names
    assert any(a in argv for a in ("--expire-logs-days=0", "--binlog-expire-logs-seconds=0"))
    if flavour is ServerFlavour.MYSQL:
        assert "--gtid-mode=ON_PERMISSIVE" in argv  # sends GTID and anonymous events alike


def test_the_backup_image_installs_mysql8s_server_and_fails_without_it() -> None:
    dockerfile = (ROOT / "docker" / "backup" / "Dockerfile").read_text()
    assert "mysql-community-server-core" in dockerfile
    assert 'mysqld --version | grep -E "Ver 8' in dockerfile
    assert "! mysqld --version | grep -qi mariadb" in dockerfile
