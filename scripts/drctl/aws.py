"""The one place that makes boto3 clients.

Every client gets the same bounded botocore ``Config``: a connect timeout, a read
timeout and botocore's ``standard`` retry mode with a small total number of attempts
(``adaptive`` mode adds client-side rate limiting that can sleep on its own). The
worst case of one call is therefore known: attempts × (connect + read) plus backoff;
and under a command's ``--timeout`` (``drctl.deadline``) the timeouts are capped at
the deadline and no attempt starts after it. boto3 reads ``AWS_ENDPOINT_URL`` on its
own, which is how the same code talks to real AWS, to moto in tests and to a moto
server in the local sandbox.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from drctl import deadline

# Total attempts per call, the first one included (botocore ``total_max_attempts``).
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 20.0


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS, **extra: Any) -> Config:
    return Config(retries={"mode": "standard", "total_max_attempts": max_attempts}, **extra)


class ClientFactory:
    """Caches one client per (service, region).

    Sharing the factory lets callers (and tests) see the same client the engine uses,
    e.g. to register a botocore event hook. boto3 clients are thread-safe; the
    session is not, so creation happens under a lock.
    """

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self._session = session or boto3.session.Session()
        self._max_attempts = max_attempts
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def config(self) -> Config:
        """The client config; under an active deadline no attempt may outlive it."""
        connect, read = self._connect_timeout, self._read_timeout
        active = deadline.active()
        if active is not None:
            connect, read = active.cap(connect), active.cap(read)
        return client_config(self._max_attempts, connect_timeout=connect, read_timeout=read)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                made = self._session.client(service, region_name=region, config=self.config())
                self._clients[key] = deadline.bind_client(made)
            return self._clients[key]


def client(service: str, region: str, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Any:
    """A one-off client; prefer a shared ``ClientFactory`` in long-running code."""
    return deadline.bind_client(
        boto3.session.Session().client(
            service,
            region_name=region,
            config=client_config(
                max_attempts,
                connect_timeout=DEFAULT_CONNECT_TIMEOUT,
                read_timeout=DEFAULT_READ_TIMEOUT,
            ),
        )
    )
