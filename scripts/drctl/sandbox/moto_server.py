"""moto server: the local stand-in for the AWS APIs (Route 53, DynamoDB) the runbook calls.

It answers the same API calls as AWS, so the failover engine's real Route 53 and
DynamoDB adapters run unchanged against it. It does not *behave* like AWS: no health
checker probes anything and nothing replicates. The drill says so in its report.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import boto3

from drctl.aws import ClientFactory, client_config
from drctl.sandbox.ports import free_port, wait_for_port
from drctl.sandbox.processes import ManagedProcess, ProcessSupervisor, SupervisedServer

FAKE_CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}


@dataclass
class MotoServer(SupervisedServer):
    supervisor: ProcessSupervisor
    port: int = 0
    process: ManagedProcess | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        for _attempt in range(3):
            self.port = free_port()
            self.process = self.supervisor.start(
                "moto",
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            )
            if wait_for_port(self.port, timeout) and self.process.alive():
                return
            self.supervisor.stop(self.process, timeout=5)
        tail = self.process.log_tail(15) if self.process else ""
        raise RuntimeError(f"moto server did not start:\n{tail}")


class SandboxClientFactory(ClientFactory):
    """The engine's client factory, pointed at moto with throwaway credentials.

    Passing the endpoint per client (rather than setting AWS_ENDPOINT_URL) keeps the
    process environment untouched for anything else running in it.
    """

    def __init__(self, endpoint: str) -> None:
        super().__init__(session=boto3.session.Session(**FAKE_CREDENTIALS), max_attempts=2)
        self.endpoint = endpoint
        # A region served by its own moto server (the primary, so it can go dark alone).
        self.region_endpoints: dict[str, str] = {}
        self._sandbox_session = boto3.session.Session(**FAKE_CREDENTIALS)
        self._sandbox_clients: dict[tuple[str, str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        endpoint = self.region_endpoints.get(region, self.endpoint)
        # Keyed by endpoint too: a region's own moto server is new in every scenario run.
        key = (service, region, endpoint)
        with self._lock:
            if key not in self._sandbox_clients:
                self._sandbox_clients[key] = self._sandbox_session.client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint,
                    config=client_config(2, connect_timeout=5, read_timeout=10),
                )
            return self._sandbox_clients[key]
