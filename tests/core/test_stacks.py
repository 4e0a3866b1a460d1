"""The seoul and tokyo stacks under Pulumi mocks: resources, properties, regions, toggles."""

from __future__ import annotations

import json

import pytest

from drctl.synth import Synthesis
from tests.core.conftest import synth

SEOUL, TOKYO = "ap-northeast-2", "ap-northeast-1"

SEOUL_OUTPUTS = {
    "region",
    "eks_cluster_name",
    "app_url",
    "rds_instance_id",
    "rds_instance_arn",
    "dynamodb_table_names",
    "bucket_names",
    "ecr_repository_names",
    "secret_arns",
    "kubeconfig",
}
TOKYO_OUTPUTS = {
    "region",
    "strategy",
    "eks_cluster_name",
    "app_url",
    "replica_instance_id",
    "replica_instance_arn",
    "dynamodb_table_names",
    "dr_bucket_names",
    "health_check_id",
    "hosted_zone_id",
    "record_fqdn",
    "kubeconfig",
}


def kms_region(arn: str) -> str:
    assert arn.startswith("arn:aws:kms:"), arn
    return arn.split(":")[3]


# ----------------------------------------------------------------------------- outputs


def test_both_stacks_export_the_output_contract(seoul: Synthesis, tokyo: Synthesis) -> None:
    assert set(seoul.outputs) >= SEOUL_OUTPUTS
    assert set(tokyo.outputs) >= TOKYO_OUTPUTS
    assert "kubeconfig" in seoul.secret_outputs and "kubeconfig" in tokyo.secret_outputs
    assert seoul.outputs["region"] == SEOUL and tokyo.outputs["region"] == TOKYO


# ----------------------------------------------------------------------------- RDS


def test_primary_database_is_encrypted_backed_up_protected_with_a_generated_password(
    seoul: Synthesis,
) -> None:
    db = seoul.one("aws:rds/instance:Instance")
    assert db.inputs["engine"] == "mysql" and db.inputs["engineVersion"].startswith("8.0")
    assert db.inputs["storageEncrypted"] is True and kms_region(db.inputs["kmsKeyId"]) == SEOUL
    assert db.inputs["backupRetentionPeriod"] >= 7
    assert db.inputs["deletionProtection"] is True
    # RDS refuses a read replica of a source whose password RDS manages.
    assert "manageMasterUserPassword" not in db.inputs
    assert db.display_inputs["password"] == "[secret]" and db.inputs["publiclyAccessible"] is False
    # Failback creates Seoul's reverse replica in the same (binlog) parameter group.
    group = seoul.one("aws:rds/parameterGroup:ParameterGroup")
    assert db.inputs["parameterGroupName"] == seoul.outputs["rds_parameter_group_name"]
    assert seoul.outputs["rds_parameter_group_name"] == group.inputs["name"]


def test_replica_is_built_from_the_source_arn_with_a_key_in_its_own_region(
    seoul: Synthesis, tokyo: Synthesis
) -> None:
    replica = tokyo.one("aws:rds/instance:Instance")
    assert replica.region == TOKYO
    assert replica.inputs["replicateSourceDb"] == seoul.outputs["rds_instance_arn"]
    assert replica.inputs["replicateSourceDb"].startswith(f"arn:aws:rds:{SEOUL}:")
    assert kms_region(replica.inputs["kmsKeyId"]) == TOKYO
    assert replica.inputs["kmsKeyId"] == tokyo.outputs["replica_kms_key_arn"]
    for credential in ("username", "password", "manageMasterUserPassword"):
        assert credential not in replica.inputs


def test_promote_replica_drops_the_source_and_keeps_backups() -> None:
    promoted = synth("tokyo", "force_failover=true", "promote_replica=true")
    db = promoted.one("aws:rds/instance:Instance").inputs
    assert "replicateSourceDb" not in db
    assert db["backupRetentionPeriod"] >= 7
    assert db["deletionProtection"] is True
    # Checkov CKV_AWS_157: the promoted database is the production primary.
    assert db["multiAz"] is True
    # No new credential: the master user (and the secret's Tokyo replica) carry over.
    assert "manageMasterUserPassword" not in db and "password" not in db


# ----------------------------------------------------------------------------- DynamoDB


def test_table_streams_new_and_old_images_with_pitr_and_sse(seoul: Synthesis) -> None:
    table = seoul.one("aws:dynamodb/table:Table")
    assert table.inputs["name"] == "team_chats_ddb"
    assert table.inputs["streamEnabled"] is True
    assert table.inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table.inputs["pointInTimeRecovery"]["enabled"] is True
    assert table.inputs["serverSideEncryption"]["enabled"] is True
    assert "replicas" in table.ignore_changes


