"""The typed configuration: frozen dataclasses every ``drstack:`` key is parsed into.

The inputs a component takes (EKS, app, RDS, health check, backup, Azure) are the
component's own types (``components.settings``); this module composes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from components.settings import (
    AppConfig,
    AzureConfig,
    BackupConfig,
    EksConfig,
    HealthCheckConfig,
    RdsConfig,
)

Role = Literal["primary", "dr"]
Strategy = Literal["warm-standby", "pilot-light"]

ROLES: tuple[str, ...] = ("primary", "dr")
STRATEGIES: tuple[str, ...] = ("warm-standby", "pilot-light")
STANDBY_SCALES: tuple[str, ...] = ("reduced", "full")
DB_ENGINES: tuple[str, ...] = ("mysql", "aurora-mysql")
BACKUP_FORMATS: tuple[str, ...] = ("zstd", "gzip")

# --------------------------------------------------------------------------- typed config


@dataclass(frozen=True)
class DnsConfig:
    zone: str = "portforge.org"
    record: str = "api"
    ttl: int = 60
    manage_records: bool = True
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)

    @property
    def fqdn(self) -> str:
        return f"{self.record}.{self.zone}"


@dataclass(frozen=True)
class Objectives:
    rto_minutes: float = 30
    rpo_seconds: float = 5


@dataclass(frozen=True)
class AutomationConfig:
    # Seed 004: fail over only after consecutive failures x interval >= threshold, and
    # only "notify" unless the operator opted into automatic promotion.
    auto_promote: bool = False
    failover_threshold_seconds: int = 60


@dataclass(frozen=True)
class Contact:
    """One row of the DR plan's roles table (seed 000 §7.3, seed 002 §7)."""

    role: str
    owner: str
    contact: str
    duties: str = ""


@dataclass(frozen=True)
class StackConfig:
    stack: str
    role: Role
    region: str
    strategy: Strategy | None = None
    primary_stack: str | None = None
    primary_region: str | None = None
    name_prefix: str = "portforge"
    vpc_cidr: str = "10.0.0.0/16"
    eks: EksConfig = field(default_factory=EksConfig)
    app: AppConfig = field(default_factory=AppConfig)
    services: Mapping[str, int] = field(default_factory=dict)
    # ECR repository -> immutable tag (or sha256 digest) the workloads run; a workload
    # whose repository has no tag here is not deployed (the first `up` of an empty account).
    image_tags: Mapping[str, str] = field(default_factory=dict)
    rds: RdsConfig = field(default_factory=RdsConfig)
    dynamodb_tables: Mapping[str, str] = field(default_factory=dict)
    buckets: Mapping[str, str] = field(default_factory=dict)
    ecr_repositories: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    sovereign_data: tuple[str, ...] = ()
    s3_rtc: bool = True
    dns: DnsConfig = field(default_factory=DnsConfig)
    objectives: Objectives = field(default_factory=Objectives)
    backup: BackupConfig = field(default_factory=BackupConfig)
    automation: AutomationConfig = field(default_factory=AutomationConfig)
    azure: AzureConfig = field(default_factory=AzureConfig)
    budget: Mapping[str, float] = field(default_factory=dict)
    # Data store name -> why this DR stack accepts losing it (reviewed, visible in every
    # preview); everything else must have a DR copy or a backup path.
    dr_waivers: Mapping[str, str] = field(default_factory=dict)
    # Who does what in an incident, and how to reach them (`drctl plan`).
    contacts: tuple[Contact, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    # Values the operator confirmed with the cloud that drstack's dated lists do not know yet.
    allow_unlisted: tuple[str, ...] = ()
    # Pilot light only: set on the small stack that runs the backup job next to the primary;
    # names the Azure site stack it writes to (stacks/pilot_light_backup.py).
    site_stack: str | None = None
    force_failover: bool = False
    promote_replica: bool = False
    # Warm standby: "reduced" (failover scales up) or "full" (already at production size;
    # the budget drops the scale-up term, the cost estimate shows what that costs).
    standby_scale: str = "reduced"
    reverse_replication: bool = False
    emergency: bool = False
    enable_petclinic: bool = False
    # Pilot light, seed 001 phase 3: run `drctl restore` in the Azure VNet (needs emergency).
    run_restore: bool = False
    # Secret config: only whether it is set is kept here; the value is read as a
    # pulumi secret Output where it is used, so it never lands in plain state.
    has_mysql_admin_password: bool = False

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    @property
    def aurora_global_cluster_id(self) -> str:
        """The Aurora global cluster both stacks name: rds.global_cluster_id, else derived."""
        return self.rds.global_cluster_id or f"{self.name_prefix}-global"

    @property
    def base_tags(self) -> dict[str, str]:
        return {
            "Project": "drstack",
            "Stack": self.stack,
            "DrRole": self.role,
            **({"DrStrategy": self.strategy} if self.strategy else {}),
            **self.tags,
        }
