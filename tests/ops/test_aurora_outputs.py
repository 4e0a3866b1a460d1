"""Aurora outputs (`db_engine: aurora-mysql`) are validated like the MySQL ones: one line
per problem naming stack.key, exit 2, before any client exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl import command_support
from drctl.outputs_schema import validate_outputs
from drctl.stack_outputs import OutputsError, StackOutputs

from .conftest import make_ops_app

app = make_ops_app()
SEOUL_ARN = "arn:aws:rds:ap-northeast-2:123456789012:cluster:drstack-seoul-aurora"
TOKYO_ARN = "arn:aws:rds:ap-northeast-1:123456789012:cluster:drstack-tokyo-aurora"


def aurora_outputs() -> dict[str, dict[str, Any]]:
    return {
        "seoul": {
            "region": "ap-northeast-2",
            "db_engine": "aurora-mysql",
            "aurora_global_cluster_id": "drstack-global",
            "aurora_cluster_id": "drstack-seoul-aurora",
            "aurora_cluster_arn": SEOUL_ARN,
            "rds_address": "drstack-seoul-aurora.cluster-x.ap-northeast-2.rds.amazonaws.com",
            "rds_master_secret_arn": "arn:aws:secretsmanager:ap-northeast-2:1:secret:m",
            "rds_master_secret_replica_arns": ["arn:aws:secretsmanager:ap-northeast-1:1:secret:m"],
            "rds_kms_key_arn": "arn:aws:kms:ap-northeast-2:1:key/k",
        },
        "tokyo": {
            "region": "ap-northeast-1",
            "strategy": "warm-standby",
            "db_engine": "aurora-mysql",
            "aurora_global_cluster_id": "drstack-global",
            "replica_cluster_id": "drstack-tokyo-aurora",
            "replica_cluster_arn": TOKYO_ARN,
            "replica_address": "drstack-tokyo-aurora.cluster-x.ap-northeast-1.rds.amazonaws.com",
            "replica_master_secret_arn": "arn:aws:secretsmanager:ap-northeast-1:1:secret:m",
            "replica_kms_key_arn": "arn:aws:kms:ap-northeast-1:1:key/k",
            "max_lag_seconds": 30,
            "failover_switch_id": "switch",
            "lock_table_name": "drstack-tokyo-failover-lock",
        },
    }


ROLES = {"seoul": "primary", "tokyo": "dr"}


def problems(outputs: dict[str, Any], command: str) -> list[str]:
    try:
        validate_outputs(StackOutputs(outputs, "outputs.json"), command, ROLES)
    except OutputsError as exc:
        return [line.strip() for line in str(exc).splitlines()[1:]]
    return []


@pytest.mark.parametrize("command", ["failover", "failback", "status"])
def test_well_formed_aurora_outputs_pass(command: str) -> None:
    assert problems(aurora_outputs(), command) == []


# (case, stack, key, value or None to drop, command, expected line start, fragment)
MALFORMED: list[tuple[str, str, str, Any, str, str, str]] = [
    (
        "no global cluster id",
        "tokyo",
        "aurora_global_cluster_id",
        None,
        "failover",
        "tokyo.aurora_global_cluster_id:",
        "missing",
    ),
    (
        "no secondary cluster ARN",
        "tokyo",
        "replica_cluster_arn",
        None,
        "failover",
        "tokyo.replica_cluster_arn:",
        "missing",
    ),
    (
        "secondary cluster name instead of ARN",
        "tokyo",
        "replica_cluster_arn",
        "drstack-tokyo-aurora",
        "failover",
        "tokyo.replica_cluster_arn:",
        "RDS cluster ARN",
    ),
    (
        "instance ARN instead of cluster ARN",
        "tokyo",
        "replica_cluster_arn",
        "arn:aws:rds:ap-northeast-1:123456789012:db:drstack-tokyo",
        "failover",
        "tokyo.replica_cluster_arn:",
        "RDS cluster ARN",
    ),
    (
        "numeric cluster id",
        "tokyo",
        "replica_cluster_id",
        7,
        "status",
        "tokyo.replica_cluster_id:",
        "valid string",
    ),
    (
        "unknown engine",
        "tokyo",
        "db_engine",
        "aurora-postgresql",
        "failover",
        "tokyo.db_engine:",
        "'mysql' or 'aurora-mysql'",
    ),
    (
        "no primary cluster ARN on failback",
        "seoul",
        "aurora_cluster_arn",
        None,
        "failback",
        "seoul.aurora_cluster_arn:",
        "missing",
    ),
    (
        "secret replica ARNs as a number",
        "seoul",
        "rds_master_secret_replica_arns",
        3,
        "status",
        "seoul.rds_master_secret_replica_arns:",
        "list of names",
    ),
]


@pytest.mark.parametrize(
    ("case", "stack", "key", "value", "command", "start", "fragment"),
    MALFORMED,
    ids=[c[0] for c in MALFORMED],
)
def test_malformed_aurora_value_is_one_line(
    case: str, stack: str, key: str, value: Any, command: str, start: str, fragment: str
) -> None:
    outputs = aurora_outputs()
    if value is None:
        outputs[stack].pop(key)
    else:
        outputs[stack][key] = value
    lines = problems(outputs, command)
    assert len(lines) == 1, lines
    assert lines[0].startswith(start) and fragment in lines[0], lines[0]


def test_aurora_stacks_do_not_need_the_mysql_instance_ids() -> None:
    """The MySQL keys are not required of an Aurora stack (it has none)..."""
    assert problems(aurora_outputs(), "failback") == []
    # ...while a MySQL stack (no db_engine: an old outputs file) still needs them.
    outputs = aurora_outputs()
    for values in outputs.values():
        values.pop("db_engine")
    lines = problems(outputs, "failback")
    assert "tokyo.replica_instance_id: missing (this command needs it)" in lines
    assert "seoul.rds_instance_id: missing (this command needs it)" in lines


def test_stacks_that_disagree_on_the_engine_are_refused() -> None:
    outputs = aurora_outputs()
    outputs["seoul"]["db_engine"] = "mysql"
    lines = problems(outputs, "status")
    assert lines == [
        "db_engine: the stacks disagree (seoul.db_engine = mysql, tokyo.db_engine = "
        "aurora-mysql); re-export the stale stack's outputs"
    ]


def test_cli_refuses_malformed_aurora_outputs_before_any_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> Any:
        raise AssertionError("a client was made before the outputs were validated")

    monkeypatch.setattr(command_support, "make_client_factory", refuse)
    outputs = aurora_outputs()
    outputs["tokyo"]["replica_cluster_arn"] = "drstack-tokyo-aurora"
    outputs["tokyo"].pop("aurora_global_cluster_id")
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = CliRunner().invoke(
        app,
        ["failover", "--outputs", str(path), "--state-dir", str(tmp_path / "runs"), "--yes"],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "2 problem(s), nothing was changed" in result.output
    assert "tokyo.aurora_global_cluster_id: missing" in result.output
    assert "tokyo.replica_cluster_arn: expected an RDS cluster ARN" in result.output
    assert not (tmp_path / "runs").exists()
