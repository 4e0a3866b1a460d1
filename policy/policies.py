"""drstack policies: plain ``pulumi_policy`` objects, importable without starting a pack.

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

import base64
import binascii
import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeGuard

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
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

from policy.budget import compute_budget
from stacks.config import StackConfig

Level = Literal["mandatory", "advisory"]
PROJECT_DIR = Path(__file__).resolve().parents[1]

# Tags every taggable resource carries (StackConfig.base_tags).
REQUIRED_TAGS: tuple[str, ...] = ("Project", "Stack", "DrRole")
# Seed 003 sovereignty class tag (stacks/primary.py sets it on every data store).
SOVEREIGNTY_TAG = "DataSovereignty"
SOVEREIGN_VALUES = ("restricted", "sovereign", "kr", "jp")
MIN_BACKUP_DAYS = 7

T_RDS = "aws:rds/instance:Instance"
T_KMS = "aws:kms/key:Key"
T_TABLE = "aws:dynamodb/table:Table"
T_TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
T_BUCKET = "aws:s3/bucket:Bucket"
T_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
T_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
T_VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
T_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
T_SSE_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
T_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
T_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
T_ROLE = "aws:iam/role:Role"
T_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
T_ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
T_HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
T_RECORD = "aws:route53/record:Record"
T_STACK_REF = "pulumi:pulumi:StackReference"
T_AZ_STORAGE = "azure-native:storage:StorageAccount"
T_AZ_CONTAINER = "azure-native:storage:BlobContainer"
T_AZ_MYSQL = "azure-native:dbformysql:Server"
BUCKET_TYPES = (T_BUCKET, T_BUCKET_V2)
VERSIONING_TYPES = (T_VERSIONING, T_VERSIONING_V2)
SSE_TYPES = (T_SSE, T_SSE_V2)
# What can run a scheduled backup job (the pilot-light backup path).
SCHEDULER_TYPES = (
    "kubernetes:batch/v1:CronJob",
    "aws:scheduler/schedule:Schedule",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:lambda/function:Function",
    "aws:ecs/taskDefinition:TaskDefinition",
    "aws:ec2/instance:Instance",
    "azure-native:app:Job",
)

AWS_TAGGABLE = frozenset(
    [
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/instance:Instance",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:rds/instance:Instance",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:kms/key:Key",
        "aws:dynamodb/table:Table",
        "aws:dynamodb/tableReplica:TableReplica",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:ecr/repository:Repository",
        "aws:secretsmanager/secret:Secret",
        "aws:lambda/function:Function",
        "aws:sns/topic:Topic",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:route53/healthCheck:HealthCheck",
        "aws:route53/zone:Zone",
    ]
)
AZURE_TAGGABLE = frozenset(
    [
        "azure-native:resources:ResourceGroup",
        "azure-native:storage:StorageAccount",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:PublicIPAddress",
        "azure-native:network:NetworkInterface",
        "azure-native:network:ApplicationGateway",
        "azure-native:compute:VirtualMachine",
        "azure-native:compute:Disk",
        "azure-native:dbformysql:Server",
    ]
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Violation:
    policy: str
    level: Level
    urn: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "level": self.level,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass
class PolicyContext:
    """What the stack policies know beyond the resources."""

    config: StackConfig | None
    primary_outputs: Mapping[str, Any] | None = None
    # urn -> dotted input paths that were Pulumi secrets (known in-process only; the
    # analyzer hands a CLI pack every secret already unwrapped).
    secret_paths: Mapping[str, frozenset[str]] | None = None
    error: str | None = None
    # URNs of `Resource.get()` reads (known in-process; None under the CLI).
    read_urns: frozenset[str] | None = None


_CONTEXT: ContextVar[PolicyContext | None] = ContextVar("drstack_policy_context", default=None)
_CLI_CONTEXT: dict[str, PolicyContext] = {}


def _load_cli_config(stack: str) -> PolicyContext:
    from stacks.config import ConfigError, parse_config

    try:
        import pulumi.runtime

        env = dict(pulumi.runtime.get_config_env())
        secret_keys: list[str] = list(pulumi.runtime.get_config_secret_keys_env())
    except Exception:  # the analyzer may run without a configured runtime
        env, secret_keys = {}, []
    try:
        if not any(k.startswith("drstack:") for k in env):
            env, secret_keys = _stack_file_config(stack)
        return PolicyContext(parse_config(stack, env, secret_keys))
    except (ConfigError, OSError, ValueError) as exc:
        return PolicyContext(None, error=f"cannot read the config of stack {stack!r}: {exc}")


def _stack_file_config(stack: str) -> tuple[dict[str, str], list[str]]:
    import yaml

    project = Path(os.environ.get("DRSTACK_PROJECT_DIR", PROJECT_DIR))
    path = project / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    flat: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (data.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            flat[key] = "encrypted-in-stack-file"
            secret_keys.append(key)
        else:
            flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat, secret_keys


def current_context(args: Any = None) -> PolicyContext:
    """The in-process context set by :func:`evaluate`, else the CLI's stack config."""
    ctx = _CONTEXT.get()
    if ctx is not None:
        return ctx
    stack = None
    if args is not None:
        stack = (args.get_config() or {}).get("stack")
    stack = stack or os.environ.get("PULUMI_STACK")
    if not stack:
        return PolicyContext(
            None,
            error="no stack name: set the policy config key `stack` or PULUMI_STACK",
        )
    stack = str(stack).split("/")[-1]
    if stack not in _CLI_CONTEXT:
        _CLI_CONTEXT[stack] = _load_cli_config(stack)
    return _CLI_CONTEXT[stack]


