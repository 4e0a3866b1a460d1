"""Region dark (static stability): `drctl failover` completes with every Seoul endpoint
unreachable, waits on none of them before acting, and says so on the timeline."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import command_support, failover_command
from drctl.aws import ClientFactory
from drctl.failover.bounded import DeadlineExceeded, call_with_deadline
from drctl.failover.steps import OBSERVE_PRIMARY, failover_steps

from .conftest import SEOUL, TOKYO, DrWorld
from .test_failover import run_cli

pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")


class SilentListener:
    """Accepts TCP connections and never answers: a region that is dark, not refused."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def closed_port_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens here any more: connections are refused
    return f"http://127.0.0.1:{port}"


class DarkPrimaryFactory(ClientFactory):
    """The test world's clients, except that Seoul's AWS endpoint is ``endpoint``."""

    def __init__(self, inner: ClientFactory, endpoint: str) -> None:
        super().__init__(session=inner._session, max_attempts=2)
        self._inner = inner
        self._endpoint = endpoint
        self.primary_calls: list[str] = []

    def client(self, service: str, region: str) -> Any:
        if region != SEOUL:
            return self._inner.client(service, region)
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                dark = self._session.client(
                    service, region_name=region, endpoint_url=self._endpoint, config=self.config()
                )
                dark.meta.events.register(
                    "before-call", lambda model, **_: self.primary_calls.append(model.name)
                )
                self._clients[key] = dark
            return self._clients[key]


@pytest.fixture(params=["closed-port", "silent-listener"])
def dark_endpoint_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def dark_endpoint(dark_endpoint_kind: str) -> Iterator[str]:
    if dark_endpoint_kind == "closed-port":
        yield closed_port_url()
        return
    listener = SilentListener()
    yield listener.url
    listener.close()


def test_failover_completes_with_every_seoul_endpoint_dark(
    dr_world: DrWorld,
    dark_endpoint: str,
    dark_endpoint_kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dr_world.set_lag(1.0)
    factory = DarkPrimaryFactory(dr_world.factory, dark_endpoint)
    monkeypatch.setattr(command_support, "make_client_factory", lambda: factory)
    monkeypatch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
    outputs = json.loads(dr_world.outputs_path.read_text())
    outputs["seoul"]["app_url"] = dark_endpoint
    dr_world.outputs_path.write_text(json.dumps(outputs))

    result = run_cli(CliRunner(), dr_world, "failover", "--json", "--primary-timeout", "0.5")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "completed"
    names = [e["name"] for e in report["timeline"]["events"]]
    assert names == [step.name for step in failover_steps()]
    observed = report["timeline"]["events"][names.index(OBSERVE_PRIMARY)]
    assert observed["status"] == "skipped"
    assert "seoul region unreachable (looked for at most 0.5s)" in observed["detail"]
    if dark_endpoint_kind == "silent-listener":  # it never answers: the deadline cut it
        assert "no answer within 0.5s, gave up waiting" in observed["detail"]
    assert "nothing waited on it" in observed["detail"]
    # The only primary-region calls came after every acting step.
    assert set(factory.primary_calls) <= {"DescribeDBInstances"}
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert dr_world.switch_config()["Inverted"] is True


def test_acting_steps_never_touch_the_primary_region(
    dr_world: DrWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Record every call by region up to observe_primary: none goes to Seoul."""
    dr_world.set_lag(1.0)
    calls: list[tuple[str, str]] = []
    for service, region in [("rds", TOKYO), ("rds", SEOUL), ("dynamodb", TOKYO)]:
        dr_world.client(service, region).meta.events.register(
            "before-call", lambda model, _r=region, **_: calls.append((_r, model.name))
        )
    monkeypatch.setattr(command_support, "make_client_factory", lambda: dr_world.factory)
    monkeypatch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
    seen_at_observe: list[list[tuple[str, str]]] = []
    original = failover_command.failover_steps

    def steps() -> Any:
        listed = original()
        index = [s.name for s in listed].index(OBSERVE_PRIMARY)
        step = listed[index]

        def watched(ctx: Any, state: Any) -> str:
            seen_at_observe.append(list(calls))
            return step.run(ctx, state)

        listed[index] = type(step)(step.name, step.summary, watched)
        return listed

    monkeypatch.setattr(failover_command, "failover_steps", steps)
    result = run_cli(CliRunner(), dr_world, "failover", "--json")
    assert result.exit_code == 0, result.output
    before = seen_at_observe[0]
    assert before and all(region == TOKYO for region, _ in before)
    assert (SEOUL, "DescribeDBInstances") in calls  # the look afterwards, when it answers
    observed = json.loads(result.stdout)["steps"][OBSERVE_PRIMARY]
    assert "seoul region answers: database drstack-seoul-mysql available" in observed["detail"]


def test_call_with_deadline_gives_up_with_the_right_message() -> None:
    never = threading.Event()
    with pytest.raises(DeadlineExceeded, match=r"seoul rds: no answer within 0\.05s"):
        call_with_deadline(lambda: never.wait(30), 0.05, "seoul rds")
    never.set()
    assert call_with_deadline(lambda: 42, 1.0) == 42
    with pytest.raises(KeyError):
        empty: dict[str, int] = {}
        call_with_deadline(lambda: empty["missing"], 1.0)
