"""AuroraGlobal alone: both sides under Pulumi mocks, and the dated refusal of
combinations an Aurora global database does not support."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from components.aurora_global import AuroraGlobal, AuroraGlobalArgs, aurora_global_refusal
from drctl.mocks import DrstackMocks, ProviderRegistry
from drctl.synth import RecordingMonitor, ResourceRecord

VERSION = "8.0.mysql_aurora.3.08.0"


def _synth(role: str, **overrides: Any) -> list[ResourceRecord]:
    registry = ProviderRegistry(default_region="ap-northeast-1")
    mocks = DrstackMocks(registry, {})
    monitor = RecordingMonitor(mocks, registry)
    pulumi.runtime.set_mocks(mocks, project="drstack", stack="t", preview=False, monitor=monitor)

    def program() -> None:
        region = "ap-northeast-2" if role == "primary" else "ap-northeast-1"
        provider = aws.Provider("p", region=region)
        values: dict[str, Any] = {
            "provider": provider,
            "role": role,
            "identifier": f"portforge-{role}",
            "global_identifier": "portforge-global",
            "engine_version": VERSION,
            "instance_class": "db.r6g.large",
            "vpc_id": "vpc-1",
            "subnet_ids": ["subnet-1", "subnet-2"],
            "client_cidr": "10.1.0.0/16",
            "secret_replica_providers": (
                {"ap-northeast-1": aws.Provider("dr", region="ap-northeast-1")}
                if role == "primary"
                else {}
            ),
            "master_secret_arn": None
            if role == "primary"
            else "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:x/master-credential-AbCdEf",
        }
        args = AuroraGlobalArgs(**{**values, **overrides})
        AuroraGlobal("db", args)

    pulumi_mocks.test(program)()
    return list(monitor.records)


def _one(records: list[ResourceRecord], type_: str) -> ResourceRecord:
    [record] = [r for r in records if r.type == type_]
    return record


def test_primary_owns_the_global_cluster_encrypted_protected_backed_up() -> None:
    records = _synth("primary")
    glob = _one(records, "aws:rds/globalCluster:GlobalCluster")
    assert glob.inputs["engine"] == "aurora-mysql" and glob.inputs["storageEncrypted"] is True
    assert glob.inputs["deletionProtection"] is True
    cluster = _one(records, "aws:rds/cluster:Cluster")
    i = cluster.inputs
    assert i["storageEncrypted"] is True and i["kmsKeyId"]
    assert i["deletionProtection"] is True and i["backupRetentionPeriod"] == 7
    assert i["skipFinalSnapshot"] is False
    assert "manageMasterUserPassword" not in i and i["masterUsername"] == "admin"
    assert cluster.display_inputs["masterPassword"] == "[secret]"  # masked wherever shown
    # The password is the program's own, stored in a secret replicated to the DR region.
    password = _one(records, "random:index/randomPassword:RandomPassword")
    assert password.inputs["length"] >= 16
    secret = _one(records, "aws:secretsmanager/secret:Secret")
    assert [r["region"] for r in secret.inputs["replicas"]] == ["ap-northeast-1"]
    assert _one(records, "aws:secretsmanager/secretVersion:SecretVersion")
    assert (
        _one(records, "aws:rds/clusterInstance:ClusterInstance").inputs["publiclyAccessible"]
        is False
    )
    assert cluster.region == "ap-northeast-2"
    storage_key = [r for r in records if r.name == "db-kms"]
    assert [k.region for k in storage_key] == ["ap-northeast-2"]


def test_secondary_attaches_by_identifier_with_its_own_key_and_no_credentials() -> None:
    records = _synth("secondary")
    assert not [r for r in records if r.type == "aws:rds/globalCluster:GlobalCluster"]
    cluster = _one(records, "aws:rds/cluster:Cluster")
    assert cluster.inputs["globalClusterIdentifier"] == "portforge-global"
    assert "masterPassword" not in cluster.inputs and "masterUsername" not in cluster.inputs
    assert cluster.inputs["deletionProtection"] is True
    assert cluster.ignore_changes == ["replicationSourceIdentifier"]
    assert _one(records, "aws:kms/key:Key").region == "ap-northeast-1"
    assert {r.region for r in records if r.custom and r.type.startswith("aws:")} == {
        "ap-northeast-1"
    }


def test_promoted_secondary_leaves_global_membership_to_the_failover() -> None:
    cluster = _one(_synth("secondary", promoted=True), "aws:rds/cluster:Cluster")
    assert cluster.ignore_changes == ["replicationSourceIdentifier", "globalClusterIdentifier"]


@pytest.mark.parametrize(
    ("instance_class", "version", "needle"),
    [
        ("db.t3.medium", VERSION, "memory-optimized"),
        ("db.t4g.medium", VERSION, "memory-optimized"),
        ("db.r6g.large", "8.0", "Aurora MySQL 3.01.0 or later"),
        ("db.r6g.large", "5.7.mysql_aurora.2.11.2", "Aurora MySQL 3.01.0 or later"),
        ("db.r6g.large", "8.0.mysql_aurora.3.00.0", "Aurora MySQL 3.01.0 or later"),
    ],
)
def test_unsupported_combinations_are_refused_with_the_value(
    instance_class: str, version: str, needle: str
) -> None:
    message = aurora_global_refusal(instance_class, version)
    assert message is not None and needle in message and "2026-11-29" in message
    with pytest.raises(ValueError, match="portforge-primary"):
        _synth("primary", instance_class=instance_class, engine_version=version)


def test_supported_combination_passes() -> None:
    assert aurora_global_refusal("db.r7g.xlarge", "8.0.mysql_aurora.3.10.1") is None