# --------------------------------------------------------------------------- helpers


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def _is_seq(value: Any) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _get(value: Any, *path: str | int, default: Any = None) -> Any:
    for part in path:
        if isinstance(part, int):
            if not _is_seq(value) or len(value) <= part:
                return default
            value = value[part]
        else:
            if not _is_map(value) or part not in value:
                return default
            value = value[part]
    return value


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _items(value: Any) -> list[Any]:
    return list(value) if _is_seq(value) else []


def _plain(value: Any) -> Any:
    """A plain copy of (possibly proxied) props, for searching and JSON."""
    if _is_map(value):
        return {str(k): _plain(value[k]) for k in value}
    if _is_seq(value):
        return [_plain(v) for v in value]
    return value


def urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].split("$")[-1] if len(parts) >= 4 else ""


def urn_name(urn: str) -> str:
    return urn.split("::")[-1]


def arn_region(arn: Any) -> str | None:
    if isinstance(arn, str) and arn.startswith("arn:"):
        parts = arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


def _provider_props(provider: PolicyProviderResource | None) -> Mapping[str, Any]:
    return provider.props if provider is not None and provider.props is not None else {}


def resource_region(
    props: Mapping[str, Any], provider: PolicyProviderResource | None
) -> str | None:
    for key in ("region", "location"):
        value = props.get(key) if _is_map(props) else None
        if isinstance(value, str) and value:
            return value
    pprops = _provider_props(provider)
    for key in ("region", "location"):
        value = pprops.get(key)
        if isinstance(value, str) and value:
            return value
    ctx = _CONTEXT.get()
    return ctx.config.region if ctx is not None and ctx.config is not None else None


def _res_region(res: PolicyResource) -> str | None:
    return resource_region(res.props, res.provider)


