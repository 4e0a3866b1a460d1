"""MySQL/MariaDB connection strings: parse once, hand out to pymysql and to the CLI clients.

A DSN looks like ``mysql://user:password@host:3306/database`` or, for a local server
reached by its unix socket, ``mysql://root@localhost/db?unix_socket=/path/to/sock``.
The password never reaches a command line (``ps`` would show it): the client tools get
it through a private defaults file, see :func:`client_defaults_file`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
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

    def connect(self, *, timeout: float = 5.0, database: str | None = None) -> Any:
        import pymysql

        kwargs = self.pymysql_kwargs()
        if database is not None:
            kwargs["database"] = database or None
        return pymysql.connect(
            connect_timeout=max(1, int(timeout)),
            read_timeout=None,
            **kwargs,
        )


@contextlib.contextmanager
def client_defaults_file(dsn: MySQLDsn) -> Iterator[Path]:
    """A 0600 option file for ``mariadb``/``mariadb-dump`` (``--defaults-extra-file``).

    Deleted on exit. Quoting follows the MySQL option-file rules so any password works.
    """
    lines = ["[client]", f"user={_option_quote(dsn.user)}"]
    if dsn.password:
        lines.append(f"password={_option_quote(dsn.password)}")
    if dsn.unix_socket:
        lines.append(f"socket={_option_quote(dsn.unix_socket)}")
    else:
        lines += [f"host={dsn.host}", f"port={dsn.port}", "protocol=TCP"]
    fd, name = tempfile.mkstemp(prefix="drctl-client-", suffix=".cnf")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _option_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
