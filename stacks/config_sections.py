"""One parser per ``drstack:`` key (or object section), and which keys each stack kind takes."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from components.settings import (
    AppConfig,
    AzureConfig,
    BackupConfig,
    EksConfig,
    HealthCheckConfig,
    RdsConfig,
)
from stacks.config_schema import (
    BACKUP_FORMATS,
    DB_ENGINES,
    ROLES,
    STANDBY_SCALES,
    STRATEGIES,
    AutomationConfig,
    Contact,
    DnsConfig,
    Objectives,
)
from stacks.config_values import (
    _bool,
    _choice,
    _cidr,
    _decode,
    _fail,
    _fields,
    _int,
    _int_in,
    _list_of_str,
    _num_in,
    _number,
    _object,
    _one_of,
    _str,
    _text,
)
from stacks.rules.dated import EKS_STANDARD_SUPPORT

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
                "app_username": _text(
                    re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$"), "a MySQL user name"
                ),
                "app_password_version": _int_in(1, 100000),
                "secret_replica_regions": _regions,
                "engine": _one_of(DB_ENGINES),
                "aurora_engine_version": _text(
                    re.compile(r"^\S+$"), "an Aurora MySQL version such as 8.0.mysql_aurora.3.10.3"
                ),
                "aurora_instance_class": _text(
                    re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$"), "e.g. db.r6g.large"
                ),
                "global_cluster_id": _text(re.compile(r"^\S+$"), "e.g. portforge-global"),
            },
        )
    )
    return rds


# Route 53's HealthCheckConfig limits (the API reference's "Length Constraints"; also
# botocore's route53 model, ResourcePath "max": 255). A longer path is refused by
# CreateHealthCheck at `pulumi up`, after the rest of the stack was created:
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
ROUTE53_HEALTH_CHECK_DOC = (
    "https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html"
)
ROUTE53_RESOURCE_PATH_MAX = 255


def _health_check_path(key: str, raw: Any) -> str:
    path = _str(key, raw, re.compile(r"^/\S*$"), "a path starting with /")
    if len(path) > ROUTE53_RESOURCE_PATH_MAX:
        raise _fail(
            key,
            raw,
            f"Route 53 accepts a health-check resource path of at most "
            f"{ROUTE53_RESOURCE_PATH_MAX} characters, this one has {len(path)} "
            f"({ROUTE53_HEALTH_CHECK_DOC})",
        )
    return path


def _health_check(key: str, raw: Any) -> HealthCheckConfig:
    parsers: dict[str, Callable[[str, Any], Any]] = {
        "path": _health_check_path,
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
                "image": _or_empty(_pinned_image),
                "job_stack": _text(
                    re.compile(r"^[A-Za-z0-9_./-]+$"), "a stack name such as azure-pilot-backup"
                ),
                "binlog_archive": _bool,
                "binlog_flush_seconds": _int_in(1, 300),
                "restore_accept_gap": _bool,
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
    if backup.restore_accept_gap and not backup.binlog_archive:
        raise _fail(
            f"{key}.restore_accept_gap",
            backup.restore_accept_gap,
            "it decides what the restore does at a gap in the binlog archive, and "
            "backup.binlog_archive is false",
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
                "restore_image": _or_empty(_pinned_image),
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
    "standby_scale": lambda k, v: _choice(k, _decode(v), STANDBY_SCALES),
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
