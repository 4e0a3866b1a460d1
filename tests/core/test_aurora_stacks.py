"""rds.engine aurora-mysql wired into both stacks (Pulumi.seoul-aurora.yaml and
Pulumi.tokyo-aurora.yaml): the output contract, the secondary attached by id through the
StackReference, the app, the failover Lambda, the lag alarm and the dashboard on the
secondary cluster, every toggle, and the refusal of stacks that disagree on the engine.

What mocks cannot check: that AWS accepts the global database (the dated class/version
rules and the policies in policy/deploy_aurora.py stand in for that), and the failover
itself (a Lambda/drctl concern, against moto as far as moto implements global clusters)."""

from __future__ import annotations

import gc
import json
from dataclasses import replace
from typing import Any

import pytest
from typer.testing import CliRunner

from components.failover_automation import (
    FailoverAutomationArgs,
    _check_database,
    global_cluster_arn,
)
from drctl.cli import app
from drctl.synth import ResourceRecord, Synthesis
from stacks.validation import AURORA_INSTANCE_SUFFIX, AURORA_SECONDARY_SUFFIX
from tests.core.conftest import synth

SEOUL, TOKYO = "ap-northeast-2", "ap-northeast-1"
T_CLUSTER = "aws:rds/cluster:Cluster"
PUBLISHED = ("image_tags.drstack-app=2026.11.29-3f2a1c",)
TOGGLES = [(), ("force_failover=true",), ("force_failover=true", "promote_replica=true")]


@pytest.fixture(scope="module")
def seoul_aurora() -> Synthesis:
    return synth("seoul-aurora", *PUBLISHED)


@pytest.fixture(scope="module")
def tokyo_aurora() -> Synthesis:
    return synth("tokyo-aurora", *PUBLISHED)


def _clusters(syn: Synthesis) -> list[ResourceRecord]:
    return syn.of_type(T_CLUSTER)


def _env(syn: Synthesis, name: str) -> dict[str, Any]:
    deployment = next(
        r
        for r in syn.of_type("kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["name"] == "drstack-app"
    )
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}[name]


def test_seoul_exports_the_aurora_contract_and_no_rds_instance(seoul_aurora: Synthesis) -> None:
    out = seoul_aurora.outputs
    [cluster] = _clusters(seoul_aurora)
    assert out["db_engine"] == "aurora-mysql"
    assert out["aurora_global_cluster_id"] == "portforge-global"
    assert out["aurora_cluster_id"] == cluster.inputs["clusterIdentifier"] == "portforge-rds"
    assert out["aurora_cluster_arn"] == f"arn:aws:rds:{SEOUL}:123456789012:cluster:portforge-rds"
    assert ".cluster-" in out["rds_address"] and ".cluster-ro-" not in out["rds_address"]
    assert out["rds_master_secret_arn"].startswith(f"arn:aws:secretsmanager:{SEOUL}:")
    assert out["rds_master_secret_replica_arns"][TOKYO].startswith(
        f"arn:aws:secretsmanager:{TOKYO}:"
    )
    assert out["rds_kms_key_arn"] == cluster.inputs["kmsKeyId"]
    assert out["secret_arns"] == [out["rds_master_secret_arn"], out["app_secret_arn"]]
    for gone in ("rds_instance_id", "rds_instance_arn", "rds_subnet_group_name"):
        assert gone not in out
    assert "rds_security_group_ids" not in out
    assert not seoul_aurora.of_type("aws:rds/instance:Instance")
    assert _env(seoul_aurora, "DB_HOST") == out["rds_address"]
    # The app's own login, never the master credential (the app is not the master user).
    assert _env(seoul_aurora, "DB_SECRET_ARN") == out["app_secret_arn"]


def test_the_mysql_stacks_say_their_engine(seoul: Synthesis, tokyo: Synthesis) -> None:
    assert seoul.outputs["db_engine"] == tokyo.outputs["db_engine"] == "mysql"
    env = tokyo.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env["DB_ENGINE"] == "mysql" and env["REPLICA_INSTANCE_ID"]
    assert "GLOBAL_CLUSTER_ID" not in env