def _tags_of(props: Mapping[str, Any], provider: PolicyProviderResource | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    default_tags = _provider_props(provider).get("defaultTags")
    if isinstance(default_tags, str):
        try:
            default_tags = json.loads(default_tags)
        except ValueError:
            default_tags = None
    if _is_map(default_tags) and _is_map(default_tags.get("tags")):
        tags.update({str(k): str(v) for k, v in default_tags["tags"].items()})
    own = props.get("tags") if _is_map(props) else None
    if _is_map(own):
        tags.update({str(k): str(v) for k, v in own.items()})
    return tags


def _of(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def _dep_urns(res: PolicyResource) -> set[str]:
    urns = {d.urn for d in res.dependencies}
    for deps in (res.property_dependencies or {}).values():
        urns.update(d.urn for d in deps)
    return urns


def _bucket_name(bucket: PolicyResource) -> str | None:
    name = bucket.props.get("bucket")
    return name if isinstance(name, str) and name else None


def _targets_bucket(res: PolicyResource, bucket: PolicyResource) -> bool:
    """Does a bucket sub-resource (versioning, SSE, replication...) configure ``bucket``?"""
    target = res.props.get("bucket")
    name = _bucket_name(bucket)
    if name is not None and target == name:
        return True
    deps = res.property_dependencies.get("bucket") if res.property_dependencies else None
    if deps:
        return any(d.urn == bucket.urn for d in deps)
    return bucket.urn in _dep_urns(res) and not name


def _bucket_from_arn(arn: Any) -> str | None:
    if isinstance(arn, str) and arn.startswith("arn:aws:s3:::"):
        return arn[len("arn:aws:s3:::") :].split("/")[0]
    return None


def _is_sovereign_tags(tags: Mapping[str, str]) -> bool:
    value = tags.get(SOVEREIGNTY_TAG) or tags.get("Sovereignty")
    return bool(value) and str(value).lower() in SOVEREIGN_VALUES


def _fail_closed(ctx: PolicyContext, report: ReportViolation, what: str) -> bool:
    if ctx.config is None:
        report(f"{what} needs the stack config and could not read it: {ctx.error}", None)
        return True
    return False


def _primary_outputs(args: StackValidationArgs, ctx: PolicyContext) -> Mapping[str, Any]:
    for res in _of(args.resources, T_STACK_REF):
        outputs = res.props.get("outputs")
        if _is_map(outputs):
            return outputs
    return ctx.primary_outputs or {}


# --------------------------------------------------------------------------- policy helper


def _resource_policy(
    name: str,
    description: str,
    types: tuple[str, ...] | None,
    check: Callable[[ResourceValidationArgs, ReportViolation], None],
    remediation: str,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if types is None or args.resource_type in types:
            check(args, report)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        remediation_steps=remediation,
    )


def _stack_policy(
    name: str,
    description: str,
    check: Callable[[StackValidationArgs, ReportViolation], None],
    remediation: str,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=check,
        enforcement_level=level,
        remediation_steps=remediation,
        config_schema=PolicyConfigSchema(
            properties={"stack": {"type": "string", "description": "the stack to read config for"}}
        ),
    )


# =========================================================================== security basics


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


def _policy_documents(text: Any) -> list[Mapping[str, Any]]:
    if _is_map(text):
        return [text]
    if isinstance(text, str):
        try:
            doc = json.loads(text)
        except ValueError:
            return [{"Statement": [{"Effect": "Allow", "Action": "<unparsable>", "Resource": "*"}]}]
        return [doc] if _is_map(doc) else []
    return []


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


def _is_failover_switch(hc: PolicyResource) -> bool:
    """The always-healthy lever: a calculated check with no children and threshold 0."""
    p = hc.props
    return (
        p.get("type") == "CALCULATED"
        and not _items(p.get("childHealthchecks"))
        and p.get("childHealthThreshold") in (0, None)
    )


def _force_failover_by_inversion(args: StackValidationArgs, report: ReportViolation) -> None:
    checks = _of(args.resources, T_HEALTH_CHECK)
    for hc in checks:
        if _true(hc.props.get("disabled")):
            report(
                f"health check {hc.name} is disabled: Route 53 treats a disabled check as "
                "healthy, so traffic stays on the primary",
                hc.urn,
            )
        if _true(hc.props.get("invertHealthcheck")) and not _is_failover_switch(hc):
            report(
                f"health check {hc.name} is inverted but is not the failover switch: an "
                "inverted probe reports a dead primary as healthy and sends traffic back to it",
                hc.urn,
            )
    ctx = current_context(args)
    if ctx.config is None or ctx.config.role != "dr" or not ctx.config.dns.manage_records:
        return
    if ctx.config.site_stack:
        return  # a pilot-light backup stack: the site stack owns the failover records
    want = ctx.config.force_failover
    switches = [hc for hc in checks if _is_failover_switch(hc)]
    if not switches:
        report(
            "no failover switch health check: drstack:force_failover has nothing to invert",
            None,
        )
    for hc in switches:
        inverted = _true(hc.props.get("invertHealthcheck"))
        if want and not inverted:
            report(
                f"drstack:force_failover is true but the failover switch {hc.name} is not "
                "inverted: DNS stays on the primary",
                hc.urn,
            )
        if inverted and not want:
            report(
                f"the failover switch {hc.name} is inverted while drstack:force_failover is "
                "false: DNS is forced to the DR site",
                hc.urn,
            )


def _replica_kms_in_region(args: StackValidationArgs, report: ReportViolation) -> None:
    keys = _of(args.resources, T_KMS)

    def key_region(value: Any, res: PolicyResource) -> str | None:
        region = arn_region(value)
        if region:
            return region
        for key in keys:
            if key.urn in _dep_urns(res):
                return _res_region(key)
        return None

    for db in _of(args.resources, T_RDS):
        region = _res_region(db)
        source = db.props.get("replicateSourceDb")
        key = db.props.get("kmsKeyId")
        if source and not key and arn_region(source) not in (None, region):
            report(
                f"cross-region replica {db.name} has no kmsKeyId: an encrypted source needs a "
                f"KMS key in {region}",
                db.urn,
            )
            continue
        if key:
            kr = key_region(key, db)
            if kr is None:
                report(f"RDS {db.name}: cannot tell the region of kmsKeyId {key!r}", db.urn)
            elif kr != region:
                report(
                    f"RDS {db.name} in {region} uses a KMS key in {kr}: a KMS key never leaves "
                    "its region",
                    db.urn,
                )
    for rep in _of(args.resources, T_TABLE_REPLICA):
        key = rep.props.get("kmsKeyArn")
        if key and key_region(key, rep) != _res_region(rep):
            report(f"table replica {rep.name} uses a KMS key outside {_res_region(rep)}", rep.urn)
    buckets = {n: b for b in _of(args.resources, *BUCKET_TYPES) if (n := _bucket_name(b))}
    for rc in _of(args.resources, T_REPLICATION):
        for rule in _items(rc.props.get("rules")):
            key = _get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
            dest = buckets.get(_bucket_from_arn(_get(rule, "destination", "bucket")) or "")
            if key and dest is not None and key_region(key, rc) != _res_region(dest):
                report(
                    f"replication {rc.name}: replicaKmsKeyId is not in the destination "
                    f"bucket's region {_res_region(dest)}",
                    rc.urn,
                )


def _sovereign_names(args: StackValidationArgs, ctx: PolicyContext) -> set[str]:
    names: set[str] = set()
    if ctx.config is not None:
        names.update(ctx.config.sovereign_data)
        names.update(ctx.config.buckets.get(n, n) for n in ctx.config.sovereign_data)
    outputs = _primary_outputs(args, ctx)
    listed = outputs.get("sovereign_data")
    bucket_names = outputs.get("bucket_names")
    for n in _items(listed):
        names.add(str(n))
        if _is_map(bucket_names) and n in bucket_names:
            names.add(str(bucket_names[n]))
    for res in args.resources:
        if res.resource_type in (
            *BUCKET_TYPES,
            T_TABLE,
            T_TABLE_REPLICA,
            T_RDS,
        ) and _is_sovereign_tags(_tags_of(res.props, res.provider)):
            for key in ("bucket", "name", "identifier"):
                if isinstance(res.props.get(key), str):
                    names.add(res.props[key])
    return names


def _data_sovereignty(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context(args)
    sovereign = _sovereign_names(args, ctx)
    buckets = {n: b for b in _of(args.resources, *BUCKET_TYPES) if (n := _bucket_name(b))}
    for rc in _of(args.resources, T_REPLICATION):
        source = rc.props.get("bucket")
        source_bucket = buckets.get(source) if isinstance(source, str) else None
        tagged = source_bucket is not None and _is_sovereign_tags(
            _tags_of(source_bucket.props, source_bucket.provider)
        )
        if source not in sovereign and not tagged:
            continue
        source_region = _res_region(source_bucket) if source_bucket else _res_region(rc)
        for rule in _items(rc.props.get("rules")):
            dest_name = _bucket_from_arn(_get(rule, "destination", "bucket"))
            dest = buckets.get(dest_name or "")
            dest_region = _res_region(dest) if dest is not None else None
            if dest_region is None or dest_region != source_region:
                report(
                    f"sovereign bucket {source} replicates to {dest_name} in "
                    f"{dest_region or 'an unknown region'} (seed 003: customer data never "
                    "leaves its region)",
                    rc.urn,
                )
    for rep in _of(args.resources, T_TABLE_REPLICA):
        arn = rep.props.get("globalTableArn")
        table = str(arn).rsplit("/", 1)[-1] if arn else ""
        if table in sovereign and arn_region(arn) != _res_region(rep):
            report(
                f"sovereign table {table} gets a replica in {_res_region(rep)} (seed 003)",
                rep.urn,
            )
    for db in _of(args.resources, T_RDS):
        source = db.props.get("replicateSourceDb")
        ident = str(source).rsplit(":", 1)[-1] if source else ""
        if ident and ident in sovereign and arn_region(source) != _res_region(db):
            report(f"sovereign database {ident} gets a replica in {_res_region(db)}", db.urn)
    if ctx.config is not None and ctx.config.strategy == "pilot-light":
        db_ident = _primary_db_identifier(args, ctx)
        if db_ident in sovereign:
            for job in _backup_jobs(args.resources):
                report(
                    f"sovereign database {db_ident} is exported to another region/cloud by "
                    f"{job.name} (seed 003)",
                    job.urn,
                )
            if ctx.config.backup.job_stack:
                report(
                    f"sovereign database {db_ident} is exported to another region/cloud by "
                    f"the backup job of stack {ctx.config.backup.job_stack} (seed 003)",
                    None,
                )


def _primary_db_identifier(args: StackValidationArgs, ctx: PolicyContext) -> str:
    outputs = _primary_outputs(args, ctx)
    ident = outputs.get("rds_instance_id")
    if isinstance(ident, str) and ident:
        return ident
    arn = outputs.get("rds_instance_arn")
    if isinstance(arn, str) and arn:
        return arn.rsplit(":", 1)[-1]
    return ctx.config.rds.identifier if ctx.config is not None else ""


def _backup_targets(resources: list[PolicyResource]) -> list[str]:
    targets = []
    for res in _of(resources, T_AZ_CONTAINER):
        for key in ("containerName", "name"):
            if isinstance(res.props.get(key), str):
                targets.append(res.props[key])
        if not res.props.get("containerName"):
            targets.append(res.name)
    for res in _of(resources, T_AZ_STORAGE):
        if isinstance(res.props.get("accountName"), str):
            targets.append(res.props["accountName"])
    return [t for t in targets if t]


def _backup_jobs(resources: list[PolicyResource]) -> list[PolicyResource]:
    targets = _backup_targets(resources)
    jobs = []
    for res in _of(resources, *SCHEDULER_TYPES):
        text = json.dumps(_plain(res.props))
        if any(t in text for t in targets):
            jobs.append(res)
    return jobs


def _dr_copy(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context(args)
    if _fail_closed(ctx, report, "dr-copy-for-every-data-store"):
        return
    cfg = ctx.config
    assert cfg is not None
    if cfg.role != "dr":
        args.not_applicable(
            "a primary stack knows nothing about DR: its data stores are checked from the "
            "DR stack that attaches to it"
        )
        return
    if cfg.site_stack:
        args.not_applicable(
            f"a pilot-light backup stack: data-store coverage is checked on {cfg.site_stack}"
        )
        return
    outputs = _primary_outputs(args, ctx)
    sovereign = _sovereign_names(args, ctx)

    rds_arn = outputs.get("rds_instance_arn")
    rds_ident = _primary_db_identifier(args, ctx)
    table_arns = outputs.get("dynamodb_table_arns")
    tables: dict[str, str] = (
        {str(k): str(v) for k, v in table_arns.items()} if _is_map(table_arns) else {}
    )
    for name in _items(outputs.get("dynamodb_table_names")) or list(cfg.dynamodb_tables):
        tables.setdefault(str(name), "")
    bucket_map = outputs.get("bucket_names")
    buckets = (
        [str(v) for v in bucket_map.values()] if _is_map(bucket_map) else list(cfg.buckets.values())
    )

    rdss = _of(args.resources, T_RDS)
    replicas = _of(args.resources, T_TABLE_REPLICA)
    replications = _of(args.resources, T_REPLICATION)
    jobs = _backup_jobs(args.resources)
    job_text = {j.urn: json.dumps(_plain(j.props)) for j in jobs}

    def backed_up(name: str) -> bool:
        return any(name in text for text in job_text.values())

    # The database.
    if rds_ident and rds_ident not in sovereign and rds_ident not in cfg.dr_waivers:
        copy = any(
            (src := db.props.get("replicateSourceDb"))
            and (src == rds_arn or str(src).rsplit(":", 1)[-1] == rds_ident)
            for db in rdss
        )
        if cfg.promote_replica:
            copy = copy or any(_res_region(db) != cfg.primary_region for db in rdss)
        if cfg.strategy == "pilot-light":
            # The job may run in the stack named by backup.job_stack (next to the primary,
            # off the failover path); policy pilot-light-backup-stack-has-job checks it there.
            copy = copy or bool(jobs) or bool(cfg.backup.job_stack)
        if not copy:
            what = "read replica" if cfg.strategy == "warm-standby" else "scheduled backup job"
            report(
                f"primary database {rds_ident} has no DR copy in stack {cfg.stack} (expected a "
                f"{what} targeting it)",
                None,
            )
    # DynamoDB tables.
    waived = set(cfg.dr_waivers)
    for table, arn in tables.items():
        if table in sovereign or table in waived:
            continue
        found = any(
            (g := rep.props.get("globalTableArn")) and (g == arn or str(g).endswith(f"/{table}"))
            for rep in replicas
        )
        if not found and not backed_up(table):
            report(
                f"primary DynamoDB table {table} has no DR copy in stack {cfg.stack} "
                "(no TableReplica and no backup job naming it)",
                None,
            )
    # S3 buckets.
    for bucket in buckets:
        if bucket in sovereign or bucket in waived:
            continue
        found = any(
            rc.props.get("bucket") == bucket
            and any(
                _get(rule, "status") == "Enabled" and _get(rule, "destination", "bucket")
                for rule in _items(rc.props.get("rules"))
            )
            for rc in replications
        )
        if not found and not backed_up(bucket):
            report(
                f"primary bucket {bucket} has no DR copy in stack {cfg.stack} (no enabled "
                "BucketReplicationConfig and no backup job naming it)",
                None,
            )


def _dr_copy_waived(args: StackValidationArgs, report: ReportViolation) -> None:
    """Advisory: every accepted data-loss waiver is printed on every preview, so it is
    reviewed again rather than forgotten."""
    ctx = current_context(args)
    if ctx.config is None or not ctx.config.dr_waivers:
        args.not_applicable("no drstack:dr_waivers")
        return
    for name, reason in sorted(ctx.config.dr_waivers.items()):
        report(f"{name} has no DR copy in stack {ctx.config.stack} by waiver: {reason}", None)


def _rto_rpo_budget(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context(args)
    if _fail_closed(ctx, report, "rto-rpo-budget"):
        return
    assert ctx.config is not None
    budget = compute_budget(ctx.config)
    if budget is None:
        args.not_applicable("a primary stack declares no objectives")
        return
    for message in budget.breaches():
        report(message, None)


# =========================================================================== the policies

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
