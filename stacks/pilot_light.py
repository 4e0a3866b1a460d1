"""The `azure-pilot` stack: seed 001's Plan B attached to the Seoul primary.

Deploy order is seoul -> azure-pilot -> azure-pilot-backup. This stack reads the primary
through a StackReference (the Pulumi state backend, never the Seoul region) and owns the
Azure site and the Route 53 failover records. It declares nothing in the primary region:
its `pulumi up` with any toggle works with Seoul dark (region-dark failover). What must
live in Seoul, the scheduled backup job, is the separate `azure-pilot-backup` stack
(stacks/pilot_light_backup.py), which is never on the failover path.

Disaster procedure (seed 001 phase order, one `pulumi up` per step; failback reverses):
1. force_failover: true   -> DNS to the maintenance page (no VM needed)
2. emergency: true        -> MySQL Flexible Server, web/WAS VMs, Application Gateway
3. run_restore: true      -> `drctl restore` of the latest dump, as a one-shot container
                             in the VNet (the Flexible Server is private)
4. enable_petclinic: true -> the App Gateway routes to PetClinic instead of maintenance
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native

from components.azure_backup_access import sas_expiry
from components.azure_pilot_light import AzurePilotLight, AzurePilotLightArgs
from components.route53_failover import Route53Failover, Route53FailoverArgs
from stacks.config import StackConfig, secret_config
from stacks.config_rules import restore_image
from stacks.cross_stack import checked_primary_region
from stacks.shared import region_provider

# Route 53 is a global service whose control plane and health-check metrics live in
# us-east-1: records, checks and alarms go through a provider there, never the primary's.
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


def key_vault_name(cfg: StackConfig) -> str:
    """Global, 3-24 letters/digits/hyphens, starting with a letter; hashed like the
    storage accounts so two deployments do not collide."""
    prefix = re.sub(r"[^a-z0-9]", "", cfg.name_prefix)[:12] or "drstack"
    return f"{prefix}-drkv-{_short_hash(cfg.stack, cfg.name_prefix, cfg.azure.location)}"


def build_pilot_light(cfg: StackConfig) -> dict[str, Any]:
    if cfg.site_stack:
        from stacks.pilot_light_backup import build_pilot_light_backup

        return build_pilot_light_backup(cfg)
    return build_pilot_light_site(cfg)


def build_pilot_light_site(cfg: StackConfig) -> dict[str, Any]:
    assert cfg.primary_stack and cfg.primary_region  # parse_config guarantees both
    primary = pulumi.StackReference(cfg.primary_stack)

    azure = azure_native.Provider("azure", location=cfg.azure.location)
    aws_global = region_provider("aws-global", ALARM_REGION, cfg)

    backups_account, maintenance_account = storage_account_names(cfg)
    app_host = primary.require_output("app_hostname")
    zone_id: pulumi.Output[str] | None = None
    maintenance_domain = None
    asverify: list[aws.route53.Record] = []
    if cfg.dns.manage_records:
        zone_id, asverify = _maintenance_asverify(cfg, aws_global, maintenance_account)
        maintenance_domain = cfg.dns.fqdn

    site = _site(cfg, azure, backups_account, maintenance_account, maintenance_domain, asverify)
    outputs = _site_outputs(cfg, primary, site)
    if cfg.dns.manage_records:
        assert zone_id is not None
        outputs.update(_dns_failover(cfg, zone_id, app_host, site, aws_global))

    if cfg.emergency:
        outputs.update(
            mysql_server_fqdn=site.mysql_server_fqdn,
            mysql_database_name=site.mysql_database_name,
            app_gateway_ip=site.app_gateway_ip,
            app_gateway_fqdn=site.app_gateway_fqdn,
        )
    if site.restore_job_name is not None:
        outputs["restore_job_name"] = site.restore_job_name
    return outputs


def _maintenance_asverify(
    cfg: StackConfig, aws_global: aws.Provider, maintenance_account: str
) -> tuple[pulumi.Output[str], list[aws.route53.Record]]:
    dns = cfg.dns
    zone_id = aws.route53.get_zone_output(
        name=dns.zone,
        private_zone=False,
        opts=pulumi.InvokeOutputOptions(provider=aws_global),
    ).zone_id
    # Lets the maintenance account accept requests for the service name before that
    # name points at Azure (Azure validates asverify.<name> -> asverify.<account>...).
    asverify = [
        aws.route53.Record(
            "maintenance-asverify",
            zone_id=zone_id,
            name=f"asverify.{dns.fqdn}",
            type="CNAME",
            ttl=300,
            records=[f"asverify.{maintenance_account}.blob.core.windows.net"],
            opts=pulumi.ResourceOptions(provider=aws_global),
        )
    ]
    return zone_id, asverify


def _site(
    cfg: StackConfig,
    azure: azure_native.Provider,
    backups_account: str,
    maintenance_account: str,
    maintenance_domain: str | None,
    asverify: list[aws.route53.Record],
) -> AzurePilotLight:
    return AzurePilotLight(
        "pilot",
        AzurePilotLightArgs(
            provider=azure,
            location=cfg.azure.location,
            resource_group_name=f"{cfg.name_prefix}-pilot-light-{cfg.azure.location}",
            vnet_cidr=cfg.azure.vnet_cidr,
            storage_account_name=backups_account,
            maintenance_account_name=maintenance_account,
            mysql_server_name=f"{cfg.name_prefix}-dr-mysql-{_short_hash(cfg.stack, cfg.name_prefix)}",
            key_vault_name=key_vault_name(cfg),
            # One database name across the stack: the primary's, which the job dumps,
            # `drctl restore` loads and PetClinic connects to.
            database_name=cfg.rds.db_name,
            tls_certificate_name=cfg.azure.tls_certificate_name,
            operator_ips=cfg.azure.operator_ips,
            run_restore=cfg.run_restore,
            restore_image=restore_image(cfg),
            backup=cfg.backup,
            azure=cfg.azure,
            emergency=cfg.emergency,
            enable_petclinic=cfg.enable_petclinic,
            mysql_admin_password=secret_config("mysql_admin_password") if cfg.emergency else None,
            maintenance_domain=maintenance_domain,
            maintenance_domain_depends_on=asverify,
            # Failed over (or recovering): the newest dump may be the only copy left.
            freeze_retention=cfg.force_failover or cfg.emergency,
            backup_source_ips=cfg.azure.backup_source_ips,
            # Renewed by any `pulumi up` in a new quarter (components.azure_backup_access).
            sas_expiry=sas_expiry(datetime.now(UTC).date()),
            dns_label=f"{cfg.name_prefix}-dr-{_short_hash(cfg.stack, cfg.name_prefix)}",
            tags=cfg.base_tags,
        ),
    )


def _site_outputs(
    cfg: StackConfig, primary: pulumi.StackReference, site: AzurePilotLight
) -> dict[str, Any]:
    return {
        "strategy": cfg.strategy,
        # Refuses a drstack:primary_region that is not the primary stack's region.
        "primary_region": checked_primary_region(primary, cfg),
        "location": cfg.azure.location,
        "resource_group_name": site.resource_group_name,
        "storage_account_name": site.storage_account_name,
        "backup_container": site.backup_container,
        # Secrets, container-scoped SAS (no account key): read+list for drctl restore, and
        # the writer credential the azure-pilot-backup stack hands to the job.
        "backup_connection_string": site.reader_connection_string,
        "backup_writer_connection_string": site.writer_connection_string,
        "backup_job_stack": cfg.backup.job_stack,
        # What this site's RPO budget assumes of the archiver the job stack declares
        # (policy binlog-archive-agrees compares them there).
        "binlog_archive": cfg.backup.binlog_archive,
        "binlog_flush_seconds": cfg.backup.binlog_flush_seconds,
        "maintenance_url": site.maintenance_host.apply(lambda h: f"https://{h}/"),
        "key_vault_name": key_vault_name(cfg),
        "tls_certificate_name": cfg.azure.tls_certificate_name,
        # The database the restore loads and PetClinic uses (the primary's, dumped).
        "database_name": cfg.rds.db_name,
        "emergency": cfg.emergency,
        "routing_target": site.routing_target,
    }


def _dns_failover(
    cfg: StackConfig,
    zone_id: pulumi.Output[str],
    app_host: pulumi.Output[Any],
    site: AzurePilotLight,
    aws_global: aws.Provider,
) -> dict[str, Any]:
    dns = cfg.dns
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
            alarm_provider=aws_global,
            tags=cfg.base_tags,
        ),
        opts=pulumi.ResourceOptions(providers=[aws_global]),
    )
    return dict(
        hosted_zone_id=zone_id,
        health_check_id=failover.health_check_id,
        failover_switch_id=failover.switch_health_check_id,
        record_fqdn=failover.record_fqdn,
    )
