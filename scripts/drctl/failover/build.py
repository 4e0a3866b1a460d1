"""Wire the production adapters from stack outputs (shared by the CLI and the Lambda)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drctl.aws import ClientFactory
from drctl.engines import AURORA_MYSQL, db_engine
from drctl.failover.aurora import (
    FAILOVER,
    SWITCHOVER,
    AuroraGlobalDatabase,
    AuroraLagReader,
    cluster_id_of,
)
from drctl.failover.fence_credentials import fence_dsns
from drctl.failover.health import HttpHealthProbe
from drctl.failover.lock import DynamoDbLock
from drctl.failover.notify import SnsNotifier
from drctl.failover.primary_probe import PrimaryRegionProbe
from drctl.failover.protocols import Database, Notifier, Scaler
from drctl.failover.rds import CloudWatchLagReader, LagReader, RdsDatabase
from drctl.failover.rds_fence import RdsParameterGroupFence
from drctl.failover.rds_swap import DbLogin
from drctl.failover.route53 import Route53DnsSwitch
from drctl.failover.steps import FailoverContext, known_strategy
from drctl.stack_outputs import StackOutputs

ROUTE53_REGION = "us-east-1"  # Route 53 is global; its API endpoint lives in us-east-1
DEFAULT_MAX_LAG_SECONDS = 60.0


@dataclass
class FailoverOptions:
    dr_stack: str = "tokyo"
    primary_stack: str = "seoul"
    max_lag_seconds: float | None = None  # None: output max_lag_seconds, else 60
    accept_data_loss: bool = False
    reverse_replica_id: str | None = None
    promote_timeout_seconds: float = 1800.0
    health_timeout_seconds: float = 300.0
    sync_timeout_seconds: float = 1800.0
    scale_timeout_seconds: float = 600.0
    waiter_delay_seconds: int = 30
    poll_seconds: float = 5.0
    # The primary region is only looked at after failover acted, for at most this long.
    primary_timeout_seconds: float = 5.0
    # Planned mode on RDS: how long the replica may take to execute the fenced
    # primary's last binlog position (seconds when replication keeps up).
    drain_timeout_seconds: float = 300.0
    # Planned mode on RDS: how long RDS may take to apply read_only to the engine.
    fence_apply_timeout_seconds: float = 120.0
    take_over_lock_from: str | None = None
    # Failback: prove catch-up with executed GTIDs, logging in as the master user (its
    # replicated secret, read in the DR region). Off: ReplicaLag only (>= 0, within limit).
    gtid_proof: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def int_map(value: Any, key: str) -> dict[str, int]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"output {key} must be an object of deployment name -> replicas")
    return {str(name): int(count) for name, count in value.items()}


def default_reverse_replica_id(outputs: StackOutputs, options: FailoverOptions) -> str:
    if options.reverse_replica_id:
        return options.reverse_replica_id
    return f"{outputs.get(options.primary_stack, 'rds_instance_id')}-failback"


def reverse_replica_params(outputs: StackOutputs, primary: str) -> dict[str, Any]:
    """CreateDBInstanceReadReplica parameters of the failback's reverse replica, from the
    primary stack's outputs: its KMS key, subnet group and security groups (those of the
    DR region cannot be used in the primary region)."""
    params: dict[str, Any] = {
        "KmsKeyId": outputs.optional(primary, "rds_kms_key_arn"),
        "DBSubnetGroupName": outputs.optional(primary, "rds_subnet_group_name"),
        "VpcSecurityGroupIds": outputs.optional(primary, "rds_security_group_ids"),
        # The primary's binlog settings (what the binlog archive needs) carry over.
        "DBParameterGroupName": outputs.optional(primary, "rds_parameter_group_name"),
        "PubliclyAccessible": False,
        # It becomes the primary at the end of failback: protected from the start.
        "DeletionProtection": True,
        "CopyTagsToSnapshot": True,
    }
    return {key: value for key, value in params.items() if value not in (None, "", [])}


def kubernetes_scaler(outputs: StackOutputs, options: FailoverOptions) -> Scaler | None:
    kubeconfig = outputs.optional(options.dr_stack, "kubeconfig")
    deployments = int_map(outputs.optional(options.dr_stack, "deployments"), "deployments")
    if not kubeconfig or not deployments:
        return None
    from drctl.failover.kube import KubernetesScaler, apps_api_from_kubeconfig

    return KubernetesScaler(apps_api_from_kubeconfig(kubeconfig), sorted(deployments))


def build_context(
    outputs: StackOutputs,
    factory: ClientFactory,
    options: FailoverOptions,
    *,
    say: Callable[[str], None] = print,
    scaler: Scaler | None = None,
    lag_reader: LagReader | None = None,
    notifier: Notifier | None = None,
    with_health_probe: bool = True,
) -> FailoverContext:
    dr, primary = options.dr_stack, options.primary_stack
    # First: an unknown strategy must stop the run before any client or step exists.
    strategy = known_strategy(str(outputs.optional(dr, "strategy", "warm-standby")), dr)
    dr_region = outputs.get(dr, "region")
    primary_region = outputs.optional(primary, "region")
    reverse_rds = factory.client("rds", primary_region) if primary_region else None
    database = _database(outputs, factory, options, reverse_rds, lag_reader)
    # The switch, not the primary's probe: inverting a probe that is already failing
    # would make it healthy and send traffic back to a dead primary.
    dns = Route53DnsSwitch(
        factory.client("route53", ROUTE53_REGION), outputs.get(dr, "failover_switch_id")
    )
    lock = DynamoDbLock(factory.client("dynamodb", dr_region), outputs.get(dr, "lock_table_name"))
    topic = outputs.optional(dr, "sns_topic_arn")
    if notifier is None and topic:
        notifier = SnsNotifier(factory.client("sns", dr_region), topic)
    app_url = outputs.optional(dr, "app_url")
    max_lag = options.max_lag_seconds
    if max_lag is None:
        max_lag = float(outputs.optional(dr, "max_lag_seconds", DEFAULT_MAX_LAG_SECONDS))
    return FailoverContext(
        database=database,
        dns=dns,
        lock=lock,
        scaler=scaler,
        health=(
            HttpHealthProbe(app_url, expect_region=dr_region)
            if app_url and with_health_probe
            else None
        ),
        notifier=notifier,
        dr_stack=dr,
        primary_stack=primary,
        strategy=strategy,
        full_replicas=int_map(outputs.optional(dr, "deployments"), "deployments"),
        standby_replicas=int_map(
            outputs.optional(dr, "standby_deployments"), "standby_deployments"
        ),
        max_lag_seconds=max_lag,
        accept_data_loss=options.accept_data_loss,
        promote_timeout_seconds=options.promote_timeout_seconds,
        scale_timeout_seconds=options.scale_timeout_seconds,
        health_timeout_seconds=options.health_timeout_seconds,
        sync_timeout_seconds=options.sync_timeout_seconds,
        poll_seconds=options.poll_seconds,
        say=say,
        take_over_from=options.take_over_lock_from,
        primary=_primary_probe(outputs, options, reverse_rds),
        primary_timeout_seconds=options.primary_timeout_seconds,
        fence=_write_fence(outputs, factory, options, reverse_rds),
        drain_timeout_seconds=options.drain_timeout_seconds,
    )


def _write_fence(
    outputs: StackOutputs, factory: ClientFactory, options: FailoverOptions, primary_rds: Any
) -> RdsParameterGroupFence | None:
    """Planned mode on RDS only: Aurora's switchover fences itself, and the unplanned
    path never touches the primary region."""
    dr, primary = options.dr_stack, options.primary_stack
    if options.extra.get("mode") != "planned" or is_aurora(outputs, dr) or primary_rds is None:
        return None
    primary_id = outputs.optional(primary, "rds_instance_id")
    if not primary_id:
        return None
    # The master credential is read only when the preflight asks (never on --dry-run).
    return RdsParameterGroupFence(
        primary_rds,
        primary_id,
        functools.partial(fence_dsns, outputs, factory, dr, primary),
        apply_timeout_seconds=options.fence_apply_timeout_seconds,
        poll_seconds=options.poll_seconds,
    )


def is_aurora(outputs: StackOutputs, stack: str) -> bool:
    return outputs.has(stack) and db_engine(outputs.stack(stack)) == AURORA_MYSQL


def _database(
    outputs: StackOutputs,
    factory: ClientFactory,
    options: FailoverOptions,
    reverse_rds: Any,
    lag_reader: LagReader | None,
) -> Database:
    """The DR database adapter the stack's ``db_engine`` calls for."""
    if is_aurora(outputs, options.dr_stack):
        return aurora_database(outputs, factory, options, lag_reader)
    replica_id = outputs.get(options.dr_stack, "replica_instance_id")
    reverse_id = (
        default_reverse_replica_id(outputs, options) if outputs.has(options.primary_stack) else None
    )
    return _rds_database(outputs, factory, options, replica_id, reverse_rds, reverse_id, lag_reader)


