"""Every policy is seen to fail: for each one, a bad resource or config it catches.

Bad cases start from real synthesized records (the props exactly as the engine hands
them to a policy pack: camelCase, secrets unwrapped) and break one thing, or use
``--set`` overrides; the policies run through the real pulumi_policy validate callbacks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from pulumi_policy import StackValidationArgs, StackValidationPolicy

from drctl.synth import ResourceRecord
from policy import common, policies
from policy.policies import BY_NAME, POLICIES, evaluate, level_of
from tests.policy.conftest import (
    caught,
    deploy_cases,
    mutate,
    names,
    record,
    run_policies,
    synth,
    without,
)

T = policies


_caught = caught


# --------------------------------------------------------------------------- cases


def case_rds_storage_encrypted() -> None:
    s = synth("seoul")
    rs, _ = mutate(s, T.T_RDS, "", lambda i: i.update(storageEncrypted=False))
    _caught("rds-storage-encrypted", run_policies(s, rs), "storageEncrypted=False")


def case_s3_bucket_encrypted() -> None:
    s = synth("seoul")
    rs = without(s, lambda r: r.type == T.T_SSE and "front" in r.name)
    _caught("s3-bucket-encrypted", run_policies(s, rs), "portforge-front")


def case_dynamodb_encrypted() -> None:
    s = synth("seoul")
    rs, _ = mutate(s, T.T_TABLE, "", lambda i: i.pop("serverSideEncryption", None))
    _caught("dynamodb-encrypted", run_policies(s, rs), "no KMS server-side encryption")


def case_azure_storage_secure() -> None:
    s = synth("azure-pilot")
    rs, bad = mutate(
        s,
        T.T_AZ_STORAGE,
        "backups",
        lambda i: i.update(minimumTlsVersion="TLS1_0", allowBlobPublicAccess=True),
    )
    rs2, bad2 = mutate(s, T.T_AZ_CONTAINER, "", lambda i: i.update(publicAccess="Container"))
    found = [v for v in run_policies(s, rs) if v.urn == bad.urn]
    _caught("azure-storage-secure", found, "TLS1_0", "allowBlobPublicAccess")
    found = [v for v in run_policies(s, rs2) if v.urn == bad2.urn]
    _caught("azure-storage-secure", found, "public access (Container)")
    # The HTTP exemption of the maintenance site needs its role tag and its custom domain.
    rs3, bad3 = mutate(s, T.T_AZ_STORAGE, "maintenance", lambda i: i.pop("customDomain", None))
    found = [v for v in run_policies(s, rs3) if v.urn == bad3.urn]
    _caught("azure-storage-secure", found, "accepts plain HTTP")
    rs4, bad4 = mutate(
        s, T.T_AZ_STORAGE, "backups", lambda i: i.update(enableHttpsTrafficOnly=False)
    )
    found = [v for v in run_policies(s, rs4) if v.urn == bad4.urn]
    _caught("azure-storage-secure", found, "accepts plain HTTP")


def case_s3_no_public_access() -> None:
    s = synth("seoul")
    rs = without(s, lambda r: r.type == T.T_PAB and "team" in r.name)
    _caught(
        "s3-no-public-access", run_policies(s, rs), "portforge-team has no BucketPublicAccessBlock"
    )
    rs, _ = mutate(s, T.T_PAB, "log", lambda i: i.update(restrictPublicBuckets=False))
    _caught("s3-no-public-access", run_policies(s, rs), "restrictPublicBuckets")


def case_database_not_public() -> None:
    s = synth("tokyo")
    rs, _ = mutate(s, T.T_RDS, "", lambda i: i.update(publiclyAccessible=True))
    _caught("database-not-public", run_policies(s, rs), "publiclyAccessible")
    bad = record(T.T_AZ_MYSQL, "mysql", {"network": {"publicNetworkAccess": "Enabled"}})
    _caught("database-not-public", evaluate([bad], None), "Enabled")


def case_rds_backup_retention() -> None:
    s = synth("tokyo", "rds.backup_retention_days=1")
    _caught(
        "rds-backup-retention",
        run_policies(s),
        "RDS replica dr-db-instance keeps automated backups for 1 days",
    )


def case_rds_deletion_protection() -> None:
    s = synth("seoul")
    rs, _ = mutate(s, T.T_RDS, "", lambda i: i.pop("deletionProtection", None))
    _caught("rds-deletion-protection", run_policies(s, rs), "no deletionProtection")


def case_dynamodb_pitr() -> None:
    s = synth("tokyo")
    rs, _ = mutate(s, T.T_TABLE_REPLICA, "", lambda i: i.update(pointInTimeRecovery=False))
    _caught("dynamodb-pitr", run_policies(s, rs), "point-in-time recovery")


def case_s3_versioning() -> None:
    s = synth("tokyo")
    rs = without(s, lambda r: r.type == T.T_VERSIONING and r.name == "dr-s3-team-dr-versioning")
    _caught("s3-versioning", run_policies(s, rs), "portforge-team-dr has no BucketVersioning")
    # Versioned, but the replication rule does not wait for it.
    rs2 = [
        replace(r, depends_on=[u for u in r.depends_on if "front-dr-versioning" not in u])
        for r in s.resources
    ]
    _caught(
        "s3-versioning",
        run_policies(s, rs2),
        "does not depend on the destination bucket's versioning",
    )


def case_replication_role_least_privilege() -> None:
    s = synth("tokyo")

    def widen(i: dict[str, Any]) -> None:
        doc = json.loads(i["policy"])
        doc["Statement"][0]["Action"] = "s3:*"
        doc["Statement"][1]["Resource"] = "*"
        i["policy"] = json.dumps(doc)

    rs, _ = mutate(s, T.T_ROLE_POLICY, "replication", widen)
    _caught(
        "replication-role-least-privilege", run_policies(s, rs), "action 's3:*'", "resource '*'"
    )


def case_no_plaintext_secrets() -> None:
    s = synth("seoul")
    # The generated master password is a Pulumi secret; the same input in plain text is not.
    rs, _ = mutate(s, T.T_RDS, "", lambda i: i.update(password="hunter2"))
    _caught("no-plaintext-secrets", run_policies(s, rs), "input password is a plaintext secret")

    def env(i: dict[str, Any]) -> None:
        i["spec"]["template"]["spec"]["containers"][0]["env"] = [
            {"name": "DB_PASSWORD", "value": "hunter2"}
        ]

    # The app is deployed once its image is published (image_tags).
    published = synth("seoul", "image_tags.drstack-app=2026.11.29-3f2a1c")
    rs, _ = mutate(published, "kubernetes:apps/v1:Deployment", "drstack-app", env)
    _caught("no-plaintext-secrets", run_policies(published, rs), "env DB_PASSWORD")
    leaky = record(
        "aws:lambda/function:Function",
        "fn",
        {
            "environment": {"variables": {"AWS_KEY": "AKIAABCDEFGHIJKLMNOP"}},
            "tags": {"Project": "drstack", "Stack": "t", "DrRole": "dr"},
        },
    )
    _caught("no-plaintext-secrets", evaluate([leaky], None), "AWS access key id")
    # The same admin password is fine when the engine saw it as a secret...
    mysql = {
        "administratorLoginPassword": "s3cret!",
        "network": {"publicNetworkAccess": "Disabled"},
    }
    masked = {**mysql, "administratorLoginPassword": "[secret]"}
    ok = record(T.T_AZ_MYSQL, "mysql", mysql, display_inputs=masked)
    assert "no-plaintext-secrets" not in names(evaluate([ok], None))
    # ...and caught when it was a plain string.
    bad = record(T.T_AZ_MYSQL, "mysql", mysql)
    _caught("no-plaintext-secrets", evaluate([bad], None), "administratorLoginPassword")


def case_mandatory_tags() -> None:
    s = synth("tokyo")
    untagged = record(T.T_BUCKET, "stray", {"bucket": "stray-bucket"})
    _caught(
        "mandatory-tags",
        run_policies(s, [*s.resources, untagged]),
        "lacks tags Project, Stack, DrRole",
    )


def case_dr_copy_for_every_data_store() -> None:
    s = synth("tokyo")
    rs = without(s, lambda r: r.type in (T.T_TABLE_REPLICA, T.T_REPLICATION) or r.type == T.T_RDS)
    _caught(
        "dr-copy-for-every-data-store",
        run_policies(s, rs),
        "team_chats_ddb has no DR copy",
        "portforge-front has no DR copy",
        "primary database portforge-rds has no DR copy",
    )


def case_failover_record_health_check() -> None:
    s = synth("tokyo")
    rs, _ = mutate(s, T.T_RECORD, "dns-primary", lambda i: i.pop("healthCheckId"))
    _caught("failover-record-health-check", run_policies(s, rs), "PRIMARY without a healthCheckId")


def case_force_failover_by_inversion() -> None:
    s = synth("tokyo", "force_failover=true")
    # Forcing by disabling the switch instead of inverting it.
    rs, _ = mutate(
        s,
        T.T_HEALTH_CHECK,
        "failover-switch",
        lambda i: i.update(invertHealthcheck=False, disabled=True),
    )
    _caught(
        "force-failover-by-inversion",
        run_policies(s, rs),
        "is disabled",
        "drstack:force_failover is true but the failover switch dns-failover-switch",
    )
    # Forcing by inverting the probe: a dead primary would turn healthy.
    rs, _ = mutate(
        s, T.T_HEALTH_CHECK, "primary-health", lambda i: i.update(invertHealthcheck=True)
    )
    _caught(
        "force-failover-by-inversion",
        run_policies(s, rs),
        "dns-primary-health is inverted but is not the failover switch",
    )


def case_replica_kms_key_in_region() -> None:
    s = synth("tokyo")
    seoul_key = "arn:aws:kms:ap-northeast-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    rs, _ = mutate(s, T.T_RDS, "", lambda i: i.update(kmsKeyId=seoul_key))
    _caught(
        "replica-kms-key-in-region",
        run_policies(s, rs),
        "in ap-northeast-1 uses a KMS key in ap-northeast-2",
    )


def case_data_sovereignty() -> None:
    s = synth("tokyo")
    cfg = replace(s.config, sovereign_data=("team_chats_ddb", "team"))
    _caught(
        "data-sovereignty",
        run_policies(s, config=cfg),
        "sovereign table team_chats_ddb",
        "sovereign bucket portforge-team",
    )


def case_rto_rpo_budget() -> None:
    s = synth(
        "tokyo",
        "dns.ttl=300",
        "dns.health_check.interval=30",
        "dns.health_check.failure_threshold=3",
        "objectives.rto_minutes=5",
    )
    _caught("rto-rpo-budget", run_policies(s), "DNS 30s×3", "TTL 300s", "> objective 300s")


def case_dr_copy_waived() -> None:
    # A waiver takes the store out of the mandatory check and into the advisory list.
    s = synth("tokyo")
    rs = without(s, lambda r: r.type == T.T_TABLE_REPLICA)
    waived = replace(s.config, dr_waivers={"team_chats_ddb": "chat history is rebuilt by clients"})
    violations = run_policies(s, rs, waived)
    _caught("dr-copy-waived", violations, "team_chats_ddb has no DR copy in stack tokyo by waiver")
    assert "dr-copy-for-every-data-store" not in names(violations)
    assert level_of(BY_NAME["dr-copy-waived"]) == "advisory"


CASES: dict[str, Callable[[], None]] = {
    "rds-storage-encrypted": case_rds_storage_encrypted,
    "s3-bucket-encrypted": case_s3_bucket_encrypted,
    "dynamodb-encrypted": case_dynamodb_encrypted,
    "azure-storage-secure": case_azure_storage_secure,
    "s3-no-public-access": case_s3_no_public_access,
    "database-not-public": case_database_not_public,
    "rds-backup-retention": case_rds_backup_retention,
    "rds-deletion-protection": case_rds_deletion_protection,
    "dynamodb-pitr": case_dynamodb_pitr,
    "s3-versioning": case_s3_versioning,
    "replication-role-least-privilege": case_replication_role_least_privilege,
    "no-plaintext-secrets": case_no_plaintext_secrets,
    "mandatory-tags": case_mandatory_tags,
    "dr-copy-for-every-data-store": case_dr_copy_for_every_data_store,
    "dr-copy-waived": case_dr_copy_waived,
    "failover-record-health-check": case_failover_record_health_check,
    "force-failover-by-inversion": case_force_failover_by_inversion,
    "replica-kms-key-in-region": case_replica_kms_key_in_region,
    "data-sovereignty": case_data_sovereignty,
    "rto-rpo-budget": case_rto_rpo_budget,
}


ALL_CASES: dict[str, Callable[[], None]] = {**CASES, **deploy_cases()}


def test_every_policy_has_a_bad_case() -> None:
    assert set(ALL_CASES) == set(BY_NAME)


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_policy_catches_its_bad_case(name: str) -> None:
    ALL_CASES[name]()


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policy_metadata(policy: Any) -> None:
    assert policy.name and policy.description
    assert level_of(policy) in ("mandatory", "advisory")
    assert policy.remediation_steps and len(policy.remediation_steps) > 40


def test_primary_stack_is_not_checked_for_dr_copies() -> None:
    s = synth("seoul")
    assert "dr-copy-for-every-data-store" not in names(run_policies(s))


def test_good_stack_passes(tokyo: Any) -> None:
    assert run_policies(tokyo) == []


def test_cli_mode_reads_stack_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Under the Pulumi CLI there is no in-process context: the budget policy reads the
    stack's config itself (PULUMI_STACK + Pulumi.<stack>.yaml), and fails closed."""
    import yaml

    from drctl.synth import PROJECT_DIR

    monkeypatch.setattr(common, "_CLI_CONTEXT", {})
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    data = yaml.safe_load((PROJECT_DIR / "Pulumi.tokyo.yaml").read_text())
    data["config"]["drstack:objectives"]["rto_minutes"] = 1
    (tmp_path / "Pulumi.tokyo.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv("DRSTACK_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("PULUMI_STACK", "tokyo")
    seen: list[str] = []
    budget = BY_NAME["rto-rpo-budget"]
    assert isinstance(budget, StackValidationPolicy)

    def report(message: str, urn: str | None = None) -> None:
        seen.append(message)

    budget.validate(StackValidationArgs([]), report)
    assert seen and "promote 600s" in seen[0] and "> objective 60s" in seen[0]

    monkeypatch.setattr(common, "_CLI_CONTEXT", {})
    monkeypatch.delenv("PULUMI_STACK")
    seen.clear()
    budget.validate(StackValidationArgs([]), report)
    assert seen and "could not read it" in seen[0]


def test_records_are_engine_shaped(tokyo: Any) -> None:
    replica: ResourceRecord = tokyo.one(T.T_RDS, "")
    assert "replicateSourceDb" in replica.inputs and "kmsKeyId" in replica.inputs
    assert not any("_" in k for k in replica.inputs)
