"""The typed contract of the stack outputs drctl reads (DESIGN.md "Stack outputs").

One pydantic model per stack role and strategy. A command validates the whole outputs
file against them before its first step, so a malformed value is one line naming the
stack, the key and what was expected, never a traceback halfway through a failover.
Keys a stack adds beyond the contract are allowed (the sandbox adds a few); keys it
declares must have the declared type. Secret values (the kubeconfig) are never shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from drctl.engines import AURORA_MYSQL, DB_ENGINES, db_engine
from drctl.stack_outputs import OutputsError, StackOutputs

PRIMARY, DR = "primary", "dr"
WARM_STANDBY, PILOT_LIGHT = "warm-standby", "pilot-light"
STRATEGIES = (WARM_STANDBY, PILOT_LIGHT)
SECRET_KEYS = frozenset({"kubeconfig"})


def _aws_region(value: str) -> str:
    parts = value.split("-")
    if len(parts) < 3 or not parts[-1].isdigit() or not all(p.isalpha() for p in parts[:-1]):
        raise ValueError("expected an AWS region name such as ap-northeast-1")
    return value


def _http_url(value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("expected an http(s) URL such as https://api.example.com")
    return value


def _kubeconfig(value: Any) -> Any:
    if value in ("", {}):
        return value  # no Kubernetes access configured
    expected = "expected a kubeconfig (YAML with clusters, contexts, users, current-context)"
    if not isinstance(value, str | dict):
        raise ValueError(f"{expected}; it is a {type(value).__name__}")
    try:
        data = yaml.safe_load(value) if isinstance(value, str) else value
    except yaml.YAMLError:
        raise ValueError(f"{expected}; it is not YAML") from None
    if not isinstance(data, dict):
        raise ValueError(f"{expected}; it is not a mapping")
    missing = [k for k in ("clusters", "contexts", "users") if not isinstance(data.get(k), list)]
    if missing or not data.get("current-context"):
        raise ValueError(f"{expected}; missing {', '.join(missing) or 'current-context'}")
    return value


_RDS_CLUSTER_ARN = re.compile(
    r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[A-Za-z][A-Za-z0-9-]*$"
)


def _cluster_arn(value: str) -> str:
    # FailoverGlobalCluster wants the target as an ARN "so that Aurora can locate the
    # cluster in its Region" (API reference): a bare name is refused here, not by AWS.
    if not _RDS_CLUSTER_ARN.match(value):
        raise ValueError(
            "expected an RDS cluster ARN such as arn:aws:rds:ap-northeast-1:123456789012:cluster:NAME"
        )
    return value


def _names(value: Any) -> Any:
    as_list = isinstance(value, list) and all(isinstance(v, str) for v in value)
    as_map = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if not (as_list or as_map):
        raise ValueError("expected a list of names or an object of role -> name")
    return value


Region = Annotated[StrictStr, AfterValidator(_aws_region)]
Url = Annotated[StrictStr, AfterValidator(_http_url)]
Kubeconfig = Annotated[Any, AfterValidator(_kubeconfig)]
# Strict: a bool or a numeric string is refused; an int is a valid float.
Seconds = Annotated[StrictFloat, Field(ge=0)]
Replicas = Annotated[StrictInt, Field(ge=0)]
Names = Annotated[Any, AfterValidator(_names)]
ClusterArn = Annotated[StrictStr, AfterValidator(_cluster_arn)]
Engine = Literal["mysql", "aurora-mysql"]


def _wants_number(annotation: Any) -> bool:
    """A float/int field, or a map of them, optional or not."""
    if annotation in (int, float):
        return True
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _wants_number(args[0])
    if origin is dict:
        return _wants_number(args[1])
    if origin in (Union, UnionType):
        return any(_wants_number(a) for a in args if a is not type(None))
    return False


class _Outputs(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_null_number(cls, value: Any, info: ValidationInfo) -> Any:
        # `X | None = None` makes a key optional; it must not make an explicit null a
        # valid number (`max_lag_seconds: null` would disable the lag guard's limit).
        field = cls.model_fields.get(info.field_name or "")
        if value is None and field is not None and _wants_number(field.annotation):
            raise ValueError("a number is needed, not null (leave the key out for its default)")
        return value


class Objectives(_Outputs):
    rto_minutes: Annotated[StrictFloat, Field(gt=0)] | None = None
    rpo_seconds: Seconds | None = None


class PrimaryOutputs(_Outputs):
    region: Region | None = None
    eks_cluster_name: StrictStr | None = None
    app_url: Url | None = None
    rds_instance_id: StrictStr | None = None
    rds_instance_arn: StrictStr | None = None
    rds_parameter_group_name: StrictStr | None = None
    dynamodb_table_names: Names | None = None
    bucket_names: dict[StrictStr, StrictStr] | None = None
    ecr_repository_names: Names | None = None
    secret_arns: Names | None = None
    kubeconfig: Kubeconfig | None = None
    deployments: dict[StrictStr, Replicas] | None = None
    image_tags: dict[StrictStr, StrictStr] | None = None
    db_engine: Engine | None = None
    # rds.engine: aurora-mysql (the primary cluster of the global database)
    aurora_global_cluster_id: StrictStr | None = None
    aurora_cluster_id: StrictStr | None = None
    aurora_cluster_arn: ClusterArn | None = None
    rds_address: StrictStr | None = None
    rds_master_secret_arn: StrictStr | None = None
    rds_master_secret_replica_arns: Names | None = None
    rds_kms_key_arn: StrictStr | None = None
    # The app's own login (never the master's), and its replica per DR region.
    app_secret_arn: StrictStr | None = None
    app_secret_replica_arns: Names | None = None


class WarmStandbyOutputs(_Outputs):
    region: Region | None = None
    strategy: StrictStr | None = None
    eks_cluster_name: StrictStr | None = None
    app_url: Url | None = None
    replica_instance_id: StrictStr | None = None
    replica_instance_arn: StrictStr | None = None
    dynamodb_table_names: Names | None = None
    dr_bucket_names: dict[StrictStr, StrictStr] | None = None
    health_check_id: StrictStr | None = None
    hosted_zone_id: StrictStr | None = None
    record_fqdn: StrictStr | None = None
    failover_function_name: StrictStr | None = None
    kubeconfig: Kubeconfig | None = None
    failover_switch_id: StrictStr | None = None
    lock_table_name: StrictStr | None = None
    sns_topic_arn: StrictStr | None = None
    deployments: dict[StrictStr, Replicas] | None = None
    standby_deployments: dict[StrictStr, Replicas] | None = None
    image_tags: dict[StrictStr, StrictStr] | None = None
    max_lag_seconds: Seconds | None = None
    objectives: Objectives | None = None
    db_engine: Engine | None = None
    # rds.engine: aurora-mysql (the secondary cluster of the global database)
    aurora_global_cluster_id: StrictStr | None = None
    replica_cluster_id: StrictStr | None = None
    replica_cluster_arn: ClusterArn | None = None
    replica_address: StrictStr | None = None
    replica_master_secret_arn: StrictStr | None = None
    replica_kms_key_arn: StrictStr | None = None
    # The replica, in this region, of the app's own login secret.
    app_secret_arn: StrictStr | None = None


class PilotLightOutputs(_Outputs):
    location: StrictStr | None = None
    strategy: StrictStr | None = None
    resource_group_name: StrictStr | None = None
    storage_account_name: StrictStr | None = None
    backup_container: StrictStr | None = None
    health_check_id: StrictStr | None = None
    failover_switch_id: StrictStr | None = None
    record_fqdn: StrictStr | None = None
    mysql_server_fqdn: StrictStr | None = None
    app_gateway_ip: StrictStr | None = None
    objectives: Objectives | None = None


# What each command cannot run without, per role (everything else is optional and
# checked only for its type). Failover needs nothing of the primary: it runs with the
# primary region dark.
REQUIRED: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "status": {DR: ("region",), PRIMARY: ()},
    "failover": {DR: ("region", "replica_instance_id", "failover_switch_id", "lock_table_name")},
    "failback": {
        DR: ("region", "replica_instance_id", "failover_switch_id", "lock_table_name"),
        PRIMARY: ("region", "rds_instance_id"),
    },
    "report": {DR: ()},
}
# The same commands on an Aurora global database: the DR side is named by the global
# cluster and the secondary cluster's ARN, failback switches over to the primary cluster.
_AURORA_DR = ("region", "aurora_global_cluster_id", "replica_cluster_arn")
REQUIRED_AURORA: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "status": {DR: ("region", "aurora_global_cluster_id", "replica_cluster_id"), PRIMARY: ()},
    "failover": {DR: (*_AURORA_DR, "failover_switch_id", "lock_table_name")},
    "failback": {
        DR: (*_AURORA_DR, "failover_switch_id", "lock_table_name"),
        PRIMARY: ("region", "aurora_cluster_arn"),
    },
    "report": {DR: ()},
}


def required_keys(command: str, role: str, values: Mapping[str, Any]) -> tuple[str, ...]:
    engine = db_engine(values)
    if engine not in DB_ENGINES:
        return ()  # the model reports the unknown engine; guessing its keys would add noise
    table = REQUIRED_AURORA if engine == AURORA_MYSQL else REQUIRED
    return table.get(command, {}).get(role, ())


def strategy_of(values: Mapping[str, Any]) -> str:
    """A DR stack's strategy; stacks that predate the output are warm standby."""
    declared = values.get("strategy")
    if declared is None:
        return PILOT_LIGHT if "location" in values else WARM_STANDBY
    return str(declared)


