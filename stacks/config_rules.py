"""Cross-key rules: what no single key's parser can see (run after all keys are parsed)."""

from __future__ import annotations

import ipaddress

from stacks.config_schema import StackConfig
from stacks.config_values import NAMESPACE, ConfigError, _fail
from stacks.validation import first_refusal

# Linux VM admin names Azure refuses (OSProfile.adminUsername).
AZURE_RESERVED_USERNAMES: frozenset[str] = frozenset(
    {
        "admin", "administrator", "root", "user", "user1", "user2", "test", "test1", "guest",
        "owner", "sys", "sysadmin", "support", "server", "backup", "console", "sql", "david",
    }
)  # fmt: skip


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
    if cfg.run_restore and not cfg.backup.image:
        raise ConfigError(
            f"{NAMESPACE}:backup.image is missing: run_restore runs the backup image "
            '(docker/backup/Dockerfile, README "The backup image"); set it to a pinned tag or digest'
        )
    _check_restore_image_reachable(cfg)
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


def restore_image(cfg: StackConfig) -> str:
    """The image the Azure restore job runs: azure.restore_image, else backup.image."""
    return cfg.azure.restore_image or cfg.backup.image


def _check_restore_image_reachable(cfg: StackConfig) -> None:
    # The restore job runs during the primary region's outage: an image in that region's
    # ECR cannot be pulled then (and Azure Container Instances has no ECR credentials).
    image = restore_image(cfg)
    if not (cfg.run_restore and cfg.primary_region):
        return
    if f".dkr.ecr.{cfg.primary_region}.amazonaws.com/" in image:
        key = "azure.restore_image" if cfg.azure.restore_image else "backup.image"
        raise ConfigError(
            f"{NAMESPACE}:{key} = {image!r} is invalid for the restore job: it is in the "
            f"primary region's ECR ({cfg.primary_region}), which is down when the restore runs; "
            "copy the image to a registry outside that region (e.g. Azure Container Registry "
            "in the site's location) and set drstack:azure.restore_image"
        )
