"""Deploy-time constraints of an Aurora MySQL global database (``rds.engine:
aurora-mysql``): what Aurora refuses only at `pulumi up`, or what leaves the secondary
unfit to take over, caught at preview.

The primary stack declares the global cluster and the primary cluster; the DR stack
declares the secondary cluster, attached by the global cluster's identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from components.aurora_rules import ENGINE, aurora_class_refusal, aurora_version_refusal
from policy.common import (
    T_ROLE_POLICY,
    _items,
    _of,
    _plain,
    _policy_documents,
    _primary_outputs,
    _resource_policy,
    _stack_policy,
    _true,
    arn_region,
    current_context,
)

T_CLUSTER = "aws:rds/cluster:Cluster"
T_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
T_GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
AURORA_TYPES = (T_CLUSTER, T_CLUSTER_INSTANCE, T_GLOBAL_CLUSTER)

REQUIREMENTS_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "aurora-global-database-getting-started.html#aurora-global-database.configuration.requirements"
)
CREATE_CLUSTER_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html"
)
PROVIDER_ISSUE_DOC = "https://github.com/hashicorp/terraform-provider-aws/issues/40921"
DELETION_PROTECTION_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "USER_DeleteCluster.html#USER_DeletionProtection"
)
BACKUPS_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Backups.html"
)
MANAGED_PASSWORD_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "rds-secrets-manager.html#rds-secrets-manager-limitations"
)
UPGRADE_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-upgrade.html"
MIN_AURORA_BACKUP_DAYS = 1


def _is_aurora(props: Mapping[str, Any]) -> bool:
    return str(props.get("engine") or "") == ENGINE


def _in_global_database(props: Mapping[str, Any]) -> bool:
    return bool(props.get("globalClusterIdentifier"))


def _is_secondary(props: Mapping[str, Any]) -> bool:
    """A cluster that joins a global database without its own master user."""
    return _in_global_database(props) and not props.get("masterUsername")


# --------------------------------------------------------------------------- checks


def _class_and_version(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not _is_aurora(props):
        return
    if args.resource_type != T_CLUSTER_INSTANCE and not (
        args.resource_type == T_GLOBAL_CLUSTER or _in_global_database(props)
    ):
        return
    version = str(props.get("engineVersion") or "")
    problem = aurora_version_refusal(version)
    if problem:
        report(f"{args.name}: {problem}", None)
    if args.resource_type == T_CLUSTER_INSTANCE:
        problem = aurora_class_refusal(str(props.get("instanceClass") or ""))
        if problem:
            report(f"{args.name}: {problem}", None)


def _secondary_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not (_is_aurora(props) and _is_secondary(props)):
        return
    region = _res_region_of(args)
    if not _true(props.get("storageEncrypted")):
        report(f"secondary cluster {args.name} is not storageEncrypted", None)
    key = props.get("kmsKeyId")
    if not key:
        report(
            f"secondary cluster {args.name} has no kmsKeyId: an encrypted global database "
            f"needs a KMS key in the secondary's region ({region})",
            None,
        )
    elif region and arn_region(key) not in (None, region):
        report(
            f"secondary cluster {args.name} uses a KMS key in {arn_region(key)}, but it runs "
            f"in {region}: a KMS key never leaves its region",
            None,
        )


def _res_region_of(args: ResourceValidationArgs) -> str | None:
    provider = args.provider.props if args.provider is not None else {}
    region = provider.get("region") if isinstance(provider, Mapping) else None
    return str(region) if region else None


def _replication_source_ignored(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not (_is_aurora(props) and _in_global_database(props)):
        return
    ignored = set(args.opts.ignore_changes or []) if args.opts is not None else set()
    if "replicationSourceIdentifier" not in ignored:
        side = "secondary" if _is_secondary(props) else "primary-side"
        report(
            f"{side} cluster {args.name} does not ignore replicationSourceIdentifier: "
            "Aurora sets it on a secondary, and on the primary-side cluster after any "
            "switchover or failover; the next `up --refresh` would remove it, which "
            "detaches and promotes the cluster",
            None,
        )


GLOBAL_FAILOVER_ACTIONS = ("rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster")
AURORA_FAILOVER_POLICY_DOC = (
    "https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_aurora.html"
)


def _global_failover_statements(resources: list[Any]) -> list[tuple[Any, list[str]]]:
    """(role policy, resources) of every statement that fails over a global database."""
    found = []
    for role_policy in _of(resources, T_ROLE_POLICY):
        for doc in _policy_documents(role_policy.props.get("policy")):
            for statement in _items(doc.get("Statement")):
                actions = _plain(statement.get("Action"))
                actions = actions if isinstance(actions, list) else [actions]
                if not set(actions) & set(GLOBAL_FAILOVER_ACTIONS):
                    continue
                targets = _plain(statement.get("Resource"))
                found.append((role_policy, targets if isinstance(targets, list) else [targets]))
    return found


def _failover_grants_both_members(args: StackValidationArgs, report: ReportViolation) -> None:
    statements = _global_failover_statements(list(args.resources))
    if not statements:
        args.not_applicable("no role may fail over an Aurora global database")
        return
    primary_arn = _primary_outputs(args, current_context()).get("aurora_cluster_arn")
    for role_policy, targets in statements:
        if "*" in targets:
            continue
        clusters = [str(t) for t in targets if ":cluster:" in str(t)]
        missing = []
        if not any(":global-cluster:" in str(t) for t in targets):
            missing.append("the global cluster")
        if primary_arn and str(primary_arn) not in clusters:
            missing.append(f"the primary-side cluster {primary_arn}")
        if len(clusters) < 2:
            missing.append("both member clusters")
        if missing:
            report(
                f"{role_policy.name} grants FailoverGlobalCluster/SwitchoverGlobalCluster "
                f"without {', '.join(missing)}: AWS's sample policy names the global "
                f"cluster and both member clusters ({AURORA_FAILOVER_POLICY_DOC})",
                role_policy.urn,
            )


def _protected_and_backed_up(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not _is_aurora(props):
        return
    if not _true(props.get("deletionProtection")):
        report(f"{args.name} has no deletionProtection", None)
    if args.resource_type != T_CLUSTER:
        return
    days = props.get("backupRetentionPeriod")
    if days is None or int(days) < MIN_AURORA_BACKUP_DAYS:
        report(f"cluster {args.name} keeps no automated backups (backupRetentionPeriod)", None)
    if _true(props.get("skipFinalSnapshot")):
        report(f"cluster {args.name} skips its final snapshot", None)


def _no_managed_password(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if _is_aurora(props) and _true(props.get("manageMasterUserPassword")):
        report(
            f"cluster {args.name} sets manageMasterUserPassword: Aurora refuses it on a "
            "cluster of a global database",
            None,
        )


def _versions_equal(args: StackValidationArgs, report: ReportViolation) -> None:
    versions = {
        res.name: str(res.props.get("engineVersion") or "")
        for res in _of(args.resources, *AURORA_TYPES)
        if _is_aurora(res.props)
    }
    if not versions:
        args.not_applicable("no Aurora resource in this stack")
        return
    if len(set(versions.values())) > 1:
        shown = ", ".join(f"{name} {v}" for name, v in sorted(versions.items()))
        report(f"Aurora resources run different engine versions: {shown}", None)
    primary_version = _primary_outputs(args, current_context()).get("aurora_engine_version")
    if not primary_version:
        return
    for res in _of(args.resources, T_CLUSTER):
        mine = versions.get(res.name)
        if _is_secondary(res.props) and mine and mine != primary_version:
            report(
                f"secondary cluster {res.name} runs {mine}, the primary cluster "
                f"{primary_version}: a secondary joins only at the primary's version",
                res.urn,
            )


HIGH_AVAILABILITY_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html"


def _promoted_secondary_has_a_reader(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context()
    if ctx.config is None or not ctx.config.promote_replica:
        args.not_applicable("only a DR stack whose standby was promoted")
        return
    instances = _of(args.resources, T_CLUSTER_INSTANCE)
    for cluster in _of(args.resources, T_CLUSTER):
        if not (_is_aurora(cluster.props) and _is_secondary(cluster.props)):
            continue
        ident = cluster.props.get("clusterIdentifier")
        mine = [i for i in instances if i.props.get("clusterIdentifier") == ident]
        if len(mine) < 2:
            report(
                f"promoted cluster {cluster.name} has {len(mine)} instance(s): it is the "
                "production primary now, and without a reader in a second AZ an instance "
                "failure is an outage",
                cluster.urn,
            )


POLICIES = [
    _resource_policy(
        "aurora-global-class-and-version-supported",
        "An Aurora global database runs Aurora MySQL 3.01.0 or later on memory-optimized "
        f"instance classes (db.r*, db.x2g), never db.t* (Aurora User Guide, {REQUIREMENTS_DOC})",
        AURORA_TYPES,
        _class_and_version,
        "Set rds.aurora_engine_version (e.g. 8.0.mysql_aurora.3.10.3) and "
        "rds.aurora_instance_class (e.g. db.r6g.large).",
    ),
    _resource_policy(
        "aurora-secondary-own-region-key",
        "The secondary cluster of an encrypted global database is storageEncrypted with a "
        "KMS key in its own region; AWS refuses a key from another region (CreateDBCluster, "
        f"KmsKeyId: {CREATE_CLUSTER_DOC})",
        (T_CLUSTER,),
        _secondary_key,
        "Create an aws.kms.Key with the DR region's provider and pass its ARN as kms_key_id "
        "(AuroraGlobal does).",
    ),
    _resource_policy(
        "aurora-secondary-ignores-replication-source",
        "Every Aurora cluster of a global database (the secondary, and the primary-side "
        "cluster, on which AWS sets it after any switchover or failover) ignores "
        "replicationSourceIdentifier: a `pulumi up --refresh` that removes it promotes and "
        f"detaches the cluster ({PROVIDER_ISSUE_DOC})",
        (T_CLUSTER,),
        _replication_source_ignored,
        "Add ignore_changes=['replicationSourceIdentifier'] to both clusters (AuroraGlobal does).",
    ),
    _stack_policy(
        "aurora-failover-role-grants-both-members",
        "A role that may call FailoverGlobalCluster or SwitchoverGlobalCluster is granted "
        "the global cluster and both member clusters, as AWS's sample policy for these "
        f"operations lists them ({AURORA_FAILOVER_POLICY_DOC}); the primary's cluster "
        "ARN comes from the primary stack's outputs (aurora_cluster_arn)",
        _failover_grants_both_members,
        "Pass primary_cluster_arn (the primary stack's aurora_cluster_arn) to "
        "FailoverAutomationArgs (stacks/database.py does).",
    ),
    _resource_policy(
        "aurora-clusters-protected-and-backed-up",
        "Every Aurora cluster and global cluster has deletion protection (a cluster-level "
        "setting: it covers the instances), and every cluster keeps automated backups and a "
        f"final snapshot ({DELETION_PROTECTION_DOC}; {BACKUPS_DOC})",
        (T_CLUSTER, T_GLOBAL_CLUSTER),
        _protected_and_backed_up,
        "Set deletion_protection=True, backup_retention_period >= 1 and skip_final_snapshot=False.",
    ),
    _resource_policy(
        "aurora-no-managed-master-password",
        "No RDS-managed master password on an Aurora cluster: Secrets Manager management "
        "is not supported for clusters of a global database (Aurora User Guide, Limitations: "
        f"{MANAGED_PASSWORD_DOC})",
        (T_CLUSTER,),
        _no_managed_password,
        "Generate the password (pulumi_random) and keep it in a replicated secret "
        "(components/db_credentials.py).",
    ),
    _stack_policy(
        "aurora-promoted-secondary-has-a-reader",
        "A promoted Aurora secondary (promote_replica) has a reader instance in a second "
        "AZ, as a promoted RDS replica goes Multi-AZ (CKV_AWS_157; Aurora User Guide, high "
        f"availability: {HIGH_AVAILABILITY_DOC})",
        _promoted_secondary_has_a_reader,
        "Keep AuroraGlobalArgs.instance_count at 2 for a promoted secondary "
        "(stacks/database.py does so when promote_replica is true).",
    ),
    _stack_policy(
        "aurora-engine-versions-equal",
        "Both sides of an Aurora global database run the same engine version: a secondary "
        f"joins only at the primary's version, and upgrades go global ({UPGRADE_DOC})",
        _versions_equal,
        "Set the same rds.aurora_engine_version in the primary and the DR stack.",
    ),
]
