"""MySQL/MariaDB connection strings: parse once, hand out to pymysql and to the CLI clients.

A DSN looks like ``mysql://user:password@host:3306/database`` or, for a local server
reached by its unix socket, ``mysql://root@localhost/db?unix_socket=/path/to/sock``.
The password never reaches a command line (``ps`` would show it) nor the disk: the client
tools get it through an anonymous in-memory file, see :func:`client_defaults_file`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit


class DsnError(ValueError):
    """A DSN that cannot be used; the message names the problem, never the password."""


@dataclass(frozen=True)
class MySQLDsn:
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""
    database: str = ""
    unix_socket: str = ""

    @classmethod
    def parse(cls, text: str) -> MySQLDsn:
        parts = urlsplit(text)
        if parts.scheme not in ("mysql", "mariadb"):
            raise DsnError(
                f"DSN must start with mysql:// (got scheme {parts.scheme or 'none'!r}); "
                "example: mysql://user:password@127.0.0.1:3306/appdb"
            )
        try:
            port = parts.port or 3306
        except ValueError as exc:
            raise DsnError(f"DSN has an invalid port: {exc}") from None
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
            unix_socket=query.get("unix_socket", [""])[0],
        )

    def with_database(self, database: str) -> MySQLDsn:
        return replace(self, database=database)

    def url(self, *, with_password: bool = True) -> str:
        secret = f":{quote(self.password, safe='')}" if self.password and with_password else ""
        if self.password and not with_password:
            secret = ":***"
        suffix = f"?unix_socket={self.unix_socket}" if self.unix_socket else ""
        user = quote(self.user, safe="")
        return f"mysql://{user}{secret}@{self.host}:{self.port}/{self.database}{suffix}"

    def redacted(self) -> str:
        """For logs and reports: everything but the password."""
        return self.url(with_password=False)

    def pymysql_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"user": self.user, "password": self.password, "autocommit": True}
        if self.unix_socket:
            kwargs["unix_socket"] = self.unix_socket
        else:
            kwargs["host"] = self.host
            kwargs["port"] = self.port
        if self.database:
            kwargs["database"] = self.database
        return kwargs

    def endpoint(self) -> str:
        """Where this DSN points, for "did not answer" messages (no user, no password)."""
        return "localhost (unix socket)" if self.unix_socket else f"{self.host}:{self.port}"

    def connect(
        self,
        *,
        timeout: float = 5.0,
        database: str | None = None,
        read_timeout: float | None = None,
    ) -> Any:
        """A pymysql connection whose handshake cannot hang.

        pymysql's ``connect_timeout`` covers the TCP connect only: the server greeting is
        read under ``read_timeout``, which defaults to "wait forever", so a peer that
        accepts and never speaks (a wedged proxy, a half-dead host) hangs the caller.
        The greeting is therefore read under ``timeout`` too; afterwards each read waits
        at most ``read_timeout`` (None: no bound, for callers that bound it themselves).
        """
        import pymysql

        kwargs = self.pymysql_kwargs()
        if database is not None:
            kwargs["database"] = database or None
        connect_seconds = max(1, int(timeout))
        conn = pymysql.connect(
            connect_timeout=connect_seconds,
            read_timeout=connect_seconds,
            write_timeout=connect_seconds,
            **kwargs,
        )
        _set_io_timeout(conn, read_timeout)
        return conn


def _set_io_timeout(conn: Any, seconds: float | None) -> None:
    # pymysql reads these on every socket operation; there is no public setter.
    # (It re-applies them to the socket lazily, before the next read or write.)
    conn._read_timeout = seconds
    conn._write_timeout = seconds


def client_options(dsn: MySQLDsn) -> str:
    """The ``[client]`` option-file text for ``dsn`` (quoted so any password works)."""
    lines = ["[client]", f"user={_option_quote(dsn.user)}"]
    if dsn.password:
        lines.append(f"password={_option_quote(dsn.password)}")
    if dsn.unix_socket:
        lines.append(f"socket={_option_quote(dsn.unix_socket)}")
    else:
        lines += [f"host={dsn.host}", f"port={dsn.port}", "protocol=TCP"]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def client_defaults_file(dsn: MySQLDsn) -> Iterator[Path]:
    """An option file for ``mariadb``/``mysqldump`` (``--defaults-extra-file``) that is never on disk.

    A temp file holding the password outlives a SIGKILLed process. This is an anonymous
    memory file (memfd) instead: it exists only while this process holds it, so the
    kernel frees it however the process ends. Child processes open it by its
    ``/proc/<pid>/fd/<n>`` path while the parent lives; it is mode 0600 because the
    clients ignore a world-writable option file (and memfd starts out 0777).
    """
    fd = os.memfd_create("drctl-client-cnf", os.MFD_CLOEXEC)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, client_options(dsn).encode())
        yield Path(f"/proc/{os.getpid()}/fd/{fd}")
    finally:
        os.close(fd)


def _option_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