def test_dr_stack_owns_the_table_replica_in_tokyo(seoul: Synthesis, tokyo: Synthesis) -> None:
    # The only table the DR stack owns is the failover lock; data tables are replicas.
    assert [t.inputs["name"] for t in tokyo.of_type("aws:dynamodb/table:Table")] == [
        tokyo.outputs["lock_table_name"]
    ]
    replica = tokyo.one("aws:dynamodb/tableReplica:TableReplica")
    assert replica.region == TOKYO
    assert (
        replica.inputs["globalTableArn"] == seoul.outputs["dynamodb_table_arns"]["team_chats_ddb"]
    )
    assert replica.inputs["pointInTimeRecovery"] is True


# ----------------------------------------------------------------------------- S3


def test_dr_buckets_are_versioned_encrypted_and_private_in_tokyo(tokyo: Synthesis) -> None:
    buckets = tokyo.of_type("aws:s3/bucket:Bucket")
    assert sorted(b.inputs["bucket"] for b in buckets) == [
        "portforge-front-dr",
        "portforge-log-dr",
        "portforge-team-dr",
    ]
    assert {b.region for b in buckets} == {TOKYO}
    owned = [v for v in tokyo.of_type("aws:s3/bucketVersioning:BucketVersioning") if not v.read]
    assert len(owned) == 3 and all(
        v.inputs["versioningConfiguration"]["status"] == "Enabled" for v in owned
    )
    for sse in tokyo.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ):
        assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in (
            "AES256",
            "aws:kms",
        )
    blocks = tokyo.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert len(blocks) == 3
    for block in blocks:
        assert all(
            block.inputs[k] is True
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )


def test_replication_runs_on_the_seoul_bucket_after_both_versionings(tokyo: Synthesis) -> None:
    configs = tokyo.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert len(configs) == 3
    for config in configs:
        assert config.region == SEOUL
        source = config.inputs["bucket"]
        rule = config.inputs["rules"][0]
        assert rule["destination"]["bucket"] == f"arn:aws:s3:::{source}-dr"
        assert rule["deleteMarkerReplication"]["status"] == "Enabled"
        assert rule["destination"]["replicationTime"]["time"]["minutes"] == 15
        versionings = [tokyo.by_urn(u) for u in config.depends_on if "bucketVersioning" in u]
        # The DR bucket's versioning is a dependency; the source's is the primary stack's
        # (exported, not read: the DR stack must deploy with Seoul dark).
        assert [(v.read, v.region) for v in versionings] == [(False, TOKYO)]
        assert tokyo.primary_outputs is not None
        assert source in tokyo.primary_outputs["versioned_bucket_names"]


def test_rtc_can_be_switched_off() -> None:
    config = synth("tokyo", "s3_rtc=false").of_type(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
    )[0]
    assert "replicationTime" not in config.inputs["rules"][0]["destination"]


def test_replication_role_is_scoped_to_the_named_buckets(tokyo: Synthesis) -> None:
    policy = json.loads(tokyo.one("aws:iam/rolePolicy:RolePolicy", "replication").inputs["policy"])
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert "*" not in resources and not any("*" in a for a in actions)
    buckets = {r.removeprefix("arn:aws:s3:::").removesuffix("/*") for r in resources}
    assert buckets == {
        f"portforge-{n}{sfx}" for n in ("front", "team", "log") for sfx in ("", "-dr")
    }


def test_sovereign_bucket_is_not_replicated() -> None:
    s = synth("tokyo", "sovereign_data=[log]")
    sources = {
        c.inputs["bucket"]
        for c in s.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    }
    assert sources == {"portforge-front", "portforge-team"}


# ----------------------------------------------------------------------------- Route 53


def health_checks(s: Synthesis) -> dict[str, dict]:
    """The three checks of Route53Failover, by role: probe, switch, gate."""
    return {
        r.inputs["tags"]["HealthCheckRole"]: r.inputs
        for r in s.of_type("aws:route53/healthCheck:HealthCheck")
    }


