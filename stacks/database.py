"""The database of each AWS stack, by ``rds.engine``: RDS for MySQL (an instance and its
cross-region read replica) or Aurora MySQL (a global database: primary cluster in the
primary stack, secondary cluster in the warm standby).

Each builder returns what the composition needs whatever the engine: the endpoint and
credential secret the app uses, the stack outputs, and the engine-specific inputs of the
failover automation and the DR dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.app_db_user import AppDbCredential, AppDbCredentialArgs, AppUserSpec
from components.aurora_global import AuroraGlobal, AuroraGlobalArgs
from components.eks_region import EksRegion
from components.rds_replica import RdsReplica, RdsReplicaArgs
from stacks.config import ConfigError, StackConfig
from stacks.cross_stack import checked_db_engine
from stacks.shared import data_tags, region_provider
from stacks.validation import AURORA_SECONDARY_SUFFIX, RDS_REPLICA_SUFFIX

AURORA = "aurora-mysql"


@dataclass(frozen=True)
class Database:
    address: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    outputs: dict[str, Any]
    # Primary only: the app's own login (its secret, and what the Job that creates it reads).
    app_user: AppUserSpec | None = None
    # Standby only: what FailoverAutomationArgs and DrDashboardArgs take for this engine.
    automation: dict[str, Any] = field(default_factory=dict)
    dashboard: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- primary


def primary_database(cfg: StackConfig, provider: aws.Provider, eks: EksRegion) -> Database:
    secret_replica_providers = {
        region: region_provider(f"{region}-secret-replica", region, cfg)
        for region in cfg.rds.secret_replica_regions
    }
    if cfg.rds.engine == AURORA:
        db = _aurora_primary(cfg, provider, eks, secret_replica_providers)
    else:
        db = _rds_primary(cfg, provider, eks, secret_replica_providers)
    return _with_app_login(cfg, provider, db, secret_replica_providers)


def _with_app_login(
    cfg: StackConfig, provider: aws.Provider, db: Database, secret_providers: dict
) -> Database:
    """The app's own login, in a secret replicated like the master's (DESIGN: the app is
    not the master user). Created here, on the primary, with the same regions."""
    rds = cfg.rds
    login = AppDbCredential(
        "app-db",
        AppDbCredentialArgs(
            provider=provider,
            identifier=rds.identifier,
            username=rds.app_username,
            db_name=rds.db_name,
            kms_key_arn=db.outputs["rds_kms_key_arn"],
            password_version=rds.app_password_version,
            replica_providers=secret_providers,
            tags=data_tags(cfg, rds.identifier),
        ),
    )
    outputs = {
        **db.outputs,
        # The app's login: what the app reads here, and (region -> replica ARN) what a DR
        # stack wires its app to without any call to this region.
        "app_secret_arn": login.secret_arn,
        "app_secret_replica_arns": login.replica_arns,
    }
    user = AppUserSpec(
        master_secret_arn=db.master_secret_arn,
        app_secret_arn=login.secret_arn,
        credential_version=login.version_id,
    )
    return replace(db, outputs=outputs, app_user=user)


def _rds_primary(
    cfg: StackConfig, provider: aws.Provider, eks: EksRegion, secret_providers: dict
) -> Database:
    rds = RdsReplica(
        "primary-db",
        RdsReplicaArgs(
            provider=provider,
            mode="primary",
            rds=cfg.rds,
            identifier=cfg.rds.identifier,
            vpc_id=eks.vpc_id,
            subnet_ids=eks.private_subnet_ids,
            client_cidr=cfg.vpc_cidr,
            secret_replica_providers=secret_providers,
            tags=data_tags(cfg, cfg.rds.identifier),
        ),
    )
    outputs = {
        "db_engine": "mysql",
        "rds_instance_id": rds.instance_id,
        "rds_instance_arn": rds.instance_arn,
        "rds_address": rds.address,
        "rds_master_secret_arn": rds.master_secret_arn,
        # Region -> ARN of the credential secret's replica: what a DR stack wires its app
        # to, without any call to this region.
        "rds_master_secret_replica_arns": rds.master_secret_replica_arns,
        # What `drctl failback` needs to create the reverse replica here: a key, subnet
        # group and security group in this region (the DR region's cannot be used).
        "rds_kms_key_arn": rds.kms_key_arn,
        "rds_subnet_group_name": rds.subnet_group_name,
        "rds_security_group_ids": [rds.security_group_id],
        "rds_parameter_group_name": rds.parameter_group_name,
    }
    return Database(rds.address, rds.master_secret_arn, outputs)


def _aurora_primary(
    cfg: StackConfig, provider: aws.Provider, eks: EksRegion, secret_providers: dict
) -> Database:
    rds = cfg.rds
    aurora = AuroraGlobal(
        "primary-db",
        AuroraGlobalArgs(
            provider=provider,
            role="primary",
            identifier=rds.identifier,
            global_identifier=cfg.aurora_global_cluster_id,
            engine_version=rds.aurora_engine_version,
            instance_class=rds.aurora_instance_class,
            vpc_id=eks.vpc_id,
            subnet_ids=eks.private_subnet_ids,
            client_cidr=cfg.vpc_cidr,
            backup_retention_days=rds.backup_retention_days,
            instance_count=2 if rds.multi_az else 1,
            db_name=rds.db_name,
            master_username=rds.master_username,
            password_version=rds.password_version,
            secret_replica_providers=secret_providers,
            tags=data_tags(cfg, rds.identifier),
        ),
    )
    # No rds_instance_* and no reverse-replica network outputs: failback on Aurora is a
    # switchover of the global database, not a new replica in this region.
    outputs = {
        "db_engine": AURORA,
        "aurora_global_cluster_id": aurora.global_cluster_id,
        "aurora_cluster_id": aurora.cluster_id,
        "aurora_cluster_arn": aurora.cluster_arn,
        # What the secondary must match (policy aurora-engine-versions-equal).
        "aurora_engine_version": rds.aurora_engine_version,
        "rds_address": aurora.endpoint,
        "rds_master_secret_arn": aurora.master_secret_arn,
        "rds_master_secret_replica_arns": aurora.master_secret_replica_arns,
        "rds_kms_key_arn": aurora.kms_key_arn,
    }
    return Database(aurora.endpoint, aurora.master_secret_arn, outputs)


# --------------------------------------------------------------------------- standby


def standby_database(
    cfg: StackConfig,
    primary: pulumi.StackReference,
    dr: aws.Provider,
    eks: EksRegion,
    secret_arn: pulumi.Output[Any],
) -> Database:
    """The standby's copy, attached through the StackReference only: nothing here reads
    or calls the primary region (it may be dark when a failover toggle is applied).
    ``secret_arn``: the credential secret's replica in this region."""
    engine = checked_db_engine(primary, cfg)
    if cfg.rds.engine == AURORA:
        return _aurora_secondary(cfg, primary, dr, eks, secret_arn, engine)
    return _rds_replica(cfg, primary, dr, eks, secret_arn, engine)


