"""What every drstack policy module uses: resource type names, results, the stack-config
context, prop helpers and the ``_resource_policy`` / ``_stack_policy`` builders.

The concern modules (``policy/security.py``, ``policy/dr_wiring.py``,
``policy/budget_policy.py``) and the deploy-time constraints (``policy/deploy_*.py``)
import from here; ``policy/policies.py`` assembles the list. Nothing here imports them,
so the gathering has no import circle.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from stacks.config import StackConfig

Level = Literal["mandatory", "advisory"]
PROJECT_DIR = Path(__file__).resolve().parents[1]

# Tags every taggable resource carries (StackConfig.base_tags).
REQUIRED_TAGS: tuple[str, ...] = ("Project", "Stack", "DrRole")
# Seed 003 sovereignty class tag (stacks/shared.py data_tags sets it on every data store).
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
