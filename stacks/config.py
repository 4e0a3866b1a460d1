"""Typed drstack configuration.

Every ``drstack:`` key is parsed here, before any resource is declared, into frozen
dataclasses. A bad value raises :class:`ConfigError` with one line naming the key, the
value and what is allowed; it subclasses ``pulumi.RunError`` so the Pulumi engine prints
that line without a Python traceback.

``parse_config`` is a pure function of the raw config map (``"drstack:eks" -> JSON
string``, as the engine and the mock runtime deliver it), so it is tested without Pulumi.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import pulumi

from stacks.rules.dated import EKS_STANDARD_SUPPORT
from stacks.validation import first_refusal

NAMESPACE = "drstack"

Role = Literal["primary", "dr"]
Strategy = Literal["warm-standby", "pilot-light"]
BackupFormat = Literal["zstd", "gzip"]

ROLES: tuple[str, ...] = ("primary", "dr")
STRATEGIES: tuple[str, ...] = ("warm-standby", "pilot-light")
BACKUP_FORMATS: tuple[str, ...] = ("zstd", "gzip")

# Commercial AWS regions; a typo here would otherwise surface only at `pulumi up`.
AWS_REGIONS: frozenset[str] = frozenset(
    [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "mx-central-1",
        "sa-east-1",
    ]
)

# Azure public-cloud location names (`az account list-locations --query [].name`).
AZURE_LOCATIONS: frozenset[str] = frozenset(
    [
        "eastus",
        "eastus2",
        "southcentralus",
        "westus2",
        "westus3",
        "australiaeast",
        "southeastasia",
        "northeurope",
        "swedencentral",
        "uksouth",
        "westeurope",
        "centralus",
        "southafricanorth",
        "centralindia",
        "eastasia",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "canadacentral",
        "francecentral",
        "germanywestcentral",
        "italynorth",
        "norwayeast",
        "polandcentral",
        "spaincentral",
        "switzerlandnorth",
        "mexicocentral",
        "uaenorth",
        "brazilsouth",
        "israelcentral",
        "qatarcentral",
        "northcentralus",
        "westus",
        "westcentralus",
        "eastus2euap",
        "australiasoutheast",
        "australiacentral",
        "southindia",
        "westindia",
        "canadaeast",
        "ukwest",
        "francesouth",
        "germanynorth",
        "norwaywest",
        "switzerlandwest",
        "uaecentral",
        "brazilsoutheast",
        "newzealandnorth",
        "indonesiacentral",
        "malaysiawest",
    ]
)

# Route 53 accepts only these request intervals (seconds).
HEALTH_CHECK_INTERVALS: tuple[int, ...] = (10, 30)
# The dated list (stacks/rules/dated.py) is checked after parsing, so that
# drstack:allow_unlisted can accept a version newer than the list.
EKS_VERSIONS: tuple[str, ...] = tuple(sorted(EKS_STANDARD_SUPPORT.values))
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_IPV4_OR_CIDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$")
# Linux VM admin names Azure refuses (OSProfile.adminUsername).
AZURE_RESERVED_USERNAMES: frozenset[str] = frozenset(
    {
        "admin", "administrator", "root", "user", "user1", "user2", "test", "test1", "guest",
        "owner", "sys", "sysadmin", "support", "server", "backup", "console", "sql", "david",
    }
)  # fmt: skip


class ConfigError(pulumi.RunError):
    """A bad ``drstack:`` value. The message is the whole, single-line explanation."""


# --------------------------------------------------------------------------- typed config


@dataclass(frozen=True)
class EksConfig:
    version: str = "1.35"
    instance_type: str = "t3.medium"
    desired_size: int = 2
    min_size: int = 1
    max_size: int = 4
    # Who may reach the Kubernetes API from the internet (CKV_AWS_38/39). Empty = the
    # endpoint is private only (run `pulumi up`/drctl from inside the VPC or a VPN).
    public_access_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
    # Primary only: regions that get a replica of the master-credential secret (the DR
    # regions that must read it while the primary region is dark).
    secret_replica_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthCheckConfig:
    path: str = "/health"
    port: int = 443
    interval: int = 10
    failure_threshold: int = 3


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
class BackupConfig:
    interval_minutes: int = 5
    retention_days: int = 14
    format: BackupFormat = "zstd"
    immutable_days: int = 0  # 0 = no WORM policy on the container
    # The drstack image (it carries drctl) that the scheduled backup job runs.
    image: str = "public.ecr.aws/drstack/app:latest"
    # The stack that runs the job next to the primary (off the failover path); "" = none.
    job_stack: str = ""
    # Continuous binlog archiving (drctl binlog-archive): RPO = flush interval + one
    # segment's upload + detection of a dead archiver, instead of interval + dump.
    binlog_archive: bool = False
    binlog_flush_seconds: int = 5


@dataclass(frozen=True)
class AutomationConfig:
    # Seed 004: fail over only after consecutive failures x interval >= threshold, and
    # only "notify" unless the operator opted into automatic promotion.
    auto_promote: bool = False
    failover_threshold_seconds: int = 60


@dataclass(frozen=True)
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
    def base_tags(self) -> dict[str, str]:
        return {
            "Project": "drstack",
            "Stack": self.stack,
            "DrRole": self.role,
            **({"DrStrategy": self.strategy} if self.strategy else {}),
            **self.tags,
        }


# --------------------------------------------------------------------------- value parsers

T = TypeVar("T")


def _fail(key: str, value: Any, allowed: str) -> ConfigError:
    decoded = _decode(value)
    shown = repr(decoded) if isinstance(decoded, str) else json.dumps(decoded)
    return ConfigError(f"{NAMESPACE}:{key} = {shown} is invalid: {allowed}")


def _decode(raw: Any) -> Any:
    """Engine config values are strings; objects/lists/numbers arrive JSON-encoded."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _bool(key: str, raw: Any) -> bool:
    value = _decode(raw)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _fail(key, raw, "expected true or false")


