"""Deploy-time constraints of the RDS primary and its cross-region replica.

Rules RDS enforces only when `pulumi up` calls it, or that make the DR copy unfit to
take over; each is caught at preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs

from policy.common import (
    T_RDS,
    _of,
    _primary_outputs,
    _res_region,
    _stack_policy,
    _true,
    arn_region,
    current_context,
)

MANAGED_PASSWORD_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html"
    "#rds-secrets-manager-limitations"
)
CROSS_REGION_REPLICA_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html"
)
# Secrets Manager names the secrets RDS manages "rds!db-<uuid>".
RDS_MANAGED_SECRET = ":secret:rds!"
PROMOTE_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html"


def _source_ref(res: PolicyResource) -> str | None:
    value = res.props.get("replicateSourceDb")
    return value if isinstance(value, str) and value else None


def _refers_to(ref: str, instance: PolicyResource) -> bool:
    props: Mapping[str, Any] = instance.props
    return ref in (props.get("identifier"), props.get("arn")) or ref.endswith(
        f":db:{props.get('identifier')}"
    )


def _managed_password_source(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context()
    instances = _of(args.resources, T_RDS)
    replicas = [r for r in instances if _source_ref(r)]
    primary_role = ctx.config is not None and ctx.config.role == "primary"
    for inst in instances:
        if not _true(inst.props.get("manageMasterUserPassword")):
            continue
        if _source_ref(inst):
            report(f"read replica {inst.name} sets manageMasterUserPassword", inst.urn)
            continue
        feeds = [r.name for r in replicas if _refers_to(str(_source_ref(r)), inst)]
        if feeds or primary_role:
            who = ", ".join(feeds) if feeds else "the DR stacks' cross-region replica"
            report(
                f"{inst.name} manages its master password in Secrets Manager, so RDS refuses "
                f"to create a read replica of it ({who}); generate the password instead",
                inst.urn,
            )
    # The source lives in the primary stack. An RDS-managed secret is named "rds!db-...",
    # so the primary's exported credential ARN tells whether RDS manages the password.
    secret_arn = str(_primary_outputs(args, ctx).get("rds_master_secret_arn") or "")
    if replicas and RDS_MANAGED_SECRET in secret_arn:
        for replica in replicas:
            report(
                f"replica {replica.name}: its source (primary stack) manages its master "
                f"password in Secrets Manager ({secret_arn}); RDS refuses the replica",
                replica.urn,
            )


def _cross_region_replica_key(args: StackValidationArgs, report: ReportViolation) -> None:
    # A key from the wrong region is `replica-kms-key-in-region`'s; this one catches a
    # cross-region replica with no key at all, which RDS refuses for an encrypted source.
    for replica in _of(args.resources, T_RDS):
        source = _source_ref(replica)
        if source is None:
            continue
        region = _res_region(replica)
        if arn_region(source) in (None, region):
            continue
        if not replica.props.get("kmsKeyId"):
            report(
                f"cross-region replica {replica.name} has no kmsKeyId: an encrypted source "
                f"needs a KMS key in {region}",
                replica.urn,
            )


def _dr_database_grade(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context()
    if ctx.config is None or ctx.config.role != "dr":
        args.not_applicable("only a DR stack's standby database")
        return
    for inst in _of(args.resources, T_RDS):
        if not _true(inst.props.get("deletionProtection")):
            report(f"standby database {inst.name} has no deletionProtection", inst.urn)
        if not _source_ref(inst) and not _true(inst.props.get("multiAz")):
            report(
                f"promoted database {inst.name} is single-AZ: it is the production primary now",
                inst.urn,
            )


POLICIES = [
    _stack_policy(
        "rds-replica-source-password-not-managed",
        "No RDS-managed master password (manageMasterUserPassword) on a read replica's "
        "source or on a replica: RDS refuses to create the replica (RDS User Guide, Password "
        f"management with Secrets Manager, Limitations: {MANAGED_PASSWORD_DOC})",
        _managed_password_source,
        "Generate the password with pulumi_random.RandomPassword, pass it as `password` "
        "(a Pulumi secret) and keep it in an aws.secretsmanager.Secret replicated to the DR "
        "region (components/rds_replica.py).",
    ),
    _stack_policy(
        "rds-cross-region-replica-kms",
        "An encrypted cross-region read replica names a KMS key (in its region: see "
        "replica-kms-key-in-region) "
        f"(CreateDBInstanceReadReplica KmsKeyId: {CROSS_REGION_REPLICA_DOC})",
        _cross_region_replica_key,
        "Create an aws.kms.Key with the replica's provider and pass its ARN as kms_key_id.",
    ),
    _stack_policy(
        "rds-dr-database-production-grade",
        "The DR database has deletion protection as a standby (Checkov CKV_AWS_293) and is "
        f"Multi-AZ once promoted (Checkov CKV_AWS_157; {PROMOTE_DOC})",
        _dr_database_grade,
        "RdsReplica sets deletion_protection=True in every mode and multi_az=True when "
        "drstack:promote_replica is true.",
    ),
]
