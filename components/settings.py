"""Value types the components take as inputs.

They live with the components (not in ``stacks/``) so a component can be read and reused
without the stack configuration: ``stacks.config`` parses the ``drstack:`` keys into these
types and re-exports them under the same names. Plain dataclasses only, no cloud SDK import,
so the config parser and ``drctl`` stay quick to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BackupFormat = Literal["zstd", "gzip"]


@dataclass(frozen=True, kw_only=True)
class EksConfig:
    version: str = "1.35"
    instance_type: str = "t3.medium"
    desired_size: int = 2
    min_size: int = 1
    max_size: int = 4
    # Who may reach the Kubernetes API from the internet (CKV_AWS_38/39). Empty = the
    # endpoint is private only (run `pulumi up`/drctl from inside the VPC or a VPN).
    public_access_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    # A pinned image (tag or digest, never :latest). "" = this region's ECR repository
    # drstack-app at image_tags["drstack-app"]; with neither, the app is not deployed yet.
    image: str = ""
    replicas: int = 2
    port: int = 8080
    # Bring-your-own ACM certificate for TLS on the app's load balancer ...
    certificate_arn: str = ""
    # ... or the name clients use (e.g. api.portforge.org) and the Route 53 zone that
    # validates it: the stack requests and DNS-validates an ACM certificate for it.
    domain: str = ""
    zone: str = ""

    @property
    def tls(self) -> bool:
        return bool(self.certificate_arn or self.domain)


@dataclass(frozen=True, kw_only=True)
class RdsConfig:
    identifier: str = "portforge-rds"
    engine_version: str = "8.0"
    instance_class: str = "db.t3.medium"
    allocated_storage: int = 20
    backup_retention_days: int = 7
    multi_az: bool = False
    max_lag_seconds: int = 5
    db_name: str = "portforge"
    master_username: str = "admin"
    # Bump to rotate the master password (a new pulumi_random password, applied with
    # ModifyDBInstance and written to the replicated secret).
    password_version: int = 1
    # The app's own database user (never the master user): created by the primary's
    # deploy-time Job with the app's grants only; bump app_password_version to rotate it.
    app_username: str = "portforge_app"
    app_password_version: int = 1
    # Primary only: regions that get a replica of the master-credential secret (the DR
    # regions that must read it while the primary region is dark).
    secret_replica_regions: tuple[str, ...] = ()
    # "mysql": an RDS for MySQL instance and its cross-region read replica.
    # "aurora-mysql": an Aurora MySQL global database (primary cluster here, secondary
    # cluster in the warm standby); engine_version/instance_class above are then unused.
    engine: str = "mysql"
    # Aurora MySQL 3.10 (MySQL 8.0.42), the long-term-support line (Aurora MySQL release
    # notes, checked 2026-11-29); both clusters of the global database run it.
    aurora_engine_version: str = "8.0.mysql_aurora.3.10.3"
    # A global database needs a memory-optimized class (db.r*/db.x2g), never db.t*.
    aurora_instance_class: str = "db.r6g.large"
    # "" = "<name_prefix>-global" (StackConfig.aurora_global_cluster_id).
    global_cluster_id: str = ""


@dataclass(frozen=True, kw_only=True)
class HealthCheckConfig:
    path: str = "/health"
    port: int = 443
    interval: int = 10
    failure_threshold: int = 3


@dataclass(frozen=True, kw_only=True)
class BackupConfig:
    interval_minutes: int = 5
    retention_days: int = 14
    format: BackupFormat = "zstd"
    immutable_days: int = 0  # 0 = no WORM policy on the container
    # The backup image (docker/backup/Dockerfile: drctl + MySQL's mysqldump) that the
    # scheduled backup job and the restore job run, pinned by immutable tag or digest.
    # "" = not pushed yet: the backup job is not declared and run_restore is refused.
    image: str = ""
    # The stack that runs the job next to the primary (off the failover path); "" = none.
    job_stack: str = ""
    # Continuous binlog archiving (drctl binlog-archive): RPO = flush interval + one
    # segment's upload + detection of a dead archiver, instead of interval + dump.
    binlog_archive: bool = False
    binlog_flush_seconds: int = 5
    # The restore job (run_restore) with the archive on: a gap or a corrupt segment stops it
    # with the target untouched. True restores up to the last consistent point instead
    # (`drctl restore --accept-gap`): losing the writes after the gap is the operator's
    # explicit choice, never a default.
    restore_accept_gap: bool = False


@dataclass(frozen=True, kw_only=True)
class AzureConfig:
    # Not koreacentral: that is Seoul, the primary's metro (DESIGN "A DR site does not
    # share the primary's disaster").
    location: str = "koreasouth"
    vnet_cidr: str = "10.20.0.0/16"
    web_vm_size: str = "Standard_B2s"
    was_vm_size: str = "Standard_B2s"
    mysql_sku: str = "Standard_B1ms"
    mysql_tier: str = "Burstable"
    mysql_version: str = "8.0.21"
    admin_username: str = "drstackadmin"
    ssh_public_key: str = ""
    # "" = derived from name_prefix and stack (storage account names are global).
    storage_account_name: str = ""
    mysql_storage_gb: int = 20
    mysql_backup_retention_days: int = 7
    # "" = the WAS VM builds spring-petclinic from source at first boot.
    petclinic_jar_url: str = ""
    # Public egress IPs/CIDRs of the backup job (Seoul's NAT gateway EIPs): the backup
    # account's firewall admits only these from the internet.
    backup_source_ips: tuple[str, ...] = ()
    # Public IPs admitted by the Key Vault firewall, to import the TLS certificate.
    operator_ips: tuple[str, ...] = ()
    # The Key Vault certificate (for dns.record.dns.zone) the App Gateway serves.
    tls_certificate_name: str = "service-tls"
    # The image the restore job runs in Azure ("" = backup.image). It runs while the
    # primary region is down, so it must come from a registry outside that region.
    restore_image: str = ""