def aurora_database(
    outputs: StackOutputs,
    factory: ClientFactory,
    options: FailoverOptions,
    lag_reader: LagReader | None = None,
) -> AuroraGlobalDatabase:
    """Every failover call goes to the DR region's endpoint; only failback's reverse
    side (the primary-region cluster) uses the primary region's."""
    dr, primary = options.dr_stack, options.primary_stack
    dr_region = outputs.get(dr, "region")
    global_id = outputs.get(dr, "aurora_global_cluster_id")
    arn = outputs.get(dr, "replica_cluster_arn")
    planned = options.extra.get("mode") == "planned"
    reverse = None
    primary_arn = outputs.optional(primary, "aurora_cluster_arn")
    primary_region = outputs.optional(primary, "region")
    if primary_arn and primary_region:
        reverse = AuroraGlobalDatabase(
            factory.client("rds", primary_region),
            global_id,
            primary_arn,
            AuroraLagReader(
                factory.client("cloudwatch", primary_region),
                cluster_id_of(primary_arn),
                source_region=dr_region,  # after the failover, the DR side is the source
            ),
            action=SWITCHOVER,  # failback is always planned
            waiter_delay_seconds=options.waiter_delay_seconds,
        )
    return AuroraGlobalDatabase(
        factory.client("rds", dr_region),
        global_id,
        arn,
        lag_reader
        or AuroraLagReader(
            factory.client("cloudwatch", dr_region),
            cluster_id_of(arn),
            source_region=outputs.optional(dr, "primary_region") or primary_region,
        ),
        action=SWITCHOVER if planned else FAILOVER,
        reverse=reverse,
        waiter_delay_seconds=options.waiter_delay_seconds,
    )