def test_health_check_and_failover_records_follow_config(
    seoul: Synthesis, tokyo: Synthesis
) -> None:
    checks = health_checks(tokyo)
    probe = checks["probe"]
    assert probe["type"] == "HTTPS" and probe["resourcePath"] == "/health" and probe["port"] == 443
    assert probe["requestInterval"] == 10 and probe["failureThreshold"] == 3
    assert probe["fqdn"] == seoul.outputs["app_hostname"]
    assert tokyo.outputs["health_check_id"] != tokyo.outputs["failover_switch_id"]
    # The failover pair (the stack also writes its ACM validation record).
    records = {
        r.inputs["setIdentifier"]: r.inputs
        for r in tokyo.of_type("aws:route53/record:Record")
        if "setIdentifier" in r.inputs
    }
    assert records["primary"]["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    assert records["secondary"]["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    assert records["primary"]["records"] == [seoul.outputs["app_hostname"]]
    assert records["secondary"]["records"] == [tokyo.outputs["app_hostname"]]
    assert {r["ttl"] for r in records.values()} == {60}
    assert {r["name"] for r in records.values()} == {"api.portforge.org"}


def test_primary_record_is_gated_by_probe_and_switch(tokyo: Synthesis) -> None:
    gate_record = tokyo.one("aws:route53/healthCheck:HealthCheck", "primary-gate")
    gate = gate_record.inputs
    assert gate["type"] == "CALCULATED" and gate["childHealthThreshold"] == 2
    assert sorted(gate["childHealthchecks"]) == sorted(
        [tokyo.outputs["health_check_id"], tokyo.outputs["failover_switch_id"]]
    )
    primary = next(
        r
        for r in tokyo.of_type("aws:route53/record:Record")
        if r.inputs.get("setIdentifier") == "primary"
    )
    assert gate_record.urn in primary.depends_on
    switch = health_checks(tokyo)["switch"]
    # Threshold 0 with no children: Route 53 always reports it healthy.
    assert switch["type"] == "CALCULATED" and switch["childHealthThreshold"] == 0
    assert switch.get("childHealthchecks", []) == []


@pytest.mark.parametrize("force", [False, True])
def test_force_failover_inverts_the_switch_never_the_probe_and_never_disables(force: bool) -> None:
    checks = health_checks(synth("tokyo", f"force_failover={str(force).lower()}"))
    assert checks["switch"]["invertHealthcheck"] is force
    # Inverting the probe would make a dead primary look healthy.
    assert checks["probe"]["invertHealthcheck"] is False
    assert checks["gate"]["invertHealthcheck"] is False
    assert all(c["disabled"] is False for c in checks.values())


def test_dns_settings_flow_from_set_overrides() -> None:
    s = synth(
        "tokyo",
        "dns.ttl=120",
        "dns.health_check.interval=30",
        "dns.health_check.failure_threshold=2",
    )
    probe = health_checks(s)["probe"]
    assert (probe["requestInterval"], probe["failureThreshold"]) == (30, 2)
    failover_records = [
        r for r in s.of_type("aws:route53/record:Record") if "setIdentifier" in r.inputs
    ]
    assert {r.inputs["ttl"] for r in failover_records} == {120}


def test_one_health_alarm_in_us_east_1_on_the_probe(tokyo: Synthesis) -> None:
    alarms = [
        a
        for a in tokyo.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["metricName"] == "HealthCheckStatus"
    ]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm.region == "us-east-1"
    assert alarm.inputs["namespace"] == "AWS/Route53"
    assert alarm.inputs["dimensions"] == {"HealthCheckId": tokyo.outputs["health_check_id"]}
    # automation.failover_threshold_seconds 60 = one Route 53 metric period.
    assert alarm.inputs["evaluationPeriods"] == 1


def test_automated_failover_is_wired_and_notify_only_by_default(tokyo: Synthesis) -> None:
    fn = tokyo.one("aws:lambda/function:Function")
    env = fn.inputs["environment"]["variables"]
    assert fn.region == "ap-northeast-1"
    assert env["FAILOVER_SWITCH_ID"] == tokyo.outputs["failover_switch_id"]
    assert env["REPLICA_INSTANCE_ID"] == tokyo.outputs["replica_instance_id"]
    assert env["AUTO_PROMOTE"] == "false"
    assert tokyo.outputs["failover_function_name"] == fn.inputs["name"]
    assert tokyo.outputs["lock_table_name"].endswith("failover-lock")
    auto = synth("tokyo", "automation.auto_promote=true").one("aws:lambda/function:Function")
    assert auto.inputs["environment"]["variables"]["AUTO_PROMOTE"] == "true"


def test_dr_outputs_carry_full_and_standby_scale(seoul: Synthesis) -> None:
    tokyo = synth("tokyo", *PUBLISHED)
    assert tokyo.outputs["deployments"] == seoul.outputs["deployments"]
    assert tokyo.outputs["standby_deployments"]["drstack-app"] == 1


# Workloads are deployed once their images are published (drstack:image_tags).
PUBLISHED = (
    "image_tags.drstack-app=2026.11.29-3f2a1c",
    *(f"image_tags.{r}=1.4.2" for r in ("auth-service", "project-service", "team-service")),
    *(f"image_tags.{r}=1.4.2" for r in ("ai-service", "support-service")),
)


# ----------------------------------------------------------------------------- EKS


@pytest.mark.parametrize(
    ("stack", "region", "desired", "app_replicas"), [("seoul", SEOUL, 3, 2), ("tokyo", TOKYO, 2, 1)]
)
def test_eks_region_network_cluster_and_scale(
    stack: str, region: str, desired: int, app_replicas: int
) -> None:
    s = synth(stack, *PUBLISHED)
    subnets = s.of_type("aws:ec2/subnet:Subnet")
    public = [n for n in subnets if n.inputs["tags"].get("kubernetes.io/role/elb") == "1"]
    private = [n for n in subnets if n.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1"]
    assert len(public) == 2 and len(private) == 2
    assert len({n.inputs["availabilityZone"] for n in public}) == 2
    assert all(n.inputs["availabilityZone"].startswith(region) for n in subnets)
    assert len(s.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert s.one("aws:ec2/vpc:Vpc").inputs["tags"]["Project"] == "drstack"
    cluster = s.one("aws:eks/cluster:Cluster")
    assert cluster.region == region and cluster.inputs["name"].startswith("portforge-")
    nodes = s.one("aws:eks/nodeGroup:NodeGroup").inputs
    assert nodes["scalingConfig"]["desiredSize"] == desired
    assert len(nodes["subnetIds"]) == 2
    if stack == "seoul":
        assert nodes["subnetIds"] == s.outputs["private_subnet_ids"], (
            "nodes live in the private subnets"
        )
    deployments = {
        d.inputs["metadata"]["name"]: d for d in s.of_type("kubernetes:apps/v1:Deployment")
    }
    assert deployments["drstack-app"].inputs["spec"]["replicas"] == app_replicas
    assert {
        "auth-deployment",
        "project-service",
        "team-service",
        "ai-service",
        "support-deployment",
    } <= set(deployments)
    assert {d.region for d in deployments.values()} == {region}


def test_warm_standby_runs_every_service_at_reduced_scale() -> None:
    full = synth("seoul", *PUBLISHED).outputs["deployments"]
    reduced = synth("tokyo", *PUBLISHED).outputs["standby_deployments"]
    assert set(full) == set(reduced)
    assert all(reduced[name] <= full[name] for name in full)
    assert sum(reduced.values()) < sum(full.values())


def test_kubeconfig_uses_aws_eks_get_token_for_its_region(tokyo: Synthesis) -> None:
    kubeconfig = json.loads(tokyo.outputs["kubeconfig"])
    exec_ = kubeconfig["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "portforge-dr-cluster",
        "--region",
        TOKYO,
    ]
    provider = tokyo.one("pulumi:providers:kubernetes")
    assert provider.display_inputs["kubeconfig"] == "[secret]"


# ----------------------------------------------------------------------------- regions


SEOUL_SIDE_OF_TOKYO = {
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration",
    "aws:secretsmanager/secret:Secret",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
}


# us-east-1 holds only what Route 53 metrics force there: the alarm and its topic.
US_EAST_1_SIDE_OF_TOKYO = {
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sns/topic:Topic",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:kms/key:Key",
}


def test_every_tokyo_resource_sits_in_the_region_it_must(tokyo: Synthesis) -> None:
    for r in tokyo.resources:
        if not r.custom or r.type.startswith("pulumi:"):
            continue
        if r.region == "us-east-1":
            assert r.type in US_EAST_1_SIDE_OF_TOKYO, r.urn
            if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm":
                assert r.inputs["namespace"] == "AWS/Route53", r.urn
        elif r.region == SEOUL:
            assert r.type in SEOUL_SIDE_OF_TOKYO, r.urn
        else:
            assert r.region == TOKYO, r.urn


def test_every_seoul_resource_is_in_seoul(seoul: Synthesis) -> None:
    # Except the keys of the credential secrets' Tokyo replicas, the master's and the app's
    # (a key never leaves its region).
    elsewhere = [
        r
        for r in seoul.resources
        if r.custom and r.region != SEOUL and not r.type.startswith("pulumi:providers:")
    ]
    assert [(r.type, r.region) for r in elsewhere] == [("aws:kms/key:Key", TOKYO)] * 2


def test_secrets_replicate_into_tokyo_with_a_tokyo_key(tokyo: Synthesis) -> None:
    secret = tokyo.one("aws:secretsmanager/secret:Secret").inputs
    assert [r["region"] for r in secret["replicas"]] == [TOKYO]
    assert kms_region(secret["replicas"][0]["kmsKeyId"]) == TOKYO
    assert "secretString" not in secret


def test_ecr_replicates_all_seven_repositories_to_tokyo(tokyo: Synthesis) -> None:
    rule = tokyo.one("aws:ecr/replicationConfiguration:ReplicationConfiguration").inputs[
        "replicationConfiguration"
    ]["rules"][0]
    assert rule["destinations"] == [{"region": TOKYO, "registryId": "123456789012"}]
    assert len(rule["repositoryFilters"]) == 7
