"""The `azure-pilot-backup` stack: seed 001's 5-minute backup job, next to the primary.

Deploy order is seoul -> azure-pilot -> azure-pilot-backup. The job must run where the
source database is (the Seoul EKS cluster, IAM for its Pod Identity), so this stack talks
to the primary region; that is exactly why it is a stack of its own: the site stack
(`azure-pilot`) then declares nothing in Seoul, and its `pulumi up` with a failover toggle
works with Seoul dark. This stack is never on the failover path: when Seoul is gone, its
job and its source database are gone together, and nobody needs to `pulumi up` it.

It reads the primary (cluster, RDS endpoint, master secret) and the site (account name,
container, the container-scoped writer SAS) through StackReferences, i.e. from the Pulumi
state backend. The phase toggles belong to the site stack and change nothing here.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.azure_pilot_light import BACKUP_CONTAINER
from components.backup_job import BackupCronJob, BackupCronJobArgs
from components.binlog_archiver import BinlogArchiverArgs, BinlogArchiverDeployment
from stacks.binlog_settings import checked_binlog_settings
from stacks.config import StackConfig
from stacks.shared import static_region_provider


def build_pilot_light_backup(cfg: StackConfig) -> dict[str, Any]:
    assert cfg.primary_stack and cfg.primary_region and cfg.site_stack
    site = pulumi.StackReference(cfg.site_stack)
    outputs: dict[str, Any] = {
        "strategy": cfg.strategy,
        "site_stack": cfg.site_stack,
        "storage_account_name": site.require_output("storage_account_name"),
        "backup_container": site.require_output("backup_container"),
        "backup_image": cfg.backup.image,
        # Refused when they differ from what the site's RPO budget assumes.
        "binlog_settings": checked_binlog_settings(site, cfg),
    }
    # Like the Deployments and image_tags: no job until its pinned image is pushed
    # (README "The backup image"); a CronJob on a missing image only fails every run.
    if cfg.backup.image:
        outputs.update(_backup_job(cfg, site))
    return outputs


def _backup_job(cfg: StackConfig, site: pulumi.StackReference) -> dict[str, Any]:
    assert cfg.primary_stack and cfg.primary_region
    primary = pulumi.StackReference(cfg.primary_stack)
    seoul_cluster = k8s.Provider("seoul-eks", kubeconfig=primary.require_output("kubeconfig"))
    job = BackupCronJob(
        "backup",
        BackupCronJobArgs(
            k8s_provider=seoul_cluster,
            # Static (no STS/metadata/region calls at configure time): a preview of this
            # stack needs nothing from the region until a resource actually changes.
            aws_provider=static_region_provider("aws-primary", cfg.primary_region, cfg),
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
            connection_string=pulumi.Output.secret(
                site.require_output("backup_writer_connection_string")
            ),
            tags=cfg.base_tags,
        ),
    )
    outputs: dict[str, Any] = {}
    if cfg.backup.binlog_archive:
        archiver = BinlogArchiverDeployment(
            "binlog",
            BinlogArchiverArgs(
                k8s_provider=seoul_cluster,
                namespace=job.namespace,
                service_account_name=job.service_account_name,
                azure_secret_name=job.azure_secret_name,
                image=cfg.backup.image,
                region=cfg.primary_region,
                source_host=primary.require_output("rds_address"),
                source_secret_arn=primary.require_output("rds_master_secret_arn"),
                container=BACKUP_CONTAINER,
                flush_seconds=cfg.backup.binlog_flush_seconds,
            ),
        )
        outputs["binlog_archiver_name"] = archiver.deployment_name
    return {
        **outputs,
        "backup_schedule": job.schedule,
        "backup_job_name": job.job_name,
        "backup_job_namespace": job.namespace,
    }
