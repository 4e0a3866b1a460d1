"""The sandbox's stand-in for RDS endpoint DNS names: a name that follows the identifier.

On RDS an app's ``DB_HOST`` is ``<identifier>.<hash>.<region>.rds.amazonaws.com``:
renaming an instance moves that name (RDS User Guide, "Renaming a DB instance",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html), and an
app that reconnects resolves it again. Here:

* ``EndpointDirectory`` is the control plane's identifier -> server map. ``rename``
  refuses a name in use, as RDS does; the failback's production steps call it through
  the sandbox DB adapter, never a scenario.
* ``EndpointProxy`` is the DNS name: a fixed local port whose every NEW connection is
  forwarded to whichever server holds the name at that moment (a name with no holder
  refuses, like a deleted DNS name). Established connections stay where they are, as
  a TCP connection does after a DNS change.

Not emulated (README "not covered"): the ~10 minutes a new name takes to become
effective, resolver caching of the old name, and the reboot a rename causes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

from drctl.mysql_dsn import MySQLDsn
from drctl.sandbox.mariadb import MariaDBServer


class EndpointError(RuntimeError):
    """A rename RDS would refuse (name taken, or no such instance)."""


@dataclass
class EndpointDirectory:
    _names: dict[str, MariaDBServer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, name: str, server: MariaDBServer) -> None:
        with self._lock:
            if name in self._names:
                raise EndpointError(f"DB instance {name} already exists")
            self._names[name] = server

    def resolve(self, name: str) -> MariaDBServer | None:
        with self._lock:
            return self._names.get(name)

    def name_of(self, server: MariaDBServer) -> str | None:
        with self._lock:
            return next((n for n, s in self._names.items() if s is server), None)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._names)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            if new in self._names:
                raise EndpointError(f"cannot rename {old} to {new}: {new} already exists")
            if old not in self._names:
                raise EndpointError(f"DB instance {old} not found")
            self._names[new] = self._names.pop(old)


class EndpointProxy:
    """The DNS name ``name``: resolved through ``directory`` on every new connection."""

    def __init__(self, directory: EndpointDirectory, name: str) -> None:
        self.directory = directory
        self.name = name
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"dns-{name}")
        self._thread.start()

    def dsn(self, login: MySQLDsn) -> MySQLDsn:
        """``login`` (user, password, database) reached through this name."""
        return MySQLDsn(
            host="127.0.0.1",
            port=self.port,
            user=login.user,
            password=login.password,
            database=login.database,
        )

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        server = self.directory.resolve(self.name)
        if server is None:
            client.close()  # the name resolves to nothing (renamed away)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        except OSError:
            client.close()  # the instance behind the name is down
            return
        upstream.settimeout(None)
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
