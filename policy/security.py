"""Security basics: encryption, public access, plaintext secrets, tags, least privilege."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policy.common import (
    _CONTEXT,
    AWS_TAGGABLE,
    AZURE_TAGGABLE,
    BUCKET_TYPES,
    MIN_BACKUP_DAYS,
    REQUIRED_TAGS,
    SSE_TYPES,
    T_AZ_CONTAINER,
    T_PAB,
    T_RDS,
    T_REPLICATION,
    T_ROLE,
    T_ROLE_ATTACHMENT,
    T_ROLE_POLICY,
    T_TABLE,
    VERSIONING_TYPES,
    _bucket_from_arn,
    _bucket_name,
    _dep_urns,
    _false,
    _get,
    _is_map,
    _is_seq,
    _items,
    _of,
    _plain,
    _policy_documents,
    _primary_outputs,
    _tags_of,
    _targets_bucket,
    _true,
    current_context,
    urn_type,
)


def _rds_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if p.get("replicateSourceDb"):
        # A replica inherits encryption; a cross-region one must name a key in its region.
        if not (_true(p.get("storageEncrypted")) or p.get("kmsKeyId")):
            report(f"RDS replica {args.name} is not encrypted: no kmsKeyId/storageEncrypted", None)
        return
    if not _true(p.get("storageEncrypted")):
        report(f"RDS instance {args.name} has storageEncrypted={p.get('storageEncrypted')}", None)


def _dynamodb_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _true(_get(args.props, "serverSideEncryption", "enabled")):
        report(
            f"DynamoDB table {args.name} has no KMS server-side encryption "
            "(serverSideEncryption.enabled is not true)",
            None,
        )


def _azure_storage_secure(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type == T_AZ_CONTAINER:
        access = p.get("publicAccess")
        if access not in (None, "None"):
            report(f"blob container {args.name} allows public access ({access})", None)
        return
    # The one exemption: Azure serves a storage static website on a custom domain over
    # HTTP only, so the maintenance-page account (public page, no data) may allow HTTP.
    maintenance_site = _get(p, "tags", "StorageRole") == "maintenance-page" and bool(
        p.get("customDomain")
    )
    if _false(p.get("enableHttpsTrafficOnly")) and not maintenance_site:
        report(
            f"storage account {args.name} accepts plain HTTP (enableHttpsTrafficOnly=false)", None
        )
    tls = p.get("minimumTlsVersion")
    if tls not in ("TLS1_2", "TLS1_3"):
        report(f"storage account {args.name} has minimumTlsVersion={tls!r}, needs TLS1_2", None)
    if not _false(p.get("allowBlobPublicAccess")):
        report(
            f"storage account {args.name} does not set allowBlobPublicAccess=false "
            f"(got {p.get('allowBlobPublicAccess')!r})",
            None,
        )
    if _false(_get(p, "encryption", "services", "blob", "enabled")):
        report(f"storage account {args.name} disables blob encryption at rest", None)


def _database_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type == T_RDS:
        if _true(p.get("publiclyAccessible")):
            report(f"RDS instance {args.name} is publiclyAccessible", None)
        return
    access = _get(p, "network", "publicNetworkAccess")
    if access is None or str(access) == "Enabled":
        report(
            f"MySQL Flexible Server {args.name} has network.publicNetworkAccess={access!r} "
            "(public unless explicitly Disabled)",
            None,
        )


def _backup_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type == T_RDS:
        days = p.get("backupRetentionPeriod")
        kind = "replica" if p.get("replicateSourceDb") else "instance"
        if not isinstance(days, int | float) or days < MIN_BACKUP_DAYS:
            report(
                f"RDS {kind} {args.name} keeps automated backups for {days!r} days "
                f"(minimum {MIN_BACKUP_DAYS})",
                None,
            )
        return
    days = _get(p, "backup", "backupRetentionDays", default=7)  # Azure default: 7
    if not isinstance(days, int | float) or days < MIN_BACKUP_DAYS:
        report(
            f"MySQL Flexible Server {args.name} keeps backups for {days!r} days "
            f"(minimum {MIN_BACKUP_DAYS})",
            None,
        )


def _deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if p.get("replicateSourceDb"):
        return  # a replica is disposable until it is promoted (then it is a primary)
    if not _true(p.get("deletionProtection")):
        report(f"primary RDS instance {args.name} has no deletionProtection", None)


def _dynamodb_pitr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type == T_TABLE:
        enabled = _get(p, "pointInTimeRecovery", "enabled")
    else:
        enabled = p.get("pointInTimeRecovery")
    if not _true(enabled):
        report(f"DynamoDB {args.name} has no point-in-time recovery", None)


def _failover_record_health_check(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    kinds = [_get(pol, "type") for pol in _items(p.get("failoverRoutingPolicies"))]
    if "PRIMARY" in kinds and not p.get("healthCheckId"):
        report(
            f"failover record {args.name} ({p.get('name')}) is PRIMARY without a healthCheckId: "
            "Route 53 would never fail over",
            None,
        )


# ---- plaintext secrets

_SENSITIVE_KEY = re.compile(
    r"(?i)^(password|passwd|adminpassword|administratorloginpassword|masterpassword|"
    r"masteruserpassword|secretstring|secretkey|secretaccesskey|clientsecret|privatekey|"
    r"accesskey|apikey|token|authtoken|connectionstring|sastoken|accountkey|"
    r"customdata_password)$"
)
_SENSITIVE_ENV = re.compile(r"(?i)(password|passwd|secret|token|api_?key|access_?key|private_?key)")
# Names that *refer to* a secret (DRCTL_SOURCE_SECRET_ARN) rather than hold one.
_REFERENCE_ENV = re.compile(r"(?i)_(arn|id|name|path|file|ref|region|kind|type)$")


def _literal_secret_env(name: Any, literal: Any) -> bool:
    return (
        isinstance(name, str)
        and bool(_SENSITIVE_ENV.search(name))
        and not _REFERENCE_ENV.search(name)
        and isinstance(literal, str)
        and bool(literal)
        and not literal.startswith("arn:")
    )


_SECRET_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")),
    ("an Azure storage account key", re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}")),
    ("a SAS token", re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{16,}")),
    ("a password in a URL", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
# Inputs that ARE secret stores: their values must be secrets, patterns are expected.
_SECRET_STORES = {
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString", "secretBinary"),
    "kubernetes:core/v1:Secret": ("data", "stringData"),
}
# Fields that must never be set at all, whatever their secrecy. (An RDS `password` is
# fine as a Pulumi secret: the generated master password of a replicated source.)
_NEVER_SET: dict[str, tuple[str, ...]] = {}


def _walk(value: Any, path: str = "") -> Iterable[tuple[str, str, Any]]:
    """(dotted path, key, value) for every leaf."""
    if _is_map(value):
        for key in value:
            sub = f"{path}.{key}" if path else str(key)
            child = value[key]
            yield sub, str(key), child
            yield from _walk(child, sub)
    elif _is_seq(value):
        for i, child in enumerate(value):
            yield from _walk(child, f"{path}[{i}]")


def _decoded(text: str) -> str:
    if len(text) < 24 or not re.fullmatch(r"[A-Za-z0-9+/=\s]+", text):
        return ""
    try:
        return base64.b64decode(text, validate=False).decode("utf-8", "ignore")
    except (binascii.Error, ValueError):
        return ""


def _no_plaintext_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    ctx = _CONTEXT.get()
    secret_paths = None
    if ctx is not None and ctx.secret_paths is not None:
        secret_paths = ctx.secret_paths.get(args.urn, frozenset())
    props = _plain(args.props)
    store_fields = _SECRET_STORES.get(args.resource_type, ())

    def is_secret(path: str) -> bool:
        if secret_paths is None:
            return True  # unknown under the CLI: the analyzer unwraps every secret
        return any(
            path == s or path.startswith(s + ".") or path.startswith(s + "[") for s in secret_paths
        )

    for name in _NEVER_SET.get(args.resource_type, ()):
        if props.get(name):
            report(
                f"{args.name}: input {name!r} is set; it must never be set on this resource",
                None,
            )
    for path, key, value in _walk(props):
        top = path.split(".")[0].split("[")[0]
        if top in store_fields:
            if secret_paths is not None and value not in (None, "", {}) and not is_secret(top):
                report(f"{args.name}: {top} holds secret material but is not a Pulumi secret", None)
            continue
        if isinstance(value, str) and value:
            if _SENSITIVE_KEY.match(key) and not is_secret(path):
                report(
                    f"{args.name}: input {path} is a plaintext secret (not a Pulumi secret)", None
                )
            if secret_paths is not None and is_secret(path):
                continue
            for text in (value, _decoded(value)):
                for what, pattern in _SECRET_VALUE_PATTERNS:
                    if text and pattern.search(text):
                        report(f"{args.name}: input {path} contains {what} in plain text", None)
        # Container/Lambda environment: NAME=literal for a secret-looking name.
        if key == "env" and _is_seq(value):
            for i, env in enumerate(value):
                env_name, literal = _get(env, "name"), _get(env, "value")
                if _literal_secret_env(env_name, literal) and not is_secret(f"{path}[{i}].value"):
                    report(
                        f"{args.name}: env {env_name} at {path}[{i}] is a literal value; use "
                        "valueFrom.secretKeyRef",
                        None,
                    )
        if key == "variables" and _is_map(value) and "environment" in path:
            for env_name, literal in value.items():
                if _literal_secret_env(str(env_name), literal) and not is_secret(
                    f"{path}.{env_name}"
                ):
                    report(
                        f"{args.name}: environment variable {env_name} is a literal value; read "
                        "it from Secrets Manager at run time",
                        None,
                    )


def _mandatory_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    t = args.resource_type
    if not (t in AWS_TAGGABLE or t in AZURE_TAGGABLE):
        return
    tags = _tags_of(args.props, args.provider if t.startswith("aws:") else None)
    missing = [k for k in REQUIRED_TAGS if not tags.get(k)]
    if missing:
        report(f"{t.rsplit(':', 1)[-1]} {args.name} lacks tags {', '.join(missing)}", None)


# ---- stack-level security basics


def _s3_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    sses = _of(args.resources, *SSE_TYPES)
    for bucket in _of(args.resources, *BUCKET_TYPES):
        inline = _get(bucket.props, "serverSideEncryptionConfiguration", "rule")
        configs = [s for s in sses if _targets_bucket(s, bucket)]
        algorithms = [
            _get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
            for s in configs
            for rule in _items(s.props.get("rules"))
        ]
        if inline:
            algorithms.append(_get(inline, "applyServerSideEncryptionByDefault", "sseAlgorithm"))
        if not any(a in ("AES256", "aws:kms", "aws:kms:dsse") for a in algorithms):
            report(
                f"bucket {_bucket_name(bucket) or bucket.name} has no default encryption "
                "(BucketServerSideEncryptionConfiguration)",
                bucket.urn,
            )


def _s3_no_public_access(args: StackValidationArgs, report: ReportViolation) -> None:
    blocks = _of(args.resources, T_PAB)
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in _of(args.resources, *BUCKET_TYPES):
        acl = bucket.props.get("acl")
        if isinstance(acl, str) and acl.startswith("public"):
            report(
                f"bucket {_bucket_name(bucket) or bucket.name} has a public ACL {acl}", bucket.urn
            )
        mine = [b for b in blocks if _targets_bucket(b, bucket)]
        if not mine:
            report(
                f"bucket {_bucket_name(bucket) or bucket.name} has no BucketPublicAccessBlock",
                bucket.urn,
            )
            continue
        off = [f for f in flags if not any(_true(b.props.get(f)) for b in mine)]
        if off:
            report(
                f"bucket {_bucket_name(bucket) or bucket.name} public access block leaves "
                f"{', '.join(off)} off",
                bucket.urn,
            )


def _versioning_enabled(res: PolicyResource) -> bool:
    return _get(res.props, "versioningConfiguration", "status") == "Enabled"


def _s3_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    versionings = _of(args.resources, *VERSIONING_TYPES)
    buckets = _of(args.resources, *BUCKET_TYPES)
    by_name = {n: b for b in buckets if (n := _bucket_name(b))}
    exported = _primary_outputs(args, current_context()).get("versioned_bucket_names")
    exported_versioned = {str(n) for n in exported} if _is_seq(exported) else set()

    def owned_versioning(bucket: PolicyResource) -> list[PolicyResource]:
        return [v for v in versionings if _targets_bucket(v, bucket)]

    for bucket in buckets:
        if not any(_versioning_enabled(v) for v in owned_versioning(bucket)):
            report(
                f"bucket {_bucket_name(bucket) or bucket.name} has no BucketVersioning with "
                "status Enabled",
                bucket.urn,
            )
    for rc in _of(args.resources, T_REPLICATION):
        deps = _dep_urns(rc)
        dep_versionings = [u for u in deps if urn_type(u) in VERSIONING_TYPES]
        names = [("source", rc.props.get("bucket"))] + [
            ("destination", _bucket_from_arn(_get(rule, "destination", "bucket")))
            for rule in _items(rc.props.get("rules"))
        ]
        for side, name in names:
            found = by_name.get(name) if isinstance(name, str) else None
            if found is not None:
                bucket = found
                vs = owned_versioning(bucket)
                if not any(_versioning_enabled(v) for v in vs):
                    report(f"replication {rc.name}: {side} bucket {name} is not versioned", rc.urn)
                elif not any(v.urn in deps for v in vs):
                    report(
                        f"replication {rc.name} does not depend on the {side} bucket's "
                        f"versioning: S3 rejects the configuration if it is created first",
                        rc.urn,
                    )
            else:
                # Declared in another stack (the primary's bucket): the primary exports the
                # buckets it versions (deployed first), or the configuration waits on a
                # (read) versioning resource of that bucket.
                if name in exported_versioned:
                    continue
                own = {v.urn for b in by_name.values() for v in owned_versioning(b)}
                if not [u for u in dep_versionings if u not in own]:
                    report(
                        f"replication {rc.name}: {side} bucket {name} is not in this stack, "
                        "the primary does not export it in versioned_bucket_names, and no "
                        "BucketVersioning of it is a dependency",
                        rc.urn,
                    )


def _wildcards(doc: Mapping[str, Any]) -> list[str]:
    problems = []
    statements = doc.get("Statement")
    for st in statements if _is_seq(statements) else [statements]:
        if not _is_map(st) or st.get("Effect", "Allow") != "Allow":
            continue
        if "NotAction" in st or "NotResource" in st:
            problems.append("NotAction/NotResource")
        actions = st.get("Action")
        for action in actions if _is_seq(actions) else [actions]:
            if isinstance(action, str) and (action == "*" or action.endswith(":*")):
                problems.append(f"action {action!r}")
            if action == "<unparsable>":
                problems.append("an unparsable policy document")
        resources = st.get("Resource")
        for resource in resources if _is_seq(resources) else [resources]:
            if resource == "*":
                problems.append("resource '*'")
    return problems


def _replication_roles(resources: list[PolicyResource]) -> list[PolicyResource]:
    roles = []
    rcs = _of(resources, T_REPLICATION)
    for role in _of(resources, T_ROLE):
        trust = json.dumps(_plain(role.props.get("assumeRolePolicy", "")))
        referenced = any(role.urn in _dep_urns(rc) for rc in rcs)
        if "s3.amazonaws.com" in trust or "batchoperations.s3" in trust or referenced:
            roles.append(role)
    return roles


def _replication_least_privilege(args: StackValidationArgs, report: ReportViolation) -> None:
    for role in _replication_roles(args.resources):
        docs: list[tuple[str, Any]] = [
            (f"inline policy {_get(p, 'name')}", _get(p, "policy"))
            for p in _items(role.props.get("inlinePolicies"))
        ]
        role_name = role.props.get("name")
        for rp in _of(args.resources, T_ROLE_POLICY):
            target = rp.props.get("role")
            if role.urn in _dep_urns(rp) or (role_name and target == role_name):
                docs.append((f"role policy {rp.name}", rp.props.get("policy")))
        for att in _of(args.resources, T_ROLE_ATTACHMENT):
            target = att.props.get("role")
            if role.urn in _dep_urns(att) or (role_name and target == role_name):
                arn = str(att.props.get("policyArn", ""))
                if arn.startswith("arn:aws:iam::aws:policy/"):
                    report(
                        f"replication role {role.name} has the AWS managed policy {arn}: "
                        "grant the replication actions on the named buckets instead",
                        att.urn,
                    )
        for what, text in docs:
            for doc in _policy_documents(text):
                for problem in _wildcards(doc):
                    report(f"replication role {role.name}: {what} allows {problem}", role.urn)


# =========================================================================== DR policies