def test_tokyo_secondary_joins_the_global_database_by_id_with_its_own_key(
    seoul_aurora: Synthesis, tokyo_aurora: Synthesis
) -> None:
    out = tokyo_aurora.outputs
    [cluster] = _clusters(tokyo_aurora)
    inputs = cluster.inputs
    assert cluster.region == TOKYO
    assert inputs["globalClusterIdentifier"] == seoul_aurora.outputs["aurora_global_cluster_id"]
    assert inputs["engineVersion"] == seoul_aurora.config.rds.aurora_engine_version
    assert inputs["storageEncrypted"] is True
    assert (
        inputs["kmsKeyId"] == out["replica_kms_key_arn"] and f":kms:{TOKYO}:" in inputs["kmsKeyId"]
    )
    assert "masterPassword" not in inputs and "manageMasterUserPassword" not in inputs
    assert cluster.ignore_changes == ["replicationSourceIdentifier"]
    assert out["db_engine"] == "aurora-mysql"
    assert out["aurora_global_cluster_id"] == "portforge-global"
    # The names stacks/validation.py checks are the ones the stack derives.
    assert (
        out["replica_cluster_id"]
        == inputs["clusterIdentifier"]
        == (f"{tokyo_aurora.config.name_prefix}{AURORA_SECONDARY_SUFFIX}")
    )
    assert out["replica_cluster_arn"].endswith(":cluster:portforge-dr-aurora")
    # The writer endpoint: inactive until promotion, then the one that takes writes.
    assert out["replica_address"].startswith("portforge-dr-aurora.cluster-")
    assert ".cluster-ro-" not in out["replica_address"]
    assert (
        out["replica_master_secret_arn"]
        == (seoul_aurora.outputs["rds_master_secret_replica_arns"][TOKYO])
    )
    for gone in ("replica_instance_id", "replica_instance_arn"):
        assert gone not in out
    assert _env(tokyo_aurora, "DB_HOST") == out["replica_address"]
    assert (
        _env(tokyo_aurora, "DB_SECRET_ARN")
        == (seoul_aurora.outputs["app_secret_replica_arns"][TOKYO])
    )


def test_the_lambda_fails_over_exactly_this_global_database(
    tokyo_aurora: Synthesis, seoul_aurora: Synthesis
) -> None:
    out = tokyo_aurora.outputs
    env = tokyo_aurora.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env["DB_ENGINE"] == "aurora-mysql"
    assert env["GLOBAL_CLUSTER_ID"] == "portforge-global"
    assert env["REPLICA_CLUSTER_ARN"] == out["replica_cluster_arn"]
    assert "REPLICA_INSTANCE_ID" not in env
    policy = json.loads(
        tokyo_aurora.one("aws:iam/rolePolicy:RolePolicy", "auto-policy").inputs["policy"]
    )
    [database] = [s for s in policy["Statement"] if "rds:FailoverGlobalCluster" in s["Action"]]
    assert sorted(database["Action"]) == [
        "rds:DescribeDBClusters",
        "rds:DescribeGlobalClusters",
        "rds:FailoverGlobalCluster",
    ]
    # A global cluster's ARN has no region; both member clusters, as AWS's sample
    # policy for FailoverGlobalCluster/SwitchoverGlobalCluster lists them (the primary's
    # from its exported aurora_cluster_arn: a string, no call into Seoul).
    assert database["Resource"] == [
        "arn:aws:rds::123456789012:global-cluster:portforge-global",
        seoul_aurora.outputs["aurora_cluster_arn"],
        out["replica_cluster_arn"],
    ]
    assert not [s for s in policy["Statement"] if "rds:PromoteReadReplica" in s["Action"]]


