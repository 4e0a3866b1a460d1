"""Failback's reverse replica (Tokyo -> Seoul) is created with what RDS requires of an
encrypted cross-region replica: a KMS key, subnet group and security groups of Seoul,
taken from the seoul stack's outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drctl.failover.build import FailoverOptions, build_context
from drctl.stack_outputs import load_outputs_file

from .conftest import SEOUL, DrWorld

pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")

REVERSE_ID = "drstack-seoul-mysql-failback"


def promoted_tokyo_context(world: DrWorld) -> Any:
    ctx = build_context(
        load_outputs_file(world.outputs_path),
        world.factory,
        FailoverOptions(waiter_delay_seconds=0),
        say=lambda _m: None,
        scaler=world.scaler,
        with_health_probe=False,
    )
    ctx.database.promote()
    return ctx


def capture_create(world: DrWorld) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    world.client("rds", SEOUL).meta.events.register(
        "provide-client-params.rds.CreateDBInstanceReadReplica", hook
    )
    return calls


def test_reverse_replica_gets_seoul_key_subnets_and_security_groups(dr_world: DrWorld) -> None:
    calls = capture_create(dr_world)
    ctx = promoted_tokyo_context(dr_world)

    ctx.database.start_reverse_replication()

    seoul = dr_world.outputs["seoul"]
    assert len(calls) == 1
    call = calls[0]
    assert call["DBInstanceIdentifier"] == REVERSE_ID
    assert call["SourceDBInstanceIdentifier"] == dr_world.replica()["DBInstanceArn"]
    assert call["KmsKeyId"] == seoul["rds_kms_key_arn"]
    assert call["KmsKeyId"].split(":")[3] == SEOUL
    assert call["DBSubnetGroupName"] == seoul["rds_subnet_group_name"]
    assert call["VpcSecurityGroupIds"] == seoul["rds_security_group_ids"]
    assert call["PubliclyAccessible"] is False and call["DeletionProtection"] is True
    # And RDS (moto) accepted it into the Seoul subnet group and security group.
    reverse = dr_world.client("rds", SEOUL).describe_db_instances(DBInstanceIdentifier=REVERSE_ID)[
        "DBInstances"
    ][0]
    assert reverse["DBSubnetGroup"]["DBSubnetGroupName"] == seoul["rds_subnet_group_name"]
    assert [g["VpcSecurityGroupId"] for g in reverse["VpcSecurityGroups"]] == seoul[
        "rds_security_group_ids"
    ]


def test_reverse_replica_refuses_without_the_seoul_outputs(dr_world: DrWorld) -> None:
    for key in ("rds_kms_key_arn", "rds_subnet_group_name"):
        del dr_world.outputs["seoul"][key]
    dr_world.outputs_path.write_text(json.dumps(dr_world.outputs))
    calls = capture_create(dr_world)
    ctx = promoted_tokyo_context(dr_world)

    with pytest.raises(ValueError, match="KmsKeyId, DBSubnetGroupName missing") as exc:
        ctx.database.start_reverse_replication()
    assert "rds_kms_key_arn" in str(exc.value)
    assert calls == []


def fenced_seoul_group(world: DrWorld) -> str:
    """Seoul's custom parameter group as a planned failover leaves it: read_only=1."""
    rds = world.client("rds", SEOUL)
    name = "portforge-rds-mysql8-0"
    rds.create_db_parameter_group(
        DBParameterGroupName=name, DBParameterGroupFamily="mysql8.0", Description="binlog"
    )
    rds.modify_db_instance(
        DBInstanceIdentifier="drstack-seoul-mysql", DBParameterGroupName=name, ApplyImmediately=True
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName=name,
        Parameters=[
            {"ParameterName": "read_only", "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )
    world.outputs["seoul"]["rds_parameter_group_name"] = name
    world.outputs_path.write_text(json.dumps(world.outputs))
    return name


def read_only_of(world: DrWorld, group: str) -> str | None:
    pages = world.client("rds", SEOUL).get_paginator("describe_db_parameters")
    for page in pages.paginate(DBParameterGroupName=group):
        for parameter in page["Parameters"]:
            if parameter["ParameterName"] == "read_only":
                return parameter.get("ParameterValue")
    return None


def test_reverse_replica_joins_seoul_group_and_is_writable_once_promoted(
    dr_world: DrWorld,
) -> None:
    # The new Seoul primary keeps the primary's binlog settings (its parameter group),
    # and the fence a planned failover left on that group must not make it read-only.
    group = fenced_seoul_group(dr_world)
    calls = capture_create(dr_world)
    ctx = promoted_tokyo_context(dr_world)

    ctx.database.start_reverse_replication()
    assert calls[0]["DBParameterGroupName"] == group
    # During the reverse sync the old primary stays fenced.
    assert read_only_of(dr_world, group) == "1"

    # Reset only once the old primary has left the group (its own fenced group).
    ctx.database.retire_old_primary(5)
    ctx.database.reverse_replica().promote()
    assert read_only_of(dr_world, group) == "{TrueIfReplica}"
