"""No remote call hangs: an endpoint that accepts connections and never answers.

The silent listener is a real TCP server on 127.0.0.1 that accepts and then says
nothing, set as ``AWS_ENDPOINT_URL``. Each test asserts what the command says when it
gives up under a small ``--timeout``; none measures wall-clock time.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import deadline
from drctl.aws import ClientFactory
from drctl.failover_command import EXIT_GAVE_UP

from .conftest import SEOUL, TOKYO, make_ops_app

app = make_ops_app()


class SilentListener:
    """Accepts every connection, reads nothing, answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentListener]:
    listener = SilentListener()
    monkeypatch.setenv("AWS_ENDPOINT_URL", listener.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield listener
    listener.close()


def outputs_file(tmp_path: Path) -> Path:
    outputs: dict[str, dict[str, Any]] = {
        "seoul": {
            "region": SEOUL,
            "rds_instance_id": "drstack-seoul-mysql",
            "ecr_repository_names": ["portforge"],
            "secret_arns": {"db": "arn:aws:secretsmanager:ap-northeast-2:1:secret:db"},
            "bucket_names": {"assets": "seoul-assets"},
        },
        "tokyo": {
            "region": TOKYO,
            "strategy": "warm-standby",
            "eks_cluster_name": "drstack-tokyo",
            "replica_instance_id": "drstack-tokyo-replica",
            "health_check_id": "hc-primary",
            "failover_switch_id": "hc-switch",
            "lock_table_name": "drstack-tokyo-failover-lock",
            "dynamodb_table_names": ["team_chats_ddb"],
            "dr_bucket_names": {"assets": "tokyo-assets"},
        },
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_status_gives_up_naming_the_silent_endpoint(
    silent_aws: SilentListener, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["status", "--outputs", str(outputs_file(tmp_path)), "--timeout", "1"]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert (
        f"status gave up: {silent_aws.url} did not answer (--timeout 1s); nothing was changed"
        in text
    )


def test_failover_gives_up_at_preflight_and_changed_nothing(
    silent_aws: SilentListener, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "failover",
            "--outputs",
            str(outputs_file(tmp_path)),
            "--yes",
            "--timeout",
            "1",
            "--state-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert result.exit_code == EXIT_GAVE_UP, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if "gave up" in line]
    assert len(lines) == 1, result.output
    assert lines[0] == (
        f"failover (step 'preflight') gave up: {silent_aws.url} did not answer "
        "(--timeout 1s); nothing was changed"
    )


def test_failover_json_says_gave_up(silent_aws: SilentListener, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "failover",
            "--outputs",
            str(outputs_file(tmp_path)),
            "--yes",
            "--json",
            "--timeout",
            "1",
            "--state-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert result.exit_code == EXIT_GAVE_UP
    payload = json.loads(result.stdout)
    assert payload["status"] == "gave_up" and payload["endpoint"] == silent_aws.url
    assert payload["changed"] == "nothing was changed"


def test_no_attempt_starts_after_the_deadline(silent_aws: SilentListener) -> None:
    factory = ClientFactory()
    with deadline.limit(0.5) as limit:
        client = factory.client("rds", TOKYO)
        # Each attempt is capped at the deadline, so the call cannot outlive it.
        assert client.meta.config.read_timeout <= 0.5
        assert client.meta.config.connect_timeout <= 0.5
        with pytest.raises(deadline.GaveUp, match="did not answer"):
            client.describe_db_instances()
    assert limit.gave_up_on == silent_aws.url


def test_every_client_has_bounded_timeouts_and_attempts() -> None:
    config = ClientFactory(session=None).config()
    assert config.connect_timeout <= 10 and config.read_timeout <= 30
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


@pytest.mark.parametrize("command", ["status", "failover", "failback"])
def test_a_non_positive_timeout_is_refused(command: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [command, "--outputs", str(outputs_file(tmp_path)), "--yes", "--timeout", "0"]
        if command != "status"
        else [command, "--outputs", str(outputs_file(tmp_path)), "--timeout", "0"],
    )
    assert result.exit_code == 2
    assert "--timeout must be a positive number of seconds, got 0" in result.output


def silent_kubeconfig(url: str) -> str:
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: dr, cluster: {{server: '{url}'}}}}]\n"
        "contexts: [{name: dr, context: {cluster: dr, user: dr}}]\n"
        "current-context: dr\n"
        "users: [{name: dr, user: {token: not-a-secret}}]\n"
    )


def test_a_silent_kubernetes_api_gives_up_naming_it(silent_aws: SilentListener) -> None:
    from drctl.status_command import kube_core_api

    core = kube_core_api(silent_kubeconfig(silent_aws.url))
    with deadline.limit(1) as limit, pytest.raises(deadline.GaveUp, match="did not answer"):
        core.list_node()
    assert limit.gave_up_on == silent_aws.url


def test_kubernetes_calls_are_refused_after_the_deadline(silent_aws: SilentListener) -> None:
    from drctl.failover.kube import apps_api_from_kubeconfig

    apps = apps_api_from_kubeconfig(silent_kubeconfig(silent_aws.url))
    with deadline.limit(1) as limit:
        limit.restart(-1)  # already past: no connection is even attempted
        with pytest.raises(deadline.GaveUp):
            apps.read_namespaced_deployment_scale("app", "default")
    assert silent_aws.accepted == []


def test_a_kubeconfig_the_client_cannot_load_is_a_value_error_without_its_content() -> None:
    from drctl.failover.kube import apps_api_from_kubeconfig

    broken = silent_kubeconfig("http://127.0.0.1:9").replace(
        "current-context: dr", "current-context: gone"
    )
    with pytest.raises(ValueError, match="cannot be loaded") as info:
        apps_api_from_kubeconfig(broken)
    assert "not-a-secret" not in str(info.value)
