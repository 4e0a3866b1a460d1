"""The warm-standby DR stack (``tokyo``): Plan A of seed 000.

It attaches to the primary through a StackReference and owns everything that needs both
sides: the RDS cross-region replica, the DynamoDB replica, the DR buckets and the
replication rules on the primary's buckets, ECR and secret replication, the DNS failover
records and the automated-failover wiring. Each region is reached through an explicit
provider.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.dr_dashboard import DrDashboard, DrDashboardArgs
from components.dynamo_global_table import DynamoGlobalTable, DynamoGlobalTableArgs
from components.eks_region import EksRegion
from components.failover_automation import FailoverAutomation, FailoverAutomationArgs
from components.route53_failover import Route53Failover, Route53FailoverArgs
from components.s3_cross_region import S3CrossRegion, S3CrossRegionArgs
from stacks.config import NAMESPACE, ConfigError, StackConfig
from stacks.cross_stack import checked_primary_region
from stacks.database import Database, standby_database
from stacks.shared import data_tags, region_cluster, region_provider, static_region_provider

# Route 53 health-check metrics exist only in us-east-1.
ROUTE53_METRICS_REGION = "us-east-1"


def output_item(primary: pulumi.StackReference, output: str, key: str) -> pulumi.Output[Any]:
    """One entry of a mapping output of the primary, with an error that names both."""

    def pick(mapping: Any) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            raise ConfigError(
                f"primary stack output {output} has no {key!r}: the DR stack config lists data "
                "the primary does not export"
            )
        return mapping[key]

    return primary.get_output(output).apply(pick)


def https_endpoint(cfg: StackConfig, primary: pulumi.StackReference) -> pulumi.Output[str]:
    """The primary's load balancer host for the HTTPS probe, refused when the primary
    serves no TLS there: the probe could never pass and failover would fire at once."""

    def checked(values: list[Any]) -> str:
        host, tls = values
        if tls is not True:
            raise ConfigError(
                f"{NAMESPACE}:dns.health_check probes https://{host}:{cfg.dns.health_check.port} "
                f"but the primary stack {cfg.primary_stack} serves no TLS there: set app.domain "
                "(and app.zone) or app.certificate_arn in the primary's stack config"
            )
        return str(host)

    return pulumi.Output.all(
        primary.get_output("app_hostname"), primary.get_output("app_tls")
    ).apply(checked)


def replicated(cfg: StackConfig, *names: str) -> bool:
    return not any(n in cfg.sovereign_data for n in names)


def build_warm_standby(cfg: StackConfig) -> dict[str, Any]:
    assert cfg.primary_stack and cfg.primary_region  # guaranteed by parse_config
    primary = pulumi.StackReference(cfg.primary_stack)
    dr = region_provider(cfg.region, cfg.region, cfg)
    # The failover path (`pulumi up -s tokyo` with force_failover/promote_replica) runs
    # while the primary region is dark: its provider makes no call at configure time.
    source = static_region_provider(f"{cfg.primary_region}-source", cfg.primary_region, cfg)
    metrics = region_provider(ROUTE53_METRICS_REGION, ROUTE53_METRICS_REGION, cfg)
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=dr))
    eks = region_cluster(cfg, "dr", dr, f"{cfg.name_prefix}-dr-cluster")
    # The credential secret's replica in this region: readable with the primary dark.
    secret_arn = output_item(primary, "rds_master_secret_replica_arns", cfg.region)
    replica = standby_database(cfg, primary, dr, eks, secret_arn)
    # The app's own login (never the master's): its secret's replica here. The user
    # itself reaches this database by replication, so nothing creates it in Tokyo.
    app_secret_arn = output_item(primary, "app_secret_replica_arns", cfg.region)
    # The replica keeps its endpoint when promoted, and the secret's replica lives here:
    # after a failover the Tokyo app writes to the promoted database without a redeploy.
    eks.deploy_workloads(replica.address, app_secret_arn)
    tables = _replicated_tables(cfg, primary, dr)
    s3 = _replicated_buckets(cfg, source, dr)
    _ecr_replication(cfg, source, dr, identity)
    secrets = _replicated_secrets(cfg, source, dr)
    outputs = _standby_outputs(cfg, primary, eks, replica, tables, s3, secrets)
    outputs["app_secret_arn"] = app_secret_arn
    if cfg.dns.manage_records:
        outputs.update(_dns_failover(cfg, primary, dr, metrics, eks, replica))
    return outputs


def _replicated_tables(
    cfg: StackConfig, primary: pulumi.StackReference, dr: aws.Provider
) -> dict[str, DynamoGlobalTable]:
    return {
        table: DynamoGlobalTable(
            f"dr-table-{table}",
            DynamoGlobalTableArgs(
                provider=dr,
                table_name=table,
                hash_key=hash_key,
                replica_of_arn=output_item(primary, "dynamodb_table_arns", table),
                tags=data_tags(cfg, table),
            ),
        )
        for table, hash_key in cfg.dynamodb_tables.items()
        if replicated(cfg, table)
    }


def _replicated_buckets(cfg: StackConfig, source: aws.Provider, dr: aws.Provider) -> S3CrossRegion:
    return S3CrossRegion(
        "dr-s3",
        S3CrossRegionArgs(
            source_provider=source,
            dr_provider=dr,
            source_buckets={
                role: name for role, name in cfg.buckets.items() if replicated(cfg, role, name)
            },
            replication_time_control=cfg.s3_rtc,
            reverse_replication=cfg.reverse_replication,
            tags=cfg.base_tags,
        ),
    )


def _ecr_replication(
    cfg: StackConfig, source: aws.Provider, dr: aws.Provider, identity: Any
) -> None:
    # ECR replication is one registry-wide setting in the source region: the DR stack
    # owns it (the primary must not declare one, or the two stacks would overwrite it).
    # Only images pushed after it exists are replicated.
    aws.ecr.ReplicationConfiguration(
        "ecr-replication",
        replication_configuration=aws.ecr.ReplicationConfigurationReplicationConfigurationArgs(
            rules=[
                aws.ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                    destinations=[
                        aws.ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                            region=cfg.region, registry_id=identity.account_id
                        )
                    ],
                    repository_filters=[
                        aws.ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                            filter=repo, filter_type="PREFIX_MATCH"
                        )
                        for repo in cfg.ecr_repositories
                    ]
                    or None,
                )
            ]
        ),
        opts=pulumi.ResourceOptions(provider=source),
    )

    # Replication creates the Tokyo repositories itself, with ECR's defaults (MUTABLE
    # tags). This template makes them immutable like the Seoul ones, so a replicated tag
    # can never drift from Seoul's. It must exist before the first image is pushed.
    aws.ecr.RepositoryCreationTemplate(
        "ecr-replica-template",
        prefix="ROOT",
        applied_fors=["REPLICATION"],
        description="drstack: repositories ECR replication creates in the DR region",
        image_tag_mutability="IMMUTABLE",
        encryption_configurations=[
            aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(encryption_type="AES256")
        ],
        resource_tags=cfg.base_tags,
        opts=pulumi.ResourceOptions(provider=dr),
    )


def _replicated_secrets(
    cfg: StackConfig, source: aws.Provider, dr: aws.Provider
) -> list[aws.secretsmanager.Secret]:
    # Application secrets the DR site needs are created here with a replica in the DR
    # region (Secrets Manager has no separate replica resource); their values are set
    # out of band and never pass through config or state.
    secrets_key = aws.kms.Key(
        "dr-secrets-kms",
        description="Replica encryption for drstack application secrets",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        opts=pulumi.ResourceOptions(provider=dr),
    )
    return [
        aws.secretsmanager.Secret(
            f"secret-{name.replace('/', '-')}",
            name=name,
            description=f"{name} (replicated to {cfg.region} for DR)",
            replicas=[
                aws.secretsmanager.SecretReplicaArgs(region=cfg.region, kms_key_id=secrets_key.arn)
            ],
            recovery_window_in_days=30,
            tags=cfg.base_tags,
            opts=pulumi.ResourceOptions(provider=source),
        )
        for name in cfg.secrets
    ]


def _standby_outputs(
    cfg: StackConfig,
    primary: pulumi.StackReference,
    eks: EksRegion,
    replica: Database,
    tables: dict[str, DynamoGlobalTable],
    s3: S3CrossRegion,
    secrets: list[aws.secretsmanager.Secret],
) -> dict[str, Any]:
    return {
        "region": cfg.region,
        # Refuses a drstack:primary_region that is not the primary stack's region.
        "primary_region": checked_primary_region(primary, cfg),
        "strategy": cfg.strategy,
        "eks_cluster_name": eks.cluster_name,
        "app_hostname": eks.app_hostname,
        "app_url": eks.app_url,
        "app_tls": eks.app_tls,
        # db_engine and the standby database's ids, endpoint and secret (stacks/database.py).
        **replica.outputs,
        "dynamodb_table_names": [t.table_name for t in tables.values()],
        "dr_bucket_names": s3.dr_bucket_names,
        "secret_arns": [s.arn for s in secrets],
        "max_lag_seconds": cfg.rds.max_lag_seconds,
        "objectives": {
            "rto_minutes": cfg.objectives.rto_minutes,
            "rpo_seconds": cfg.objectives.rpo_seconds,
        },
        # Failover scales the standby deployments to the primary's counts.
        "deployments": primary.get_output("deployments"),
        "standby_deployments": eks.deployments,
        "image_tags": dict(cfg.image_tags),
        "kubeconfig": eks.kubeconfig,
    }


def _dns_failover(
    cfg: StackConfig,
    primary: pulumi.StackReference,
    dr: aws.Provider,
    metrics: aws.Provider,
    eks: EksRegion,
    replica: Database,
) -> dict[str, Any]:
    assert cfg.primary_stack and cfg.primary_region  # guaranteed by parse_config
    zone = aws.route53.get_zone_output(name=cfg.dns.zone, opts=pulumi.InvokeOptions(provider=dr))
    primary_host = https_endpoint(cfg, primary)
    failover = Route53Failover(
        "dns",
        Route53FailoverArgs(
            zone_id=zone.zone_id,
            record_name=cfg.dns.fqdn,
            primary_fqdn=primary_host,
            primary_target=primary_host,
            secondary_target=eks.app_hostname,
            health_check=cfg.dns.health_check,
            ttl=cfg.dns.ttl,
            force_failover=cfg.force_failover,
            alarm_provider=metrics,
            # FailoverAutomation owns the alarm on the probe: its evaluation periods
            # are seed 004's consecutive-failures guard.
            create_alarm=False,
            tags=cfg.base_tags,
        ),
        opts=pulumi.ResourceOptions(provider=dr),
    )
    automation = FailoverAutomation(
        f"{cfg.stack}-auto",
        FailoverAutomationArgs(
            provider=dr,
            metrics_provider=metrics,
            dr_region=cfg.region,
            primary_region=cfg.primary_region,
            health_check_id=failover.health_check_id,
            switch_health_check_id=failover.switch_health_check_id,
            app_url=pulumi.Output.concat("https://", cfg.dns.fqdn),
            dr_stack=cfg.stack,
            primary_stack=cfg.primary_stack,
            failure_threshold_seconds=cfg.automation.failover_threshold_seconds,
            max_lag_seconds=cfg.rds.max_lag_seconds,
            auto_promote=cfg.automation.auto_promote,
            tags=cfg.base_tags,
            **replica.automation,
        ),
    )
    dashboard = DrDashboard(
        f"{cfg.stack}-monitoring",
        DrDashboardArgs(
            provider=dr,
            dr_region=cfg.region,
            dashboard_name=f"{cfg.name_prefix}-{cfg.stack}-dr",
            health_check_id=failover.health_check_id,
            switch_health_check_id=failover.switch_health_check_id,
            function_name=automation.function_name,
            max_lag_seconds=cfg.rds.max_lag_seconds,
            **replica.dashboard,
        ),
    )
    return dict(
        dashboard_name=dashboard.dashboard_name,
        health_check_id=failover.health_check_id,
        failover_switch_id=failover.switch_health_check_id,
        hosted_zone_id=zone.zone_id,
        record_fqdn=failover.record_fqdn,
        failover_function_name=automation.function_name,
        lock_table_name=automation.lock_table_name,
        sns_topic_arn=automation.sns_topic_arn,
    )