def _after_engine_check(
    engine: pulumi.Output[str], primary: pulumi.StackReference, output: str
) -> pulumi.Output[Any]:
    """A primary output this engine needs, resolved only once the engines agree: a
    primary on the other engine is refused by name, not by a missing output."""

    def pick(values: list[Any]) -> Any:
        if values[1] is None:
            raise ConfigError(
                f"primary stack {primary.name} has no output {output} (a {values[0]} primary "
                "exports it once deployed with this drstack version)"
            )
        return values[1]

    return pulumi.Output.all(engine, primary.get_output(output)).apply(pick)


def _rds_replica(
    cfg: StackConfig,
    primary: pulumi.StackReference,
    dr: aws.Provider,
    eks: EksRegion,
    secret_arn: pulumi.Output[Any],
    engine: pulumi.Output[str],
) -> Database:
    replica = RdsReplica(
        "dr-db",
        RdsReplicaArgs(
            provider=dr,
            mode="replica",
            rds=cfg.rds,
            identifier=f"{cfg.name_prefix}{RDS_REPLICA_SUFFIX}",
            vpc_id=eks.vpc_id,
            subnet_ids=eks.private_subnet_ids,
            client_cidr=cfg.vpc_cidr,
            source_arn=_after_engine_check(engine, primary, "rds_instance_arn"),
            master_secret_arn=secret_arn,
            promoted=cfg.promote_replica,
            tags=cfg.base_tags,
        ),
    )
    outputs = {
        "db_engine": engine,
        "replica_instance_id": replica.instance_id,
        "replica_instance_arn": replica.instance_arn,
        "replica_kms_key_arn": replica.kms_key_arn,
        "replica_address": replica.address,
        "replica_master_secret_arn": replica.master_secret_arn,
    }
    return Database(
        replica.address,
        replica.master_secret_arn,
        outputs,
        automation={
            "replica_instance_id": replica.instance_id,
            "replica_instance_arn": replica.instance_arn,
        },
        dashboard={"replica_instance_id": replica.instance_id},
    )


