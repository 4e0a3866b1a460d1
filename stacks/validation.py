"""Config values the clouds refuse only at `pulumi up`, caught before any resource exists.

``parse_config`` has already checked types and ranges; this module checks what the clouds
check: name rules and lengths (including the names drstack *derives* from a key, such as
``<name_prefix>-dr-rds-replica``), reserved names, tag limits, key and image formats, and
values only a live API can confirm (against the dated lists of ``stacks.rules.dated``).
Each finding names the key the operator has to change.

It imports no Pulumi and raises nothing: ``stacks.config`` turns the first finding into
its one-line ``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from components.aurora_rules import aurora_class_refusal, aurora_version_refusal
from stacks.rules import dated, formats, names, reserved, tags
from stacks.rules.dated import DatedList

if TYPE_CHECKING:
    from stacks.config_schema import StackConfig

# Tags drstack adds to some resources on top of the stack's tags (Name,
# kubernetes.io/cluster/<name>, kubernetes.io/role/elb, BucketRole/DataSovereignty).
DRSTACK_RESOURCE_TAGS = 4
# Must match the suffixes the stacks derive (stacks/warm_standby.py, stacks/pilot_light.py,
# components/s3_cross_region.py); tests/core/test_config_rules.py checks them against a
# synthesized stack.
DR_BUCKET_SUFFIX = "-dr"
RDS_REPLICA_SUFFIX = "-dr-rds-replica"
# The Aurora secondary cluster (stacks/database.py) and the instance suffix both sides use.
AURORA_SECONDARY_SUFFIX = "-dr-aurora"
AURORA_INSTANCE_SUFFIX = "-1"
AZURE_NAME_HASH_LENGTH = 6


@dataclass(frozen=True)
class Refusal:
    """``key`` is a ``drstack:`` key, unless ``namespaced`` is false (the stack name)."""

    key: str
    value: object
    expected: str
    namespaced: bool = True


def refusals(cfg: StackConfig) -> Iterator[Refusal]:
    yield from _names(cfg)
    yield from _database(cfg)
    if _builds_aws_cluster(cfg) and cfg.rds.engine == "aurora-mysql":
        yield from _aurora(cfg)
    yield from _tags(cfg)
    yield from _images(cfg)
    yield from _certificate(cfg)
    if cfg.strategy == "pilot-light":
        yield from _azure(cfg)
    yield from _dated(cfg)


def first_refusal(cfg: StackConfig) -> Refusal | None:
    return next(refusals(cfg), None)


# --------------------------------------------------------------------------- names


def _builds_aws_cluster(cfg: StackConfig) -> bool:
    return cfg.role == "primary" or cfg.strategy == "warm-standby"


def _names(cfg: StackConfig) -> Iterator[Refusal]:
    for role, bucket in cfg.buckets.items():
        yield from _refuse(f"buckets.{role}", bucket, names.s3_bucket(bucket))
    for repo in cfg.ecr_repositories:
        yield from _refuse("ecr_repositories", repo, names.ecr_repository(repo))
    for service in cfg.services:
        yield from _refuse(f"services.{service}", service, names.k8s_label_name(service))
    if cfg.role == "primary":
        yield from _refuse(
            "rds.identifier", cfg.rds.identifier, names.rds_identifier(cfg.rds.identifier)
        )
    if cfg.role == "dr":
        dns = cfg.dns
        yield from _refuse("dns.zone", dns.zone, names.dns_name(dns.zone))
        yield from _derived("dns.record", dns.record, dns.fqdn, names.dns_name(dns.fqdn))
    if cfg.strategy == "warm-standby":
        yield from _warm_standby_names(cfg)
    if cfg.strategy == "pilot-light":
        yield from _pilot_light_names(cfg)


def _warm_standby_names(cfg: StackConfig) -> Iterator[Refusal]:
    if cfg.rds.engine == "mysql":  # Aurora's secondary cluster: _aurora_cluster_names
        replica = f"{cfg.name_prefix}{RDS_REPLICA_SUFFIX}"
        yield from _derived("name_prefix", cfg.name_prefix, replica, names.rds_identifier(replica))
    for role, bucket in cfg.buckets.items():
        if role in cfg.sovereign_data or bucket in cfg.sovereign_data:
            continue  # no DR copy for data that stays in its region
        copy = f"{bucket}{DR_BUCKET_SUFFIX}"
        yield from _derived(f"buckets.{role}", bucket, copy, names.s3_bucket(copy))
    if cfg.dns.manage_records:
        function = f"{cfg.stack}-auto-failover"
        problem = names.lambda_function(function)
        if problem:
            yield Refusal("stack name", cfg.stack, f"derives {problem}", namespaced=False)


def _pilot_light_names(cfg: StackConfig) -> Iterator[Refusal]:
    digest = "0" * AZURE_NAME_HASH_LENGTH  # the length is what matters; letters vary
    prefix = cfg.name_prefix
    derived = {
        f"{prefix}-dr-mysql-{digest}": names.azure_mysql_server,
        f"{prefix}-dr-{digest}": names.azure_dns_label,
        f"{prefix}-pilot-light-{cfg.azure.location}": names.azure_resource_group,
    }
    for name, rule in derived.items():
        yield from _derived("name_prefix", prefix, name, rule(name))
    if cfg.dns.manage_records:
        verify = f"asverify.{cfg.dns.fqdn}"
        yield from _derived("dns.record", cfg.dns.record, verify, names.dns_name(verify))


# --------------------------------------------------------------------------- database


def _database(cfg: StackConfig) -> Iterator[Refusal]:
    mysql_words = reserved.MYSQL_RESERVED_WORDS | reserved.RDS_MYSQL_RESERVED_USERS
    rds = cfg.rds
    yield from _refuse(
        "rds.db_name",
        rds.db_name,
        names.mysql_name(rds.db_name, 64, mysql_words, "a MySQL database name"),
    )
    if cfg.role == "primary":
        yield from _refuse(
            "rds.master_username",
            rds.master_username,
            names.mysql_name(rds.master_username, 16, mysql_words, "an RDS for MySQL master user"),
        )
        # MySQL 8 user names are at most 32 characters; the app must not share the master's.
        app_user = names.mysql_name(rds.app_username, 32, mysql_words, "a MySQL user name")
        if not app_user and rds.app_username.lower() == rds.master_username.lower():
            app_user = "the app has its own database user, never the master user"
        yield from _refuse("rds.app_username", rds.app_username, app_user)


def _aurora(cfg: StackConfig) -> Iterator[Refusal]:
    """What an Aurora MySQL global database refuses at `up` (components/aurora_global.py)."""
    rds = cfg.rds
    yield from _refuse(
        "rds.aurora_instance_class",
        rds.aurora_instance_class,
        aurora_class_refusal(rds.aurora_instance_class),
    )
    yield from _refuse(
        "rds.aurora_engine_version",
        rds.aurora_engine_version,
        aurora_version_refusal(rds.aurora_engine_version),
    )
    global_id = cfg.aurora_global_cluster_id
    key = "rds.global_cluster_id" if rds.global_cluster_id else "name_prefix"
    problem = names.rds_identifier(global_id)
    if key == "name_prefix":
        yield from _derived(key, cfg.name_prefix, global_id, problem)
    else:
        yield from _refuse(key, global_id, problem)
    if rds.backup_retention_days < 1:
        # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Backups.html
        yield Refusal(
            "rds.backup_retention_days",
            rds.backup_retention_days,
            "Aurora keeps automated backups for 1 to 35 days; it cannot turn them off",
        )
    yield from _aurora_cluster_names(cfg)


def _aurora_cluster_names(cfg: StackConfig) -> Iterator[Refusal]:
    if cfg.role == "primary":
        instance = f"{cfg.rds.identifier}{AURORA_INSTANCE_SUFFIX}"
        yield from _derived(
            "rds.identifier", cfg.rds.identifier, instance, names.rds_identifier(instance)
        )
        return
    secondary = f"{cfg.name_prefix}{AURORA_SECONDARY_SUFFIX}{AURORA_INSTANCE_SUFFIX}"
    yield from _derived("name_prefix", cfg.name_prefix, secondary, names.rds_identifier(secondary))


# --------------------------------------------------------------------------- tags


def _tags(cfg: StackConfig) -> Iterator[Refusal]:
    all_tags = cfg.base_tags
    limit = min(tags.AWS_MAX_TAGS, tags.AZURE_MAX_TAGS) - DRSTACK_RESOURCE_TAGS
    if len(all_tags) > limit:
        yield Refusal(
            "tags",
            f"{len(cfg.tags)} tags",
            f"AWS and Azure allow 50 tags per resource; with drstack's own that leaves "
            f"{limit - (len(all_tags) - len(cfg.tags))} for drstack:tags",
        )
    on_azure = cfg.strategy == "pilot-light"
    for key, value in all_tags.items():
        shown = f"tags.{key}" if key in cfg.tags else "stack name"
        key_rules = [tags.aws_tag_key] + ([tags.azure_tag_name] if on_azure else [])
        value_rules = [tags.aws_tag_value] + ([tags.azure_tag_value] if on_azure else [])
        for key_rule in key_rules:
            yield from _refuse(shown, key, key_rule(key), namespaced=shown != "stack name")
        for value_rule in value_rules:
            yield from _refuse(shown, value, value_rule(value), namespaced=shown != "stack name")


# --------------------------------------------------------------------------- formats


def _images(cfg: StackConfig) -> Iterator[Refusal]:
    # "" = not set (the app comes from image_tags; the backup job waits for its image).
    if _builds_aws_cluster(cfg) and cfg.app.image:
        yield from _refuse("app.image", cfg.app.image, formats.image_reference(cfg.app.image))
    if cfg.strategy == "pilot-light" and cfg.backup.image:
        yield from _refuse(
            "backup.image", cfg.backup.image, formats.image_reference(cfg.backup.image)
        )


def _certificate(cfg: StackConfig) -> Iterator[Refusal]:
    arn = cfg.app.certificate_arn
    if not arn:
        return
    # An ACM certificate serves only load balancers in its own region.
    # https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
    region = arn.split(":")[3]
    if region != cfg.region:
        yield Refusal(
            "app.certificate_arn",
            arn,
            f"the certificate is in {region} but the app's load balancer is in {cfg.region}; "
            f"ACM certificates are regional: request or import one in {cfg.region}",
        )


def _azure(cfg: StackConfig) -> Iterator[Refusal]:
    admin = cfg.azure.admin_username
    for refused, why in (
        (reserved.AZURE_VM_RESERVED_ADMIN_NAMES, "Azure refuses it as a VM admin name"),
        (reserved.LINUX_SYSTEM_USERS, "it is a system account of the VM image"),
        (reserved.AZURE_MYSQL_RESERVED_LOGINS, "Azure MySQL refuses it as administrator login"),
    ):
        if admin in refused:
            yield Refusal("azure.admin_username", admin, f"{why}; choose e.g. drstackadmin")
    key = cfg.azure.ssh_public_key
    if key:
        yield from _refuse(
            "azure.ssh_public_key", _key_shown(key), formats.azure_ssh_public_key(key)
        )


def _key_shown(key: str) -> str:
    """A public key is not secret, but a whole one makes an unreadable error line."""
    return key if len(key) <= 40 else f"{key[:30]}...{key[-6:]}"


# --------------------------------------------------------------------------- dated lists


def _dated_values(cfg: StackConfig) -> list[tuple[str, str, DatedList]]:
    if not _builds_aws_cluster(cfg):
        return []
    return [
        ("eks.version", cfg.eks.version, dated.EKS_STANDARD_SUPPORT),
        ("eks.instance_type", cfg.eks.instance_type, dated.ec2_instance_types()),
        *_rds_dated_values(cfg),
    ]


def _rds_dated_values(cfg: StackConfig) -> list[tuple[str, str, DatedList]]:
    # With Aurora the RDS for MySQL version and class are not used (aurora_* are).
    if cfg.rds.engine == "aurora-mysql":
        return []
    return [
        ("rds.engine_version", cfg.rds.engine_version, dated.RDS_MYSQL_VERSIONS),
        ("rds.instance_class", cfg.rds.instance_class, dated.RDS_MYSQL_INSTANCE_CLASSES),
    ]


def _dated(cfg: StackConfig) -> Iterator[Refusal]:
    checked = _dated_values(cfg)
    for key, value, known in checked:
        if value not in known.values and value not in cfg.allow_unlisted:
            yield Refusal(key, value, known.explain(value))
    unlisted_in_use = {value for _, value, known in checked if value not in known.values}
    for value in cfg.allow_unlisted:
        if value not in unlisted_in_use:
            yield Refusal(
                "allow_unlisted",
                value,
                "lists only values this stack uses that drstack's dated lists do not know "
                "(remove it: it is listed already, or not used here)",
            )


# --------------------------------------------------------------------------- helpers


def _refuse(
    key: str, value: object, problem: str | None, namespaced: bool = True
) -> Iterator[Refusal]:
    if problem:
        yield Refusal(key, value, problem, namespaced)


def _derived(key: str, value: object, derived: str, problem: str | None) -> Iterator[Refusal]:
    if problem:
        yield Refusal(key, value, f"it derives {derived!r}, and {problem}")