def _rds_database(
    outputs: StackOutputs,
    factory: ClientFactory,
    options: FailoverOptions,
    replica_id: str,
    reverse_rds: Any,
    reverse_id: str | None,
    lag_reader: LagReader | None,
) -> RdsDatabase:
    dr_region = outputs.get(options.dr_stack, "region")
    primary_region = outputs.optional(options.primary_stack, "region")
    return RdsDatabase(
        factory.client("rds", dr_region),
        replica_id,
        lag_reader or CloudWatchLagReader(factory.client("cloudwatch", dr_region), replica_id),
        reverse_rds=reverse_rds,
        reverse_instance_id=reverse_id,
        reverse_create_kwargs=reverse_replica_params(outputs, options.primary_stack),
        reverse_lag_reader=(
            CloudWatchLagReader(factory.client("cloudwatch", primary_region), reverse_id)
            if primary_region and reverse_id
            else None
        ),
        reverse_lag_reader_for=(
            functools.partial(CloudWatchLagReader, factory.client("cloudwatch", primary_region))
            if primary_region
            else None
        ),
        waiter_delay_seconds=options.waiter_delay_seconds,
        primary_instance_id=outputs.optional(options.primary_stack, "rds_instance_id"),
        login=master_login(outputs, factory, options),
    )