def _model(role: str, values: Mapping[str, Any]) -> type[_Outputs]:
    if role == PRIMARY:
        return PrimaryOutputs
    return PilotLightOutputs if strategy_of(values) == PILOT_LIGHT else WarmStandbyOutputs


def _shown(key: str, value: Any) -> str:
    if key in SECRET_KEYS:
        return "value not shown: secret"
    text = json.dumps(value, default=str)
    return "got " + (text if len(text) <= 60 else text[:57] + "...")


def _error_lines(stack: str, error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors(include_url=False):
        path = [str(p) for p in problem["loc"]]
        message = problem["msg"].removeprefix("Value error, ")
        shown = _shown(path[0], problem.get("input"))
        lines.append(f"{stack}.{'.'.join(path)}: {message[:1].lower()}{message[1:]} ({shown})")
    return lines


def stack_problems(
    stack: str, role: str, values: Mapping[str, Any], required: Iterable[str]
) -> list[str]:
    problems = [
        f"{stack}.{key}: missing (this command needs it)"
        for key in required
        if values.get(key) in (None, "")
    ]
    if role == DR and "strategy" in values and values["strategy"] not in STRATEGIES:
        problems.append(
            f"{stack}.strategy: expected one of {', '.join(STRATEGIES)} "
            f"({_shown('strategy', values['strategy'])})"
        )
    try:
        _model(role, values).model_validate(dict(values))
    except ValidationError as exc:
        problems += _error_lines(stack, exc)
    return problems


def _engine_mismatch(outputs: StackOutputs, roles: Mapping[str, str]) -> list[str]:
    """Both sides of one database must agree on the engine (a stale outputs file of one
    stack after `rds.engine` changed would send the failover to the wrong API). A pilot
    light restores into its own database, whatever the primary's engine."""
    engines = {
        stack: db_engine(outputs.stack(stack))
        for stack, role in roles.items()
        if outputs.has(stack)
        and db_engine(outputs.stack(stack)) in DB_ENGINES
        and (role == PRIMARY or strategy_of(outputs.stack(stack)) == WARM_STANDBY)
    }
    if len(set(engines.values())) <= 1:
        return []
    shown = ", ".join(f"{stack}.db_engine = {engine}" for stack, engine in engines.items())
    return [f"db_engine: the stacks disagree ({shown}); re-export the stale stack's outputs"]


def validate_outputs(outputs: StackOutputs, command: str, roles: Mapping[str, str]) -> None:
    """Raise one ``OutputsError`` listing every problem, one line each."""
    problems: list[str] = []
    for stack, role in roles.items():
        values = outputs.stack(stack) if outputs.has(stack) else {}
        required = required_keys(command, role, values)
        if not outputs.has(stack):
            if required:
                problems.append(f"{stack}: no outputs for this stack (this command needs it)")
            continue
        problems += stack_problems(stack, role, values, required)
    problems += _engine_mismatch(outputs, roles)
    if problems:
        raise OutputsError(
            f"{outputs.source}: {len(problems)} problem(s), nothing was changed:\n  "
            + "\n  ".join(problems)
        )
