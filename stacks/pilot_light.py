"""The `azure-pilot` stack: seed 001's Plan B attached to the Seoul primary.

Deploy order is seoul -> azure-pilot. This stack reads the primary through a
StackReference and owns everything that needs both sides: the Azure site, the scheduled
backup job on the Seoul cluster, and the Route 53 failover records.

Disaster procedure (seed 001 phase order, one `pulumi up` per step; failback reverses):
1. force_failover: true   -> DNS to the maintenance page (no VM needed)
2. emergency: true        -> MySQL Flexible Server, web/WAS VMs, Application Gateway
3. drctl restore          -> latest dump into MySQL (not an IaC step)
4. enable_petclinic: true -> the App Gateway routes to PetClinic instead of maintenance
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s

from components.azure_pilot_light import BACKUP_CONTAINER, AzurePilotLight, AzurePilotLightArgs
from components.backup_job import BackupCronJob, BackupCronJobArgs
from components.route53_failover import Route53Failover, Route53FailoverArgs
from stacks.config import StackConfig, secret_config
from stacks.cross_stack import checked_primary_region
from stacks.primary import static_region_provider

# Route 53 publishes health-check metrics only in us-east-1.
ALARM_REGION = "us-east-1"


def _short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def storage_account_names(cfg: StackConfig) -> tuple[str, str]:
    """(backups, maintenance) account names: global, 3-24 lowercase alphanumerics.

    Derived from the prefix and a hash of the stack, so two deployments (a drill copy, a
    second project) do not collide on Azure's global namespace.
    """
    if cfg.azure.storage_account_name:
        base = cfg.azure.storage_account_name
        return base, f"{base[:21]}web"
    prefix = re.sub(r"[^a-z0-9]", "", cfg.name_prefix)[:10] or "drstack"
    digest = _short_hash(cfg.stack, cfg.name_prefix, cfg.azure.location)
    return f"{prefix}drbk{digest}", f"{prefix}drweb{digest}"


def build_pilot_light(cfg: StackConfig) -> dict[str, Any]:
    assert cfg.primary_stack and cfg.primary_region  # parse_config guarantees both
    tags = cfg.base_tags
    primary = pulumi.StackReference(cfg.primary_stack)

    azure = azure_native.Provider("azure", location=cfg.azure.location)
    # The AWS side runs next to the primary: the backup job reads Seoul's RDS.
    # Static: configuring it calls nothing in Seoul (region-dark failover).
    aws_primary = static_region_provider("aws-primary", cfg.primary_region, cfg)
    aws_alarms = aws.Provider("aws-alarms", region=ALARM_REGION, default_tags={"tags": tags})
    seoul_cluster = k8s.Provider(
        "seoul-eks",
        kubeconfig=primary.require_output("kubeconfig"),
        # When Seoul is down, phase 2's `pulumi up` must still go through: resources on an
        # unreachable cluster are left alone (update) or dropped from state (delete).
        skip_update_unreachable=True,
        delete_unreachable=True,
    )

    backups_account, maintenance_account = storage_account_names(cfg)
    app_host = primary.require_output("app_hostname")
    dns = cfg.dns
    zone_id: pulumi.Output[str] | None = None
    maintenance_domain = None
    asverify = []
    if dns.manage_records:
        zone_id = aws.route53.get_zone_output(
            name=dns.zone,
            private_zone=False,
            opts=pulumi.InvokeOutputOptions(provider=aws_primary),
        ).zone_id
        # Lets the maintenance account accept requests for the service name before that
        # name points at Azure (Azure validates asverify.<name> -> asverify.<account>...).
        asverify.append(
            aws.route53.Record(
                "maintenance-asverify",
                zone_id=zone_id,
                name=f"asverify.{dns.fqdn}",
                type="CNAME",
                ttl=300,
                records=[f"asverify.{maintenance_account}.blob.core.windows.net"],
                opts=pulumi.ResourceOptions(provider=aws_primary),
            )
        )
        maintenance_domain = dns.fqdn

    site = AzurePilotLight(
        "pilot",
        AzurePilotLightArgs(
            provider=azure,
            location=cfg.azure.location,
            resource_group_name=f"{cfg.name_prefix}-pilot-light-{cfg.azure.location}",
            vnet_cidr=cfg.azure.vnet_cidr,
            storage_account_name=backups_account,
            maintenance_account_name=maintenance_account,
            mysql_server_name=f"{cfg.name_prefix}-dr-mysql-{_short_hash(cfg.stack, cfg.name_prefix)}",
            backup=cfg.backup,
            azure=cfg.azure,
            emergency=cfg.emergency,
            enable_petclinic=cfg.enable_petclinic,
            mysql_admin_password=secret_config("mysql_admin_password") if cfg.emergency else None,
            maintenance_domain=maintenance_domain,
            maintenance_domain_depends_on=asverify,
            # Failed over (or recovering): the newest dump may be the only copy left.
            freeze_retention=cfg.force_failover or cfg.emergency,
            dns_label=f"{cfg.name_prefix}-dr-{_short_hash(cfg.stack, cfg.name_prefix)}",
            tags=tags,
        ),
    )

    backup_job = BackupCronJob(
        "backup",
        BackupCronJobArgs(
            k8s_provider=seoul_cluster,
            aws_provider=aws_primary,
            cluster_name=primary.require_output("eks_cluster_name"),
            region=cfg.primary_region,
            image=cfg.backup.image,
            interval_minutes=cfg.backup.interval_minutes,
            source_host=primary.require_output("rds_address"),
            source_secret_arn=primary.require_output("rds_master_secret_arn"),
            database=cfg.rds.db_name,
            container=BACKUP_CONTAINER,
            fmt=cfg.backup.format,
            retention_days=cfg.backup.retention_days,
            connection_string=site.connection_string,
            tags=tags,
        ),
    )

    outputs: dict[str, Any] = {
        "strategy": cfg.strategy,
        # Refuses a drstack:primary_region that is not the primary stack's region.
        "primary_region": checked_primary_region(primary, cfg),
        "location": cfg.azure.location,
        "resource_group_name": site.resource_group_name,
        "storage_account_name": site.storage_account_name,
        "backup_container": site.backup_container,
        "backup_connection_string": site.connection_string,  # secret: for drctl restore
        "backup_schedule": backup_job.schedule,
        "backup_job_name": backup_job.job_name,
        "backup_job_namespace": backup_job.namespace,
        "maintenance_url": site.maintenance_host.apply(lambda h: f"https://{h}/"),
        "emergency": cfg.emergency,
        "routing_target": site.routing_target,
    }

    if dns.manage_records:
        assert zone_id is not None
        # The secondary stays a CNAME in every phase (a failover pair must share one record
        # type, and the primary is the Seoul load balancer's host name): the maintenance
        # site normally, the App Gateway's DNS name once the emergency site exists.
        secondary = (
            site.app_gateway_fqdn
            if cfg.emergency and site.app_gateway_fqdn is not None
            else site.maintenance_host
        )
        failover = Route53Failover(
            "failover",
            Route53FailoverArgs(
                zone_id=zone_id,
                record_name=dns.fqdn,
                primary_fqdn=app_host,
                primary_target=app_host,
                secondary_target=secondary,
                health_check=dns.health_check,
                ttl=dns.ttl,
                force_failover=cfg.force_failover,
                alarm_provider=aws_alarms,
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(providers=[aws_primary]),
        )
        outputs.update(
            hosted_zone_id=zone_id,
            health_check_id=failover.health_check_id,
            failover_switch_id=failover.switch_health_check_id,
            record_fqdn=failover.record_fqdn,
        )

    if cfg.emergency:
        outputs.update(
            mysql_server_fqdn=site.mysql_server_fqdn,
            mysql_database_name=site.mysql_database_name,
            app_gateway_ip=site.app_gateway_ip,
            app_gateway_fqdn=site.app_gateway_fqdn,
        )
    return outputs