def master_login(
    outputs: StackOutputs, factory: ClientFactory, options: FailoverOptions
) -> Callable[[], DbLogin] | None:
    """The master login from the secret's replica in the DR region (readable while the
    primary region is dark), read only when failback first needs it; None when
    gtid_proof is off or no secret is exported."""
    dr_region = outputs.get(options.dr_stack, "region")
    arns = outputs.optional(options.primary_stack, "rds_master_secret_replica_arns") or {}
    arn = arns.get(dr_region) if isinstance(arns, dict) else None
    if not options.gtid_proof or not arn:
        return None

    def read() -> DbLogin:
        secret = factory.client("secretsmanager", dr_region).get_secret_value(SecretId=arn)
        doc = json.loads(secret["SecretString"])
        return DbLogin(str(doc["username"]), str(doc["password"]))

    return read


def _primary_probe(
    outputs: StackOutputs, options: FailoverOptions, reverse_rds: Any
) -> PrimaryRegionProbe | None:
    """Looks at the primary region only after acting, with a short timeout."""
    primary = options.primary_stack
    if not outputs.has(primary):
        return None
    return PrimaryRegionProbe(
        reverse_rds,
        None if is_aurora(outputs, primary) else outputs.optional(primary, "rds_instance_id"),
        outputs.optional(primary, "app_url"),
        http_timeout_seconds=options.primary_timeout_seconds,
    )


def _database_facts(outputs: StackOutputs, options: FailoverOptions) -> dict[str, Any]:
    dr = options.dr_stack
    if not is_aurora(outputs, dr):
        return {"replica": outputs.optional(dr, "replica_instance_id", "?")}
    planned = options.extra.get("mode") == "planned"
    return {
        "global cluster": outputs.optional(dr, "aurora_global_cluster_id", "?"),
        "secondary cluster": outputs.optional(dr, "replica_cluster_arn", "?"),
        "aurora call": (
            "SwitchoverGlobalCluster (RPO 0)"
            if planned
            else "FailoverGlobalCluster AllowDataLoss=true (RPO = lag at failover)"
        ),
    }


def plan_lines(kind: str, outputs: StackOutputs, options: FailoverOptions) -> list[str]:
    """What a run would do, resolved from outputs only: no client, no API call."""
    from drctl.failover.steps import failback_steps, failover_steps

    dr, primary = options.dr_stack, options.primary_stack
    facts = {
        "DR region": outputs.optional(dr, "region", "?"),
        **_database_facts(outputs, options),
        "health check": outputs.optional(dr, "health_check_id", "?"),
        "failover switch": outputs.optional(dr, "failover_switch_id", "?"),
        "lock table": outputs.optional(dr, "lock_table_name", "?"),
        "app url": outputs.optional(dr, "app_url", "?"),
        "deployments": outputs.optional(dr, "deployments", {}),
    }
    if kind == "failback" and is_aurora(outputs, dr):
        facts["switch over back to"] = outputs.optional(primary, "aurora_cluster_arn", "?")
    elif kind == "failback" and outputs.has(primary):
        facts["reverse replica"] = default_reverse_replica_id(outputs, options)
        facts["takes the endpoint of"] = outputs.optional(primary, "rds_instance_id", "?")
    from drctl.failover.planned import MODE_PLANNED, planned_steps

    steps = failover_steps() if kind == "failover" else failback_steps()
    if kind == "failover" and options.extra.get("mode") == MODE_PLANNED:
        steps = planned_steps()
    lines = [f"{key}: {value}" for key, value in facts.items()]
    lines += [f"{i}. {step.name}: {step.summary}" for i, step in enumerate(steps, start=1)]
    return lines