def _aurora_secondary(
    cfg: StackConfig,
    primary: pulumi.StackReference,
    dr: aws.Provider,
    eks: EksRegion,
    secret_arn: pulumi.Output[Any],
    engine: pulumi.Output[str],
) -> Database:
    rds = cfg.rds
    aurora = AuroraGlobal(
        "dr-db",
        AuroraGlobalArgs(
            provider=dr,
            role="secondary",
            identifier=f"{cfg.name_prefix}{AURORA_SECONDARY_SUFFIX}",
            # From the primary's outputs (the state backend), never looked up in Seoul.
            global_identifier=_after_engine_check(engine, primary, "aurora_global_cluster_id"),
            engine_version=rds.aurora_engine_version,
            instance_class=rds.aurora_instance_class,
            vpc_id=eks.vpc_id,
            subnet_ids=eks.private_subnet_ids,
            client_cidr=cfg.vpc_cidr,
            backup_retention_days=rds.backup_retention_days,
            # Once promoted it is the production primary: a reader in a second AZ, as
            # the RDS path goes Multi-AZ (CKV_AWS_157).
            instance_count=2 if (rds.multi_az or cfg.promote_replica) else 1,
            master_secret_arn=secret_arn,
            promoted=cfg.promote_replica,
            tags=cfg.base_tags,
        ),
    )
    outputs = {
        "db_engine": engine,
        "aurora_global_cluster_id": aurora.global_cluster_id,
        "replica_cluster_id": aurora.cluster_id,
        "replica_cluster_arn": aurora.cluster_arn,
        # The secondary's cluster (writer) endpoint: inactive until the failover promotes
        # the cluster, then the writer, so the app here needs no redeploy.
        "replica_address": aurora.endpoint,
        "replica_master_secret_arn": aurora.master_secret_arn,
        "replica_kms_key_arn": aurora.kms_key_arn,
    }
    return Database(
        aurora.endpoint,
        aurora.master_secret_arn,
        outputs,
        automation={
            "db_engine": AURORA,
            "global_cluster_id": aurora.global_cluster_id,
            "replica_cluster_id": aurora.cluster_id,
            "replica_cluster_arn": aurora.cluster_arn,
            # An ARN string from the primary's outputs: the failover role names both
            # member clusters, as AWS's sample policy does; no call into the primary.
            "primary_cluster_arn": _after_engine_check(engine, primary, "aurora_cluster_arn"),
        },
        dashboard={
            "db_engine": AURORA,
            "replica_cluster_id": aurora.cluster_id,
            "source_region": cfg.primary_region,
        },
    )