def _int(key: str, raw: Any, lo: int, hi: int) -> int:
    value = _decode(raw)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(key, raw, f"expected an integer from {lo} to {hi}")
    return value


def _number(key: str, raw: Any, lo: float, hi: float) -> float:
    value = _decode(raw)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise _fail(key, raw, f"expected a number from {lo:g} to {hi:g}")
    return float(value)


def _str(key: str, raw: Any, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
    value = raw if isinstance(raw, str) else _decode(raw)
    if not isinstance(value, str) or not value or (pattern and not pattern.match(value)):
        raise _fail(key, raw, what or "expected a non-empty string")
    return value


def _choice(key: str, raw: Any, allowed: tuple[str, ...] | frozenset[str]) -> str:
    if raw not in allowed:
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 12 else "a known name"
        raise _fail(key, raw, f"expected one of {shown}")
    return str(raw)


def _cidr(key: str, raw: Any) -> str:
    try:
        net = ipaddress.ip_network(str(raw), strict=True)
    except ValueError:
        raise _fail(key, raw, "expected an IPv4 CIDR block such as 10.0.0.0/16") from None
    if net.version != 4 or not 16 <= net.prefixlen <= 24:
        raise _fail(key, raw, "expected an IPv4 CIDR block from /16 to /24")
    return str(net)


def _object(key: str, raw: Any) -> dict[str, Any]:
    value = _decode(raw)
    if not isinstance(value, dict):
        raise _fail(key, raw, "expected a mapping of settings")
    return value


def _list_of_str(key: str, raw: Any, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    value = _decode(raw)
    if not isinstance(value, list):
        raise _fail(key, raw, "expected a list")
    items = tuple(_str(f"{key}[{i}]", v, pattern, what) for i, v in enumerate(value))
    if len(set(items)) != len(items):
        raise _fail(key, raw, "expected unique names")
    return items


def _fields(key: str, raw: Any, parsers: Mapping[str, Callable[[str, Any], Any]]) -> dict[str, Any]:
    """Parse a nested object: every sub-key must be known (typos are errors)."""
    obj = _object(key, raw)
    unknown = sorted(set(obj) - set(parsers))
    if unknown:
        raise _fail(
            f"{key}.{unknown[0]}", obj[unknown[0]], f"unknown key; known: {', '.join(parsers)}"
        )
    return {name: parsers[name](f"{key}.{name}", value) for name, value in obj.items()}


def _int_in(lo: int, hi: int) -> Callable[[str, Any], int]:
    return lambda k, v: _int(k, v, lo, hi)


def _num_in(lo: float, hi: float) -> Callable[[str, Any], float]:
    return lambda k, v: _number(k, v, lo, hi)


def _text(pattern: re.Pattern[str] | None = None, what: str = "") -> Callable[[str, Any], str]:
    return lambda k, v: _str(k, v, pattern, what)


def _one_of(allowed: tuple[str, ...] | frozenset[str]) -> Callable[[str, Any], str]:
    return lambda k, v: _choice(k, v, allowed)


# --------------------------------------------------------------------------- sections


def _eks(key: str, raw: Any) -> EksConfig:
    eks = EksConfig(
        **_fields(
            key,
            raw,
            {
                "version": _text(
                    re.compile(r"^1\.\d{2}$"), 'a Kubernetes minor version, quoted: "1.35"'
                ),
                "instance_type": _text(re.compile(r"^[a-z0-9]+\.[a-z0-9]+$"), "e.g. t3.medium"),
                "desired_size": _int_in(0, 100),
                "min_size": _int_in(0, 100),
                "max_size": _int_in(1, 100),
                "public_access_cidrs": _public_cidrs,
            },
        )
    )
    if not eks.min_size <= eks.desired_size <= eks.max_size:
        raise _fail(
            f"{key}.desired_size",
            eks.desired_size,
            f"expected min_size ({eks.min_size}) <= desired_size <= max_size ({eks.max_size})",
        )
    return eks


# EKS accepts at most 40 public access CIDR blocks (CreateCluster publicAccessCidrs).
MAX_PUBLIC_ACCESS_CIDRS = 40
_IMAGE_TAG = re.compile(r"^(sha256:[0-9a-f]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")
_PINNED_IMAGE = re.compile(
    r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"
)


def _public_cidrs(key: str, raw: Any) -> tuple[str, ...]:
    value = _decode(raw)
    if not isinstance(value, list) or len(value) > MAX_PUBLIC_ACCESS_CIDRS:
        raise _fail(key, raw, f"expected a list of at most {MAX_PUBLIC_ACCESS_CIDRS} CIDR blocks")
    cidrs = []
    for i, item in enumerate(value):
        try:
            net = ipaddress.ip_network(str(item), strict=True)
        except ValueError:
            raise _fail(
                f"{key}[{i}]", item, "expected a CIDR block such as 203.0.113.7/32"
            ) from None
        if net.prefixlen == 0:
            raise _fail(
                f"{key}[{i}]", item, "the Kubernetes API must not be open to the whole internet"
            )
        cidrs.append(str(net))
    return tuple(cidrs)


def parse_image_tag(key: str, raw: Any) -> str:
    tag = _str(
        key, raw, _IMAGE_TAG, "an immutable image tag such as 2026.11.29-3f2a1c or a sha256 digest"
    )
    if tag == "latest":
        raise _fail(
            key, raw, "`latest` moves: pin an immutable tag or digest so both regions run one build"
        )
    return tag


def _pinned_image(key: str, raw: Any) -> str:
    image = _str(
        key,
        raw,
        _PINNED_IMAGE,
        "a pinned image such as <registry>/<repo>:<tag> or <repo>@sha256:<digest>",
    )
    if image.endswith(":latest"):
        raise _fail(
            key, raw, "`latest` moves: pin an immutable tag or digest so both regions run one build"
        )
    return image


def _or_empty(parse: Callable[[str, Any], str]) -> Callable[[str, Any], str]:
    """ "" stays "" (the setting is off); anything else must parse."""
    return lambda k, v: "" if v == "" else parse(k, v)


def _image_tags(key: str, raw: Any) -> dict[str, str]:
    return {
        _str(f"{key}.{repo}", repo, _RESOURCE_NAME, "an ECR repository name"): parse_image_tag(
            f"{key}.{repo}", tag
        )
        for repo, tag in _object(key, raw).items()
    }


def _app(key: str, raw: Any) -> AppConfig:
    app = AppConfig(
        **_fields(
            key,
            raw,
            {
                "image": _or_empty(_pinned_image),
                "replicas": _int_in(0, 50),
                "port": _int_in(1, 65535),
                "certificate_arn": _text(
                    re.compile(r"^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/\S+$"),
                    "an ACM certificate ARN",
                ),
                "domain": _or_empty(_text(_HOSTNAME, "a host name such as api.portforge.org")),
                "zone": _or_empty(_text(_HOSTNAME, "a Route 53 hosted zone such as portforge.org")),
            },
        )
    )
    if app.domain and not (app.zone and (app.domain + ".").endswith("." + app.zone + ".")):
        raise _fail(
            f"{key}.zone",
            app.zone,
            f"expected the Route 53 zone that contains app.domain ({app.domain}), "
            "where the ACM validation record goes",
        )
    return app


def _regions(key: str, raw: Any) -> tuple[str, ...]:
    items = _decode(raw)
    if not isinstance(items, list):
        raise _fail(key, raw, "a list of AWS region names")
    return tuple(_choice(f"{key}[{i}]", r, AWS_REGIONS) for i, r in enumerate(items))


def _rds(key: str, raw: Any) -> RdsConfig:
    rds = RdsConfig(
        **_fields(
            key,
            raw,
            {
                "identifier": _text(re.compile(r"^[a-z][a-z0-9-]{0,62}$"), "e.g. portforge-rds"),
                "engine_version": _text(
                    re.compile(r"^\d+\.\d+(\.\d+)?$"), 'a MySQL version, quoted: "8.4" or "8.4.7"'
                ),
                "instance_class": _text(
                    re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$"), "e.g. db.t3.medium"
                ),
                "allocated_storage": _int_in(20, 65536),
                "backup_retention_days": _int_in(0, 35),
                "multi_az": _bool,
                "max_lag_seconds": _int_in(0, 86400),
                "db_name": _text(
                    re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$"), "a MySQL database name"
                ),
                "master_username": _text(
                    re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$"), "a MySQL user name"
                ),
                "password_version": _int_in(1, 100000),
                "secret_replica_regions": _regions,
            },
        )
    )
    return rds


def _health_check(key: str, raw: Any) -> HealthCheckConfig:
    parsers: dict[str, Callable[[str, Any], Any]] = {
        "path": _text(re.compile(r"^/\S*$"), "a path starting with /"),
        "port": _int_in(1, 65535),
        "interval": lambda k, v: int(_choice(k, str(_decode(v)), ("10", "30"))),
        "failure_threshold": _int_in(1, 10),
    }
    return HealthCheckConfig(**_fields(key, raw, parsers))


def _dns(key: str, raw: Any) -> DnsConfig:
    parsers: dict[str, Callable[[str, Any], Any]] = {
        "zone": _text(re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$"), "a DNS zone such as example.org"),
        "record": _text(_DNS_LABEL, "a DNS label such as api"),
        "ttl": _int_in(0, 172800),
        "manage_records": _bool,
        "health_check": _health_check,
    }
    return DnsConfig(**_fields(key, raw, parsers))


def _objectives(key: str, raw: Any) -> Objectives:
    return Objectives(
        **_fields(key, raw, {"rto_minutes": _num_in(0.1, 10080), "rpo_seconds": _num_in(0, 604800)})
    )


def _backup(key: str, raw: Any) -> BackupConfig:
    backup = BackupConfig(
        **_fields(
            key,
            raw,
            {
                "interval_minutes": _int_in(1, 1440),
                "retention_days": _int_in(1, 3650),
                "format": _one_of(BACKUP_FORMATS),
                "immutable_days": _int_in(0, 3650),
                "image": _text(re.compile(r"^\S+$"), "a container image reference"),
                "job_stack": _text(
                    re.compile(r"^[A-Za-z0-9_./-]+$"), "a stack name such as azure-pilot-backup"
                ),
                "binlog_archive": _bool,
                "binlog_flush_seconds": _int_in(1, 300),
            },
        )
    )
    # Two intervals, not one: when the newest dump turns out corrupt, its predecessor must
    # still exist.
    if backup.retention_days * 1440 < 2 * backup.interval_minutes:
        raise _fail(
            f"{key}.retention_days",
            backup.retention_days,
            "retention must cover at least two backup intervals "
            f"(2 x {backup.interval_minutes} min)",
        )
    if backup.immutable_days > backup.retention_days:
        raise _fail(
            f"{key}.immutable_days",
            backup.immutable_days,
            f"a WORM period cannot outlast retention_days ({backup.retention_days})",
        )
    return backup


def _automation(key: str, raw: Any) -> AutomationConfig:
    return AutomationConfig(
        **_fields(
            key,
            raw,
            # Route 53 publishes HealthCheckStatus once a minute: less cannot be observed.
            {"auto_promote": _bool, "failover_threshold_seconds": _int_in(60, 3600)},
        )
    )


def _azure(key: str, raw: Any) -> AzureConfig:
    vm_size = _text(
        re.compile(r"^Standard_[A-Za-z0-9_]+$"), "an Azure VM size such as Standard_B2s"
    )
    return AzureConfig(
        **_fields(
            key,
            raw,
            {
                "location": lambda k, v: _choice(k, v, AZURE_LOCATIONS),
                "vnet_cidr": _cidr,
                "web_vm_size": vm_size,
                "was_vm_size": vm_size,
                "mysql_sku": _text(re.compile(r"^Standard_[A-Za-z0-9_]+$"), "e.g. Standard_B1ms"),
                "mysql_tier": _one_of(("Burstable", "GeneralPurpose", "MemoryOptimized")),
                "mysql_version": _one_of(("8.0.21", "8.4")),
                "admin_username": _text(
                    re.compile(r"^[a-z][a-z0-9]{2,31}$"), "lowercase letters and digits"
                ),
                # Parsed for real in stacks/rules/formats.py.
                "ssh_public_key": _text(None, "an OpenSSH public key"),
                "storage_account_name": _text(
                    _STORAGE_ACCOUNT, "3-24 lowercase letters and digits (globally unique)"
                ),
                "mysql_storage_gb": _int_in(20, 16384),
                "mysql_backup_retention_days": _int_in(1, 35),
                "petclinic_jar_url": _text(
                    re.compile(r"^https://\S+\.jar$"), "an https URL of a .jar"
                ),
                "backup_source_ips": lambda k, v: _list_of_str(
                    k, v, _IPV4_OR_CIDR, "a public IPv4 address or CIDR"
                ),
                "operator_ips": lambda k, v: _list_of_str(
                    k, v, _IPV4_OR_CIDR, "a public IPv4 address or CIDR"
                ),
                "tls_certificate_name": _text(
                    re.compile(r"^[A-Za-z0-9-]{1,127}$"), "a Key Vault certificate name"
                ),
            },
        )
    )


def _services(key: str, raw: Any) -> dict[str, int]:
    obj = _object(key, raw)
    return {
        _str(f"{key}.{name}", name, _K8S_NAME, "a Kubernetes name"): _int(f"{key}.{name}", n, 0, 50)
        for name, n in obj.items()
    }


def _tables(key: str, raw: Any) -> dict[str, str]:
    obj = _object(key, raw)
    return {
        _str(f"{key}.{name}", name, _RESOURCE_NAME, "a DynamoDB table name"): _str(
            f"{key}.{name}", hash_key, None, "the table's hash key attribute name"
        )
        for name, hash_key in obj.items()
    }


def _buckets(key: str, raw: Any) -> dict[str, str]:
    obj = _object(key, raw)
    out = {
        role: _str(f"{key}.{role}", name, _BUCKET_NAME, "an S3 bucket name (3-63 lowercase)")
        for role, name in obj.items()
    }
    if len(set(out.values())) != len(out):
        raise _fail(key, raw, "expected a distinct bucket name per role")
    return out


def _budget(key: str, raw: Any) -> dict[str, float]:
    # The budget model's constant/term names live in ONE table (policy/budget.py).
    from policy.budget import known_budget_names

    obj = _object(key, raw)
    known = known_budget_names()
    for name in obj:
        if name not in known:
            raise _fail(
                f"{key}.{name}", obj[name], f"unknown budget name; known: {', '.join(known)}"
            )
    return {name: _number(f"{key}.{name}", v, 0, 604800) for name, v in obj.items()}


def _waivers(key: str, raw: Any) -> dict[str, str]:
    waivers = {}
    for name, reason in _object(key, raw).items():
        text = _str(f"{key}.{name}", reason, None, "a reason why losing this store is accepted")
        if len(text.split()) < 3:
            raise _fail(f"{key}.{name}", reason, "give a reason of a few words, for the reviewers")
        waivers[_str(f"{key}.{name}", name, _RESOURCE_NAME, "a bucket, table or DB name")] = text
    return waivers


def _contacts(key: str, raw: Any) -> tuple[Contact, ...]:
    raw = _decode(raw)
    if not isinstance(raw, list):
        raise _fail(key, raw, "a list of {role, owner, contact, duties}")
    parsers = {"role": _text(), "owner": _text(), "contact": _text(), "duties": _text()}
    out = []
    for i, item in enumerate(raw):
        values = _fields(f"{key}[{i}]", item, parsers)
        missing = [name for name in ("role", "owner", "contact") if not values.get(name)]
        if missing:
            raise _fail(f"{key}[{i}]", item, f"{', '.join(missing)} required")
        out.append(Contact(**values))
    return tuple(out)


def _tags(key: str, raw: Any) -> dict[str, str]:
    return {str(k): _str(f"{key}.{k}", v) for k, v in _object(key, raw).items()}


_COMMON: dict[str, Callable[[str, Any], Any]] = {
    "role": _one_of(ROLES),
    "name_prefix": _text(_DNS_LABEL, "a lowercase DNS label such as portforge"),
    "vpc_cidr": _cidr,
    "eks": _eks,
    "app": _app,
    "services": _services,
    "image_tags": _image_tags,
    "rds": _rds,
    "dynamodb_tables": _tables,
    "buckets": _buckets,
    "ecr_repositories": lambda k, v: _list_of_str(k, v, _RESOURCE_NAME, "an ECR repository name"),
    "tags": _tags,
    # Seed 003: data of these buckets/tables stays in its region (no cross-region copy).
    "sovereign_data": lambda k, v: _list_of_str(k, v, _RESOURCE_NAME, "a bucket or table name"),
    "allow_unlisted": lambda k, v: _list_of_str(
        k, v, re.compile(r"^\S+$"), "a value drstack's dated lists do not know yet"
    ),
}
_DR: dict[str, Callable[[str, Any], Any]] = {
    "strategy": _one_of(STRATEGIES),
    "primary_stack": _text(re.compile(r"^[A-Za-z0-9_./-]+$"), "a stack name such as seoul"),
    "primary_region": _one_of(AWS_REGIONS),
    "dns": _dns,
    "objectives": _objectives,
    "force_failover": _bool,
    "budget": _budget,
    "dr_waivers": lambda k, v: _waivers(k, v),
    "contacts": _contacts,
}
_WARM_STANDBY: dict[str, Callable[[str, Any], Any]] = {
    "promote_replica": _bool,
    "secrets": lambda k, v: _list_of_str(
        k, v, re.compile(r"^[A-Za-z0-9/_+=.@-]+$"), "a secret name"
    ),
    "s3_rtc": _bool,
    "automation": _automation,
    # Tokyo -> Seoul replication of the DR buckets, once Seoul is back (never during an
    # outage: S3 checks the destination bucket when the rule is written).
    "reverse_replication": _bool,
}
_PILOT_LIGHT: dict[str, Callable[[str, Any], Any]] = {
    "emergency": _bool,
    "enable_petclinic": _bool,
    "run_restore": _bool,
    "backup": _backup,
    "azure": _azure,
    "mysql_admin_password": lambda k, v: bool(_str(k, v, None, "a non-empty secret")),
    "site_stack": _text(re.compile(r"^[A-Za-z0-9_./-]+$"), "a stack name such as azure-pilot"),
}
_ALL_KEYS = {**_COMMON, **_DR, **_WARM_STANDBY, **_PILOT_LIGHT}


def _allowed_keys(role: str, strategy: str | None) -> dict[str, Callable[[str, Any], Any]]:
    if role == "primary":
        return _COMMON
    extra = _WARM_STANDBY if strategy == "warm-standby" else _PILOT_LIGHT
    return {**_COMMON, **_DR, **extra}


def _where_key_belongs(key: str) -> str:
    if key in _WARM_STANDBY:
        return "a DR stack with strategy warm-standby"
    if key in _PILOT_LIGHT:
        return "a DR stack with strategy pilot-light"
    return "a DR stack (role: dr)"


# --------------------------------------------------------------------------- entry points


def parse_config(
    stack: str, raw: Mapping[str, Any], secret_keys: Collection[str] = ()
) -> StackConfig:
    """Parse the engine's flat config map (``"ns:key" -> value``) into a StackConfig.

    ``secret_keys`` names the keys the engine marked secret: a password set in plain
    text is refused rather than stored in the stack file for everyone to read.
    """
    password_key = f"{NAMESPACE}:mysql_admin_password"
    if password_key in raw and password_key not in secret_keys:
        raise ConfigError(
            f"{password_key} is set in plain text: set it with `pulumi config set --secret "
            "drstack:mysql_admin_password`"
        )
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}

    for key in sorted(ours):
        if key not in _ALL_KEYS:
            close = [k for k in _ALL_KEYS if k.startswith(key[:3])]
            hint = f"; did you mean {close[0]}?" if close else ""
            raise _fail(key, ours[key], f"unknown key{hint}")

    if "role" not in ours:
        raise ConfigError(f"{NAMESPACE}:role is missing: set it to one of {', '.join(ROLES)}")
    role = _choice("role", ours["role"], ROLES)
    strategy = None
    if role == "dr":
        if "strategy" not in ours:
            raise ConfigError(
                f"{NAMESPACE}:strategy is missing: a DR stack needs one of {', '.join(STRATEGIES)}"
            )
        strategy = _choice("strategy", ours["strategy"], STRATEGIES)
        if "primary_stack" not in ours:
            raise ConfigError(
                f"{NAMESPACE}:primary_stack is missing: a DR stack attaches to its primary "
                "through a StackReference, e.g. primary_stack: seoul"
            )

    allowed = _allowed_keys(role, strategy)
    for key in sorted(ours):
        if key not in allowed:
            raise _fail(key, ours[key], f"only valid for {_where_key_belongs(key)}")

    region_raw = raw.get("aws:region")
    if region_raw is None:
        raise ConfigError("aws:region is missing: set the stack's AWS region, e.g. ap-northeast-2")
    if region_raw not in AWS_REGIONS:
        raise ConfigError(f"aws:region = {region_raw!r} is invalid: expected an AWS region name")

    values: dict[str, Any] = {
        name: allowed[name](name, value) for name, value in ours.items() if name in allowed
    }
    has_password = bool(values.pop("mysql_admin_password", False))
    cfg = StackConfig(
        stack=stack, region=str(region_raw), has_mysql_admin_password=has_password, **values
    )
    if cfg.role == "dr" and cfg.primary_region is None:
        cfg = _replace(cfg, primary_region="ap-northeast-2")
    _check_cross_field(cfg)
    _check_cloud_rules(cfg)
    return cfg


def _replace(cfg: StackConfig, **changes: Any) -> StackConfig:
    from dataclasses import replace

    return replace(cfg, **changes)


def _check_cross_field(cfg: StackConfig) -> None:
    if cfg.role == "dr" and cfg.strategy == "warm-standby" and cfg.region == cfg.primary_region:
        raise ConfigError(
            f"aws:region = {cfg.region!r} is invalid: a warm standby must run in another region "
            f"than its primary ({cfg.primary_region})"
        )
    known_data = set(cfg.buckets) | set(cfg.buckets.values()) | set(cfg.dynamodb_tables)
    for name in cfg.sovereign_data:
        if known_data and name not in known_data:
            raise _fail(
                "sovereign_data",
                name,
                f"not a configured bucket or table ({', '.join(sorted(known_data))})",
            )
    _check_app_endpoint(cfg)
    if cfg.strategy == "pilot-light":
        if cfg.enable_petclinic and not cfg.emergency:
            raise ConfigError(
                f"{NAMESPACE}:enable_petclinic = true is invalid: PetClinic runs on the emergency "
                "resources; set drstack:emergency true first (seed 001 phase order)"
            )
        if cfg.emergency and not cfg.has_mysql_admin_password:
            raise ConfigError(
                f"{NAMESPACE}:mysql_admin_password is missing: emergency mode creates the MySQL "
                "Flexible Server; set it with `pulumi config set --secret "
                "drstack:mysql_admin_password`"
            )
        _check_pilot_light(cfg)
    if cfg.strategy == "warm-standby" and cfg.promote_replica and not cfg.force_failover:
        raise ConfigError(
            f"{NAMESPACE}:promote_replica = true is invalid while force_failover is false: a "
            "promoted replica with DNS still on the primary splits writes; set "
            "drstack:force_failover true first"
        )


def _check_cloud_rules(cfg: StackConfig) -> None:
    """What the clouds refuse only at `up` (stacks/validation.py): the first finding."""
    refusal = first_refusal(cfg)
    if refusal is None:
        return
    if refusal.namespaced:
        raise _fail(refusal.key, refusal.value, refusal.expected)
    raise ConfigError(f"{refusal.key} {refusal.value!r} is invalid: {refusal.expected}")


def _check_app_endpoint(cfg: StackConfig) -> None:
    # The Route 53 probe is HTTPS, and after a failover clients reach this site's load
    # balancer under https://<dns.fqdn>: without a certificate the TLS handshake fails.
    if cfg.strategy == "warm-standby" and cfg.dns.manage_records and not cfg.app.tls:
        raise ConfigError(
            f"{NAMESPACE}:app.domain is missing: dns.health_check probes HTTPS and clients "
            f"reach this site as https://{cfg.dns.fqdn} after a failover; set app.domain "
            f"(and app.zone) or app.certificate_arn so its load balancer serves TLS"
        )
    if cfg.app.image and "drstack-app" in cfg.image_tags:
        raise ConfigError(
            f"{NAMESPACE}:app.image and image_tags.drstack-app are both set: keep one "
            "(app.image for an external registry, image_tags for this region's ECR)"
        )


def _check_pilot_light(cfg: StackConfig) -> None:
    backup, azure = cfg.backup, cfg.azure
    every = backup.interval_minutes
    # The job is a cron schedule: "*/7" would fire at :56 and again at :00 (a 4-minute
    # gap), so only intervals that tile the hour (or whole hours that tile the day) keep
    # the RPO the config promises.
    if not (60 % every == 0 or (every % 60 == 0 and 1440 % every == 0)):
        raise _fail(
            "backup.interval_minutes",
            every,
            "a cron schedule repeats evenly only for a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, "
            "15, 20, 30) or whole hours dividing a day (60, 120, 180, 240, 360, 480, 720, 1440)",
        )
    if azure.admin_username in AZURE_RESERVED_USERNAMES:
        raise _fail(
            "azure.admin_username",
            azure.admin_username,
            "Azure refuses reserved VM admin names (admin, root, user, test, ...); "
            "e.g. drstackadmin",
        )
    if ipaddress.ip_network(azure.vnet_cidr).prefixlen > 22:
        raise _fail(
            "azure.vnet_cidr",
            azure.vnet_cidr,
            "the VNet needs room for four /24 subnets (App Gateway, VMs, MySQL, spare): "
            "expected /16 to /22",
        )
    tier_prefix = {
        "Burstable": "Standard_B",
        "GeneralPurpose": "Standard_D",
        "MemoryOptimized": "Standard_E",
    }
    if not azure.mysql_sku.startswith(tier_prefix[azure.mysql_tier]):
        raise _fail(
            "azure.mysql_sku",
            azure.mysql_sku,
            f"the {azure.mysql_tier} tier takes {tier_prefix[azure.mysql_tier]}* SKUs "
            "(e.g. Standard_B1ms for Burstable)",
        )
    if cfg.run_restore and not cfg.emergency:
        raise ConfigError(
            f"{NAMESPACE}:run_restore = true is invalid while emergency is false: the restore "
            "loads the emergency MySQL server; set drstack:emergency true first"
        )
    if cfg.emergency and not azure.ssh_public_key:
        raise ConfigError(
            f"{NAMESPACE}:azure.ssh_public_key is missing: emergency mode creates the web and "
            "WAS VMs, which accept SSH keys only; set azure.ssh_public_key to an OpenSSH "
            "public key"
        )
    if cfg.force_failover and not cfg.dns.manage_records:
        raise ConfigError(
            f"{NAMESPACE}:force_failover = true is invalid while dns.manage_records is false: "
            "this stack does not own the failover records, so forcing would change nothing"
        )


def read_engine_config() -> dict[str, Any]:
    """The whole config map the engine handed this program (real run or mocks)."""
    merged = dict(pulumi.runtime.config.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return merged


def read_engine_secret_keys() -> set[str]:
    keys = set(pulumi.runtime.config.get_config_secret_keys_env())
    keys.update(pulumi.runtime.config._SECRET_KEYS.get())
    return keys


def load_config() -> StackConfig:
    return parse_config(pulumi.get_stack(), read_engine_config(), read_engine_secret_keys())


def secret_config(key: str) -> pulumi.Output[str]:
    """A secret ``drstack:`` value as a secret Output (never a plain str)."""
    return pulumi.Config(NAMESPACE).require_secret(key)
