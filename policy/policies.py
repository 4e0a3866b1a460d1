"""drstack policies: plain ``pulumi_policy`` objects, importable without starting a pack.

This module assembles ``POLICIES`` and runs them in-process (:func:`evaluate`). The
checks live by concern: ``policy/security.py`` (security basics), ``policy/dr_wiring.py``
(DR wiring), ``policy/budget_policy.py`` (RTO/RPO budget) and ``policy/deploy_*.py``
(deploy-time constraints), all on the helpers of ``policy/common.py``. Every name this
module held before that split is still importable from here.

Every policy here is a real :class:`pulumi_policy.ResourceValidationPolicy` or
:class:`pulumi_policy.StackValidationPolicy` with a name, a description, an enforcement
level and ``remediation_steps`` that say exactly what to change. ``policy/__main__.py``
puts them in a ``PolicyPack`` for ``pulumi preview --policy-pack policy``; the tests and
``drctl preview`` run the very same validate callbacks in-process through
:func:`evaluate`, on the props exactly as the engine hands them to a policy pack
(camelCase keys, secrets unwrapped, unknowns raising ``UnknownValueError``).

Stack config. Some policies need the stack's typed config (the RTO/RPO budget, which
toggles are on, which data is sovereign). In-process, :func:`evaluate` passes the
``StackConfig`` directly. Under the Pulumi CLI the pack reads it itself
(:func:`current_context`): the stack name from the policy config key ``stack`` or the
``PULUMI_STACK`` environment variable, the values from the engine's ``PULUMI_CONFIG``
when present, else from ``Pulumi.<stack>.yaml`` in the project directory (the parent of
``policy/``, or ``DRSTACK_PROJECT_DIR``). A policy that needs config and cannot get it
reports a violation instead of passing silently.

The primary stack (``seoul``) knows nothing about DR, so "every primary data store has a
DR copy" is evaluated in each DR stack, against the primary's data stores that stack
attaches to: the outputs of its ``StackReference`` to the primary (``bucket_names``,
``dynamodb_table_arns``, ``rds_instance_arn``, ``sovereign_data``), or, in-process,
the synthesized primary's outputs. For the primary stack itself it is not applicable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policy.budget_policy import (
    _rto_rpo_budget,
)

# Re-exported: every name importable from policy.policies before the split.
from policy.common import (
    _CLI_CONTEXT,
    _CONTEXT,
    AWS_TAGGABLE,
    AZURE_TAGGABLE,
    BUCKET_TYPES,
    MIN_BACKUP_DAYS,
    PROJECT_DIR,
    REQUIRED_TAGS,
    SCHEDULER_TYPES,
    SOVEREIGN_VALUES,
    SOVEREIGNTY_TAG,
    SSE_TYPES,
    T_AZ_CONTAINER,
    T_AZ_MYSQL,
    T_AZ_STORAGE,
    T_BUCKET,
    T_BUCKET_V2,
    T_HEALTH_CHECK,
    T_KMS,
    T_PAB,
    T_RDS,
    T_RECORD,
    T_REPLICATION,
    T_ROLE,
    T_ROLE_ATTACHMENT,
    T_ROLE_POLICY,
    T_SSE,
    T_SSE_V2,
    T_STACK_REF,
    T_TABLE,
    T_TABLE_REPLICA,
    T_VERSIONING,
    T_VERSIONING_V2,
    VERSIONING_TYPES,
    Level,
    PolicyContext,
    Violation,
    _bucket_from_arn,
    _bucket_name,
    _dep_urns,
    _fail_closed,
    _false,
    _get,
    _is_map,
    _is_seq,
    _is_sovereign_tags,
    _items,
    _load_cli_config,
    _of,
    _plain,
    _policy_documents,
    _primary_outputs,
    _provider_props,
    _res_region,
    _resource_policy,
    _stack_file_config,
    _stack_policy,
    _tags_of,
    _targets_bucket,
    _true,
    arn_region,
    current_context,
    resource_region,
    urn_name,
    urn_type,
)
from policy.dr_wiring import (
    _backup_jobs,
    _backup_targets,
    _data_sovereignty,
    _dr_copy,
    _dr_copy_waived,
    _force_failover_by_inversion,
    _is_failover_switch,
    _primary_db_identifier,
    _replica_kms_in_region,
    _sovereign_names,
)
from policy.security import (
    _NEVER_SET,
    _REFERENCE_ENV,
    _SECRET_STORES,
    _SECRET_VALUE_PATTERNS,
    _SENSITIVE_ENV,
    _SENSITIVE_KEY,
    _azure_storage_secure,
    _backup_retention,
    _database_not_public,
    _decoded,
    _deletion_protection,
    _dynamodb_encrypted,
    _dynamodb_pitr,
    _failover_record_health_check,
    _literal_secret_env,
    _mandatory_tags,
    _no_plaintext_secrets,
    _rds_encrypted,
    _replication_least_privilege,
    _replication_roles,
    _s3_encrypted,
    _s3_no_public_access,
    _s3_versioning,
    _versioning_enabled,
    _walk,
    _wildcards,
)
from stacks.config import StackConfig

__all__ = [
    "AWS_TAGGABLE",
    "AZURE_TAGGABLE",
    "BUCKET_TYPES",
    "BY_NAME",
    "MIN_BACKUP_DAYS",
    "POLICIES",
    "PROJECT_DIR",
    "REQUIRED_TAGS",
    "SCHEDULER_TYPES",
    "SOVEREIGNTY_TAG",
    "SOVEREIGN_VALUES",
    "SSE_TYPES",
    "T_AZ_CONTAINER",
    "T_AZ_MYSQL",
    "T_AZ_STORAGE",
    "T_BUCKET",
    "T_BUCKET_V2",
    "T_HEALTH_CHECK",
    "T_KMS",
    "T_PAB",
    "T_RDS",
    "T_RECORD",
    "T_REPLICATION",
    "T_ROLE",
    "T_ROLE_ATTACHMENT",
    "T_ROLE_POLICY",
    "T_SSE",
    "T_SSE_V2",
    "T_STACK_REF",
    "T_TABLE",
    "T_TABLE_REPLICA",
    "T_VERSIONING",
    "T_VERSIONING_V2",
    "VERSIONING_TYPES",
    "_CLI_CONTEXT",
    "_CONTEXT",
    "_NEVER_SET",
    "_NO_TIMEOUTS",
    "_REFERENCE_ENV",
    "_SECRET_STORES",
    "_SECRET_VALUE_PATTERNS",
    "_SENSITIVE_ENV",
    "_SENSITIVE_KEY",
    "Level",
    "PolicyContext",
    "PolicyReport",
    "ResourceLike",
    "Violation",
    "_azure_storage_secure",
    "_backup_jobs",
    "_backup_retention",
    "_backup_targets",
    "_bucket_from_arn",
    "_bucket_name",
    "_data_sovereignty",
    "_database_not_public",
    "_decoded",
    "_deletion_protection",
    "_dep_urns",
    "_dr_copy",
    "_dr_copy_waived",
    "_dynamodb_encrypted",
    "_dynamodb_pitr",
    "_fail_closed",
    "_failover_record_health_check",
    "_false",
    "_force_failover_by_inversion",
    "_get",
    "_is_failover_switch",
    "_is_map",
    "_is_seq",
    "_is_sovereign_tags",
    "_items",
    "_literal_secret_env",
    "_load_cli_config",
    "_mandatory_tags",
    "_no_plaintext_secrets",
    "_of",
    "_options",
    "_plain",
    "_policy_documents",
    "_policy_resources",
    "_primary_db_identifier",
    "_primary_outputs",
    "_provider_for",
    "_provider_props",
    "_rds_encrypted",
    "_replica_kms_in_region",
    "_replication_least_privilege",
    "_replication_roles",
    "_res_region",
    "_resource_policy",
    "_rto_rpo_budget",
    "_s3_encrypted",
    "_s3_no_public_access",
    "_s3_versioning",
    "_secret_paths_of",
    "_sovereign_names",
    "_stack_file_config",
    "_stack_policy",
    "_tags_of",
    "_targets_bucket",
    "_true",
    "_versioning_enabled",
    "_walk",
    "_wildcards",
    "arn_region",
    "current_context",
    "evaluate",
    "level_of",
    "resource_region",
    "urn_name",
    "urn_type",
]


POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    _resource_policy(
        "rds-storage-encrypted",
        "RDS instances are encrypted at rest (Checkov CKV_AWS_16); replicas name a KMS key",
        (T_RDS,),
        _rds_encrypted,
        "Set storage_encrypted=True and kms_key_id=<ARN of an aws.kms.Key in the instance's "
        "region> on the aws.rds.Instance (components/rds_replica.py, `common`).",
    ),
    _stack_policy(
        "s3-bucket-encrypted",
        "Every S3 bucket has default encryption (Checkov CKV_AWS_19/145)",
        _s3_encrypted,
        "Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket with "
        "apply_server_side_encryption_by_default.sse_algorithm='AES256' (or 'aws:kms' with a "
        "key in the bucket's region).",
    ),
    _resource_policy(
        "dynamodb-encrypted",
        "DynamoDB tables use KMS server-side encryption (Checkov CKV_AWS_119)",
        (T_TABLE,),
        _dynamodb_encrypted,
        "Set server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True) on "
        "the aws.dynamodb.Table (components/dynamo_global_table.py).",
    ),
    _resource_policy(
        "azure-storage-secure",
        "Azure storage: HTTPS only, TLS 1.2, no public blob access, encryption on; containers "
        "private. Only the maintenance-page account (tag StorageRole=maintenance-page, with a "
        "custom domain, which Azure serves over HTTP only) may accept HTTP",
        (T_AZ_STORAGE, T_AZ_CONTAINER),
        _azure_storage_secure,
        "On azure_native.storage.StorageAccount set enable_https_traffic_only=True, "
        "minimum_tls_version='TLS1_2', allow_blob_public_access=False and leave "
        "encryption.services.blob enabled; on BlobContainer set public_access='None'.",
    ),
    _stack_policy(
        "s3-no-public-access",
        "Every S3 bucket has a public access block with all four flags on and no public ACL "
        "(Checkov CKV_AWS_53-56)",
        _s3_no_public_access,
        "Add aws.s3.BucketPublicAccessBlock(bucket=..., block_public_acls=True, "
        "block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True) and "
        "drop any public-read ACL.",
    ),
    _resource_policy(
        "database-not-public",
        "Databases are not reachable from the internet (Checkov CKV_AWS_17)",
        (T_RDS, T_AZ_MYSQL),
        _database_not_public,
        "RDS: publicly_accessible=False. MySQL Flexible Server: "
        "network.public_network_access='Disabled' with VNet integration "
        "(network.delegated_subnet_resource_id + private_dns_zone_resource_id).",
    ),
    _resource_policy(
        "rds-backup-retention",
        f"RDS instances and replicas, and MySQL Flexible Servers, keep backups ≥ "
        f"{MIN_BACKUP_DAYS} days (Checkov CKV_AWS_133, AWS Config db-backup-enabled)",
        (T_RDS, T_AZ_MYSQL),
        _backup_retention,
        f"Set drstack:rds.backup_retention_days ≥ {MIN_BACKUP_DAYS} (feeds "
        "backup_retention_period on primary and replica) / azure.mysql_backup_retention_days "
        f"≥ {MIN_BACKUP_DAYS} (backup.backup_retention_days).",
    ),
    _resource_policy(
        "rds-deletion-protection",
        "Primary RDS instances (not read replicas) have deletion protection (Checkov CKV_AWS_293)",
        (T_RDS,),
        _deletion_protection,
        "Set deletion_protection=True on the primary aws.rds.Instance, and on a replica as soon "
        "as drstack:promote_replica=true makes it the primary.",
    ),
    _resource_policy(
        "dynamodb-pitr",
        "DynamoDB tables and replicas have point-in-time recovery (Checkov CKV_AWS_28)",
        (T_TABLE, T_TABLE_REPLICA),
        _dynamodb_pitr,
        "Table: point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True); "
        "TableReplica: point_in_time_recovery=True.",
    ),
    _stack_policy(
        "s3-versioning",
        "S3 buckets are versioned, on both sides of every replication rule, and replication "
        "waits for versioning (Checkov CKV_AWS_21)",
        _s3_versioning,
        "Add aws.s3.BucketVersioning(status='Enabled') for the bucket and pass it (and a "
        "BucketVersioning.get of an external source bucket) in depends_on of the "
        "aws.s3.BucketReplicationConfig.",
    ),
    _stack_policy(
        "replication-role-least-privilege",
        "Replication roles allow no '*' or 'service:*' action and no '*' resource (Checkov "
        "CKV_AWS_290/355-style)",
        _replication_least_privilege,
        "List the exact replication actions (s3:GetReplicationConfiguration, s3:ListBucket, "
        "s3:GetObjectVersion*, s3:Replicate*) on the named source/destination bucket ARNs; "
        "detach AWS managed policies (components/s3_cross_region.py replication_policy).",
    ),
    _resource_policy(
        "no-plaintext-secrets",
        "No secret in resource inputs in plain text: passwords/keys only as Pulumi secrets or "
        "managed by the service; no keys, SAS tokens or URL passwords in any input",
        None,
        _no_plaintext_secrets,
        "Generate the RDS master password with pulumi_random (a secret); read passwords with "
        "pulumi.Config().require_secret(...) (drstack:mysql_admin_password via "
        "`pulumi config set --secret`); in containers use env value_from.secret_key_ref.",
    ),
    _resource_policy(
        "mandatory-tags",
        f"Taggable AWS/Azure resources carry the tags {', '.join(REQUIRED_TAGS)} (own tags or "
        "the AWS provider's default_tags)",
        None,
        _mandatory_tags,
        "Pass tags=cfg.base_tags (or data_tags) to the resource, or create the aws.Provider with "
        "default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.base_tags).",
    ),
    _stack_policy(
        "dr-copy-for-every-data-store",
        "Every primary data store (RDS, each DynamoDB table, each S3 bucket) has a DR copy or a "
        "backup path to the DR site; sovereign data is exempt (it must not leave its region)",
        _dr_copy,
        "Warm standby: an RdsReplica with the primary ARN, a DynamoGlobalTable replica per "
        "table, an S3CrossRegion rule per bucket. Pilot light: a scheduled backup job whose "
        "spec names the data store and the backup container. Or list the store in "
        "drstack:sovereign_data if it must stay in its region, or, if losing it in a "
        "disaster is an accepted business decision, in drstack:dr_waivers with the reason.",
    ),
    _stack_policy(
        "dr-copy-waived",
        "Lists every data store a DR stack accepts losing (drstack:dr_waivers), on every "
        "preview, so each waiver is reviewed again",
        _dr_copy_waived,
        "Give the store a DR copy and remove its drstack:dr_waivers entry, or keep the waiver "
        "if the loss is still accepted.",
        EnforcementLevel.ADVISORY,
    ),
    _resource_policy(
        "failover-record-health-check",
        "Every PRIMARY failover record has a Route 53 health check",
        (T_RECORD,),
        _failover_record_health_check,
        "Pass health_check_id=<the primary's aws.route53.HealthCheck id> on the PRIMARY "
        "aws.route53.Record (components/route53_failover.py).",
    ),
    _stack_policy(
        "force-failover-by-inversion",
        "force_failover inverts the failover switch (the always-healthy calculated child of "
        "the PRIMARY record's gate), never a probe, and no health check is ever disabled (a "
        "disabled check counts as healthy)",
        _force_failover_by_inversion,
        "Use Route53Failover: set invert_healthcheck=cfg.force_failover on its "
        "failover-switch check only, invert_healthcheck=False on the HTTPS probe, and "
        "disabled=False everywhere.",
    ),
    _stack_policy(
        "replica-kms-key-in-region",
        "A replica's KMS key (RDS kmsKeyId, TableReplica kmsKeyArn, S3 replicaKmsKeyId) is in "
        "the replica's region",
        _replica_kms_in_region,
        "Create an aws.kms.Key with the replica region's provider and pass its ARN "
        "(kms_key_id=key.arn) to the replica.",
    ),
    _stack_policy(
        "data-sovereignty",
        "Data named in drstack:sovereign_data or tagged DataSovereignty=restricted never "
        "replicates or is exported across regions (seed 003)",
        _data_sovereignty,
        "Remove the replication rule / TableReplica / read replica / backup export for that "
        "store, or (with the customer's written consent only) remove it from "
        "drstack:sovereign_data.",
    ),
    _stack_policy(
        "rto-rpo-budget",
        "The worst-case RTO/RPO the configuration implies fits drstack:objectives "
        "(policy/budget.py)",
        _rto_rpo_budget,
        "Lower dns.ttl, dns.health_check.interval/failure_threshold, rds.max_lag_seconds or "
        "backup.interval_minutes; record measured figures in drstack:budget (e.g. "
        "rds_promotion: 420); or relax drstack:objectives.",
    ),
]

# Deploy-time constraints live in policy/deploy_*.py (they import the helpers above).
from policy.constraint_registry import gather as _gather_deploy_constraints  # noqa: E402

POLICIES.extend(_gather_deploy_constraints())

BY_NAME: dict[str, ResourceValidationPolicy | StackValidationPolicy] = {p.name: p for p in POLICIES}


def level_of(policy: ResourceValidationPolicy | StackValidationPolicy) -> Level:
    return "mandatory" if policy.enforcement_level == EnforcementLevel.MANDATORY else "advisory"


# =========================================================================== in-process


class ResourceLike(Protocol):
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    region: str | None
    depends_on: list[str]
    ignore_changes: list[str]


_NO_TIMEOUTS = PolicyCustomTimeouts(0, 0, 0)


def _secret_paths_of(display: Any, path: str = "") -> set[str]:
    if display == "[secret]":
        return {path}
    out: set[str] = set()
    if isinstance(display, dict):
        for k, v in display.items():
            out |= _secret_paths_of(v, f"{path}.{k}" if path else str(k))
    elif isinstance(display, list):
        for i, v in enumerate(display):
            out |= _secret_paths_of(v, f"{path}[{i}]")
    return out


def _provider_for(res: Any, by_urn: Mapping[str, Any]) -> PolicyProviderResource:
    ref = getattr(res, "provider", None)
    if isinstance(ref, str) and "::" in ref:
        urn = ref.rsplit("::", 1)[0]
        prov = by_urn.get(urn)
        if prov is not None:
            return PolicyProviderResource(
                prov.type, unknown_checking_proxy(prov.inputs), urn, prov.name
            )
    package = res.type.split(":")[0]
    props = {"region": res.region} if res.region else {}
    return PolicyProviderResource(f"pulumi:providers:{package}", props, "default", "default")


def _options(res: Any) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        bool(getattr(res, "protect", False)),
        list(getattr(res, "ignore_changes", []) or []),
        None,
        [],
        _NO_TIMEOUTS,
        [],
        getattr(res, "parent", None),
    )


def evaluate(
    resources: Sequence[ResourceLike],
    config: StackConfig | None,
    primary_outputs: Mapping[str, Any] | None = None,
    policies: Sequence[ResourceValidationPolicy | StackValidationPolicy] | None = None,
) -> list[Violation]:
    """Run the real validate callbacks in-process, as the analyzer would.

    ``resources`` are ResourceRecord-like objects (``drctl.synth.ResourceRecord``); their
    ``inputs`` are the props the engine gives a policy. Secret paths are taken from
    ``display_inputs`` ("[secret]") when present.
    """
    chosen = list(POLICIES if policies is None else policies)
    by_urn = {r.urn: r for r in resources}
    secret_paths = {
        r.urn: frozenset(_secret_paths_of(getattr(r, "display_inputs", None))) for r in resources
    }
    read_urns = frozenset(r.urn for r in resources if getattr(r, "read", False))
    token = _CONTEXT.set(PolicyContext(config, primary_outputs, secret_paths, read_urns=read_urns))
    violations: list[Violation] = []
    try:
        providers = {r.urn: _provider_for(r, by_urn) for r in resources}

        def reporter(policy: Any, default_urn: str | None) -> ReportViolation:
            def report(message: str, urn: str | None = None) -> None:
                violations.append(
                    Violation(policy.name, level_of(policy), urn or default_urn, message)
                )

            return report

        def run(policy: Any, call: Callable[[], Any], urn: str | None) -> None:
            try:
                result: Any = call()
                if result is not None and hasattr(result, "__await__"):
                    import asyncio

                    asyncio.run(result)
            except _NotApplicableError:
                return  # the policy declared itself not applicable: no verdict
            except UnknownValueError as exc:
                violations.append(
                    Violation(
                        policy.name, "advisory", urn, f"can't run during preview: {exc.message}"
                    )
                )

        for policy in chosen:
            if not isinstance(policy, ResourceValidationPolicy):
                continue
            for r in resources:
                rv_args = ResourceValidationArgs(
                    r.type,
                    unknown_checking_proxy(r.inputs),
                    r.urn,
                    r.name,
                    _options(r),
                    providers[r.urn],
                )
                run(
                    policy,
                    functools.partial(policy.validate, rv_args, reporter(policy, r.urn)),
                    r.urn,
                )

        stack_policies = [p for p in chosen if isinstance(p, StackValidationPolicy)]
        if stack_policies:
            sv_args = StackValidationArgs(_policy_resources(resources, providers))
            for policy in stack_policies:
                run(
                    policy,
                    functools.partial(policy.validate, sv_args, reporter(policy, None)),
                    None,
                )
    finally:
        _CONTEXT.reset(token)
    return violations


def _policy_resources(
    resources: Sequence[Any], providers: Mapping[str, PolicyProviderResource]
) -> list[PolicyResource]:
    """PolicyResources with parents and dependencies linked, as AnalyzeStack builds them.
    Dependencies on read resources (``X.get(...)``), which the recording monitor does not
    list as records, become props-less stand-ins carrying the URN's type."""
    out: dict[str, PolicyResource] = {}
    for r in resources:
        out[r.urn] = PolicyResource(
            r.type,
            unknown_checking_proxy(r.inputs),
            r.urn,
            r.name,
            _options(r),
            providers[r.urn],
            None,
            [],
            {},
        )
    stand_ins: dict[str, PolicyResource] = {}
    for r in resources:
        res = out[r.urn]
        parent = getattr(r, "parent", None)
        if parent in out:
            res.parent = out[parent]
        for urn in r.depends_on:
            dep = out.get(urn) or stand_ins.get(urn)
            if dep is None:
                dep = PolicyResource(
                    urn_type(urn), {}, urn, urn_name(urn), _options(r), None, None, [], {}
                )
                stand_ins[urn] = dep
            res.dependencies.append(dep)
    return list(out.values())


@dataclass
class PolicyReport:
    violations: list[Violation] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def ok(self) -> bool:
        return not self.mandatory
