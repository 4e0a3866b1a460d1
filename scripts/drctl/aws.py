"""The one place that makes boto3 clients.

Every client gets botocore's adaptive retry mode, so throttling and transient errors
are retried by botocore itself (no hand-written retry loops elsewhere). boto3 reads
``AWS_ENDPOINT_URL`` on its own, which is how the same code talks to real AWS, to moto
in tests and to a moto server in the local sandbox.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_MAX_ATTEMPTS = 8


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS, **extra: Any) -> Config:
    return Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, **extra)


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
        connect_timeout: float = 10,
        read_timeout: float = 30,
    ) -> None:
        self._session = session or boto3.session.Session()
        self._config = client_config(
            max_attempts, connect_timeout=connect_timeout, read_timeout=read_timeout
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(
                    service,
                    region_name=region,
                    config=self._config,
                )
            return self._clients[key]


def client(service: str, region: str, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Any:
    """A one-off client; prefer a shared ``ClientFactory`` in long-running code."""
    return boto3.session.Session().client(
        service,
        region_name=region,
        config=client_config(max_attempts),
    )
