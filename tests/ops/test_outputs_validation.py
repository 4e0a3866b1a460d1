"""A malformed outputs file stops every command before its first call, one line per problem.

Each case breaks one value the way a hand-edited or stale outputs file does; the
failover runs against the moto DR world, and afterwards nothing has changed: no
client was even made, the replica is still a replica, the switch is not inverted,
no lock is held, no run state was written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import command_support, failover_command
from drctl.failover.lock import DynamoDbLock
from drctl.outputs_schema import validate_outputs
from drctl.stack_outputs import OutputsError, StackOutputs

from .conftest import TOKYO, DrWorld, make_ops_app

app = make_ops_app()

Change = Callable[[dict[str, dict[str, Any]]], None]


def put(stack: str, key: str, value: Any) -> Change:
    return lambda outputs: outputs[stack].__setitem__(key, value)


def drop(stack: str, key: str) -> Change:
    return lambda outputs: outputs[stack].pop(key)


# (case, change, the "stack.key" the message must name, a fragment of what was expected)
MALFORMED: list[tuple[str, Change, str, str]] = [
    (
        "unknown strategy",
        put("tokyo", "strategy", "hot-standby"),
        "tokyo.strategy",
        "warm-standby, pilot-light",
    ),
    (
        "non-numeric max lag",
        put("tokyo", "max_lag_seconds", "fast"),
        "tokyo.max_lag_seconds",
        "valid number",
    ),
    (
        "boolean max lag",
        put("tokyo", "max_lag_seconds", True),
        "tokyo.max_lag_seconds",
        "valid number",
    ),
    (
        "negative max lag",
        put("tokyo", "max_lag_seconds", -5),
        "tokyo.max_lag_seconds",
        "greater than or equal to 0",
    ),
    (
        # `X | None = None` made an explicit null a valid "number": no lag limit at all.
        "null max lag",
        put("tokyo", "max_lag_seconds", None),
        "tokyo.max_lag_seconds",
        "a number is needed, not null",
    ),
    (
        "null RTO objective",
        put("tokyo", "objectives", {"rto_minutes": None, "rpo_seconds": 5}),
        "tokyo.objectives.rto_minutes",
        "a number is needed, not null",
    ),
    (
        "null deployment size",
        put("tokyo", "deployments", {"auth-deployment": None}),
        "tokyo.deployments.auth-deployment",
        "valid integer",
    ),
    (
        "null deployment size",
        put("tokyo", "deployments", {"auth-deployment": None}),
        "tokyo.deployments.auth-deployment",
        "valid integer",
    ),
    (
        "deployments as a list",
        put("tokyo", "deployments", ["auth-deployment"]),
        "tokyo.deployments",
        "valid dictionary",
    ),
    (
        "text standby size",
        put("tokyo", "standby_deployments", {"team-service": "two"}),
        "tokyo.standby_deployments.team-service",
        "valid integer",
    ),
    ("numeric region", put("tokyo", "region", 1), "tokyo.region", "valid string"),
    ("not a region name", put("seoul", "region", "Seoul"), "seoul.region", "AWS region name"),
    (
        "garbage kubeconfig",
        put("tokyo", "kubeconfig", "not: [valid"),
        "tokyo.kubeconfig",
        "not YAML",
    ),
    (
        "kubeconfig without clusters",
        put("tokyo", "kubeconfig", "apiVersion: v1"),
        "tokyo.kubeconfig",
        "missing clusters",
    ),
    ("numeric app url", put("tokyo", "app_url", 42), "tokyo.app_url", "valid string"),
    (
        "app url without scheme",
        put("tokyo", "app_url", "tokyo.example"),
        "tokyo.app_url",
        "http(s) URL",
    ),
    (
        "objectives as text",
        put("tokyo", "objectives", {"rto_minutes": "soon"}),
        "tokyo.objectives.rto_minutes",
        "valid number",
    ),
    ("missing lock table", drop("tokyo", "lock_table_name"), "tokyo.lock_table_name", "missing"),
    (
        "null switch id",
        put("tokyo", "failover_switch_id", None),
        "tokyo.failover_switch_id",
        "missing",
    ),
    (
        "bucket map as a list",
        put("tokyo", "dr_bucket_names", ["x"]),
        "tokyo.dr_bucket_names",
        "valid dictionary",
    ),
]


def unchanged(world: DrWorld) -> None:
    assert world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    config = world.switch_config()
    assert not config.get("Inverted") and not config.get("Disabled")
    lock = DynamoDbLock(world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    assert lock.holder() is None
    assert not world.state_dir.exists() or not list(world.state_dir.iterdir())
    assert world.scaler.calls == []


@pytest.fixture
def no_clients(dr_world: DrWorld, monkeypatch: pytest.MonkeyPatch) -> DrWorld:
    """Validation comes first: making even one client would fail the test."""

    def refuse() -> Any:
        raise AssertionError("a client was made before the outputs were validated")

    monkeypatch.setattr(command_support, "make_client_factory", refuse)
    monkeypatch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
    return dr_world


def rewrite(world: DrWorld, change: Change) -> None:
    outputs = json.loads(json.dumps(world.outputs))
    change(outputs)
    world.outputs_path.write_text(json.dumps(outputs))


def problem_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ")]


@pytest.mark.parametrize(
    ("case", "change", "key", "expected"), MALFORMED, ids=[c[0] for c in MALFORMED]
)
def test_failover_refuses_a_malformed_value_and_changes_nothing(
    no_clients: DrWorld, case: str, change: Change, key: str, expected: str
) -> None:
    world = no_clients
    rewrite(world, change)
    result = CliRunner().invoke(
        app,
        [
            "failover",
            "--outputs",
            str(world.outputs_path),
            "--state-dir",
            str(world.state_dir),
            "--yes",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "nothing was changed" in result.output
    lines = problem_lines(result.output)
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"{key}:") and expected in lines[0], lines[0]
    assert "secret-token" not in result.output
    unchanged(world)


def test_every_problem_is_listed_at_once(no_clients: DrWorld) -> None:
    rewrite(
        no_clients,
        lambda o: o["tokyo"].update(region=1, max_lag_seconds="x", deployments={"a": None}),
    )
    result = CliRunner().invoke(
        app, ["status", "--outputs", str(no_clients.outputs_path), "--timeout", "5"]
    )
    assert result.exit_code == 2
    assert "3 problem(s)" in result.output
    keys = [line.split(":")[0] for line in problem_lines(result.output)]
    assert keys == ["tokyo.region", "tokyo.deployments.a", "tokyo.max_lag_seconds"]


@pytest.mark.parametrize("command", ["failover", "failback", "status"])
def test_every_command_validates_before_it_starts(no_clients: DrWorld, command: str) -> None:
    rewrite(no_clients, put("tokyo", "strategy", "hot-standby"))
    args = [command, "--outputs", str(no_clients.outputs_path)]
    if command != "status":
        args += ["--yes", "--state-dir", str(no_clients.state_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "tokyo.strategy: expected one of" in result.output
    unchanged(no_clients)


def test_dry_run_validates_too(no_clients: DrWorld) -> None:
    rewrite(no_clients, put("tokyo", "max_lag_seconds", "fast"))
    result = CliRunner().invoke(
        app, ["failover", "--dry-run", "--outputs", str(no_clients.outputs_path)]
    )
    assert result.exit_code == 2 and "tokyo.max_lag_seconds" in result.output


def test_report_validates_the_objectives(tmp_path: Path) -> None:
    timeline = tmp_path / "timeline.json"
    timeline.write_text(json.dumps({"events": []}))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"tokyo": {"objectives": {"rto_minutes": "half an hour"}}}))
    result = CliRunner().invoke(
        app,
        ["report", "--timeline", str(timeline), "--outputs", str(outputs), "--out", str(tmp_path)],
    )
    assert result.exit_code == 2, result.output
    assert "tokyo.objectives.rto_minutes: input should be a valid number" in result.output


BAD_FILES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("a directory", lambda tmp: tmp, "is a directory, expected a JSON file"),
    ("not JSON", lambda tmp: write(tmp, b"{not json"), "is not valid JSON"),
    ("not UTF-8", lambda tmp: write(tmp, b'{"tokyo": "\xff"}'), "is not UTF-8 text"),
    ("a list", lambda tmp: write(tmp, b"[]"), "must be one JSON object keyed by stack name"),
    ("a stack that is a list", lambda tmp: write(tmp, b'{"tokyo": []}'), "must be one JSON object"),
]


def write(tmp: Path, data: bytes) -> Path:
    path = tmp / "outputs.json"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("case", "make", "expected"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
@pytest.mark.parametrize("command", ["failover", "status"])
def test_an_unusable_outputs_file_is_one_line(
    tmp_path: Path, case: str, make: Callable[[Path], Path], expected: str, command: str
) -> None:
    result = CliRunner().invoke(
        app,
        [command, "--outputs", str(make(tmp_path)), "--yes"]
        if command != "status"
        else [command, "--outputs", str(make(tmp_path))],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert expected in result.output and len(result.output.strip().splitlines()) == 1


def test_the_shipped_contract_and_the_sandbox_shape_pass(dr_world: DrWorld) -> None:
    outputs = StackOutputs(dr_world.outputs, "fixture")
    for command in ("status", "failover", "failback"):
        validate_outputs(outputs, command, {"seoul": "primary", "tokyo": "dr"})


def test_a_pilot_light_stack_is_checked_as_pilot_light() -> None:
    outputs = StackOutputs({"azure-pilot": {"location": "japaneast", "health_check_id": 7}}, "f")
    with pytest.raises(
        OutputsError, match=r"azure-pilot.health_check_id: input should be a valid string"
    ):
        validate_outputs(outputs, "report", {"azure-pilot": "dr"})


def test_an_unknown_strategy_does_not_hide_the_other_problems() -> None:
    outputs = StackOutputs(
        {"tokyo": {"region": "ap-northeast-1", "strategy": "hot", "max_lag_seconds": "x"}}, "f"
    )
    with pytest.raises(OutputsError) as info:
        validate_outputs(outputs, "status", {"tokyo": "dr"})
    assert "tokyo.strategy: expected one of" in str(info.value)
    assert "tokyo.max_lag_seconds: input should be a valid number" in str(info.value)