def test_lag_alarm_and_dashboard_watch_the_secondary_cluster_in_ms(
    tokyo_aurora: Synthesis,
) -> None:
    out = tokyo_aurora.outputs
    alarm = tokyo_aurora.one("aws:cloudwatch/metricAlarm:MetricAlarm", "lag-alarm")
    assert alarm.region == TOKYO
    assert alarm.inputs["metricName"] == "AuroraGlobalDBReplicationLag"
    # The documented set: the secondary cluster and, as SourceRegion, the primary's region.
    assert alarm.inputs["dimensions"] == {
        "DBClusterIdentifier": out["replica_cluster_id"],
        "SourceRegion": "ap-northeast-2",
    }
    assert alarm.inputs["threshold"] == 5 * 1000  # max_lag_seconds, in milliseconds
    body = json.loads(
        tokyo_aurora.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]
    )
    metrics = [m for w in body["widgets"] for m in w.get("properties", {}).get("metrics", [])]
    for metric in ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBProgressLag"):
        assert [
            "AWS/RDS",
            metric,
            "DBClusterIdentifier",
            out["replica_cluster_id"],
            "SourceRegion",
            "ap-northeast-2",
            {"stat": "Maximum"},
        ] in metrics
    assert not [m for m in metrics if "ReplicaLag" in m]


@pytest.mark.parametrize("toggles", TOGGLES, ids=lambda t: ",".join(t) or "standby")
def test_every_toggle_synthesizes_with_the_secondary_kept(toggles: tuple[str, ...]) -> None:
    syn = synth("tokyo-aurora", *toggles)
    [cluster] = _clusters(syn)
    promoted = "promote_replica=true" in toggles
    expected = ["replicationSourceIdentifier"] + (["globalClusterIdentifier"] if promoted else [])
    assert cluster.ignore_changes == expected
    assert cluster.inputs["deletionProtection"] is True
    assert {r.region for r in syn.resources if r.custom and r.type.startswith("aws:rds")} == {TOKYO}
    # Promoted, it is the production primary: a reader in a second AZ joins the writer.
    instances = syn.of_type("aws:rds/clusterInstance:ClusterInstance")
    assert sorted(i.inputs["identifier"] for i in instances) == [
        f"portforge-dr-aurora-{n}" for n in range(1, 3 if promoted else 2)
    ]


def test_a_multi_az_primary_gets_a_reader_instance(seoul_aurora: Synthesis) -> None:
    assert seoul_aurora.config.rds.multi_az is True
    ids = sorted(
        i.inputs["identifier"]
        for i in seoul_aurora.of_type("aws:rds/clusterInstance:ClusterInstance")
    )
    assert ids == [f"portforge-rds{AURORA_INSTANCE_SUFFIX}", "portforge-rds-2"]
    single = synth("seoul-aurora", "rds.multi_az=false")
    assert len(single.of_type("aws:rds/clusterInstance:ClusterInstance")) == 1


def test_a_dr_stack_refuses_a_primary_on_another_engine() -> None:
    gc.collect()  # see test_config_rules: keep earlier coroutines' warnings out
    runner = CliRunner()
    for stack, primary, theirs in (
        ("tokyo-aurora", "seoul", "mysql"),
        ("tokyo", "seoul-aurora", "aurora-mysql"),
    ):
        result = runner.invoke(
            app, ["preview", "--stack", stack, "--set", f"primary_stack={primary}"]
        )
        assert result.exit_code == 2, result.output
        assert "drstack:rds.engine" in result.output and f"runs {theirs}" in result.output
        assert len(result.output.strip().splitlines()) == 1
    gc.collect()  # the refused programs' pending outputs: collected here, not in a later test


def test_the_global_cluster_arn_has_no_region_and_keeps_account_and_partition() -> None:
    arn = global_cluster_arn("arn:aws-cn:rds:cn-north-1:111122223333:cluster:x", "g")
    assert arn == "arn:aws-cn:rds::111122223333:global-cluster:g"


def test_failover_automation_refuses_an_engine_without_its_identifiers() -> None:
    args = FailoverAutomationArgs(
        provider=None,  # type: ignore[arg-type]  # refused before any resource
        metrics_provider=None,  # type: ignore[arg-type]
        dr_region=TOKYO,
        primary_region=SEOUL,
        health_check_id="hc",
        switch_health_check_id="sw",
        db_engine="aurora-mysql",
        replica_cluster_arn="arn:aws:rds:ap-northeast-1:1:cluster:x",
    )
    with pytest.raises(ValueError, match="global_cluster_id, replica_cluster_id"):
        _check_database(args)
    with pytest.raises(ValueError, match="replica_instance_id, replica_instance_arn"):
        _check_database(replace(args, db_engine="mysql"))
