"""Deploy-time constraints of the Azure pilot light (site stack and backup stack).

Each rule here is one Azure (or the DR design) enforces only when `pulumi up` runs, or
one checkov reports (the CKV id is named), caught at preview instead.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from policy.common import (
    SCHEDULER_TYPES,
    T_AZ_STORAGE,
    T_HEALTH_CHECK,
    _get,
    _items,
    _of,
    _plain,
    _resource_policy,
    _stack_policy,
    current_context,
    resource_region,
)

T_APPGW = "azure-native:network:ApplicationGateway"

# Azure locations in the same metropolitan area as an AWS region: a regional disaster
# (earthquake, flood, grid or carrier failure) takes both. Regions merely in the same
# country (koreasouth for Seoul, japanwest for Tokyo) are deliberately absent.
SAME_METRO: Mapping[str, frozenset[str]] = {
    "ap-northeast-2": frozenset({"koreacentral"}),  # Seoul
    "ap-northeast-1": frozenset({"japaneast"}),  # Tokyo
    "ap-northeast-3": frozenset({"japanwest"}),  # Osaka
    "ap-southeast-1": frozenset({"southeastasia"}),  # Singapore
    "ap-southeast-2": frozenset({"australiaeast"}),  # Sydney
    "ap-east-1": frozenset({"eastasia"}),  # Hong Kong
    "ap-south-1": frozenset({"westindia"}),  # Mumbai
    "eu-west-1": frozenset({"northeurope"}),  # Dublin
    "eu-west-2": frozenset({"uksouth"}),  # London
    "eu-west-3": frozenset({"francecentral"}),  # Paris
    "eu-central-1": frozenset({"germanywestcentral"}),  # Frankfurt
    "us-east-1": frozenset({"eastus", "eastus2"}),  # Northern Virginia
    "sa-east-1": frozenset({"brazilsouth"}),  # Sao Paulo
}
# Storage whose second copy lives in the paired region, outside the metro.
GEO_REDUNDANT_SKUS = frozenset(
    {"Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"}
)
MAINTENANCE_STORAGE_ROLE = "maintenance-page"
# App Gateway predefined TLS policies whose minimum protocol is TLS 1.2 (the older
# AppGwSslPolicy20150501/20170401 allow TLS 1.0/1.1).
TLS12_POLICIES = frozenset(
    {"AppGwSslPolicy20170401S", "AppGwSslPolicy20220101", "AppGwSslPolicy20220101S"}
)
HTTPS_CHECK_TYPES = ("HTTPS", "HTTPS_STR_MATCH")

DOC_STORAGE_FIREWALL = "https://learn.microsoft.com/azure/storage/common/storage-network-security"
DOC_KEY_VAULT_CERTS = "https://learn.microsoft.com/azure/application-gateway/key-vault-certs"
DOC_TLS_POLICY = (
    "https://learn.microsoft.com/azure/application-gateway/application-gateway-ssl-policy-overview"
)
DOC_STATIC_WEBSITE_DOMAIN = (
    "https://learn.microsoft.com/azure/storage/blobs/storage-custom-domain-name"
)
DOC_SAS = "https://learn.microsoft.com/azure/storage/common/storage-sas-overview"
DOC_HEALTH_CHECKS = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html"


# ------------------------------------------------------------------------- metro separation


def _same_metro(args: ResourceValidationArgs, report: ReportViolation) -> None:
    ctx = current_context(args)
    cfg = ctx.config
    if cfg is None or cfg.role != "dr" or not cfg.primary_region:
        return
    location = str(resource_region(args.props, args.provider) or "").replace(" ", "").lower()
    metro = SAME_METRO.get(cfg.primary_region, frozenset())
    if location not in metro:
        return
    if args.resource_type == T_AZ_STORAGE and _get(args.props, "sku", "name") in (
        GEO_REDUNDANT_SKUS
    ):
        return  # its second copy lives in the paired region
    report(
        f"{args.name} is in Azure {location}, the same metro as the primary region "
        f"{cfg.primary_region}: a disaster there takes the DR site too; use another region "
        "(e.g. koreasouth for a Seoul primary, keeping the data in Korea)",
        None,
    )


# ------------------------------------------------------------------------- storage firewall


def _storage_firewall(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if _get(p, "tags", "StorageRole") == MAINTENANCE_STORAGE_ROLE:
        return  # one public static page and nothing else: it must be reachable by anyone
    rules = p.get("networkRuleSet")
    private = p.get("publicNetworkAccess") == "Disabled"
    if not private and _get(rules, "defaultAction") != "Deny":
        report(
            f"storage account {args.name} admits every network (networkRuleSet.defaultAction "
            f"is {_get(rules, 'defaultAction')!r}, CKV_AZURE_59): set it to Deny and allow "
            "the writers' IPs and subnets",
            None,
        )
    for rule in _items(_get(rules, "ipRules")):
        value = str(_get(rule, "iPAddressOrRange") or _get(rule, "value") or "")
        problem = _ip_rule_problem(value)
        if problem:
            report(f"storage account {args.name} ipRules entry {value!r}: {problem}", None)


def _ip_rule_problem(value: str) -> str | None:
    """Azure refuses these IP rules at deploy time (see DOC_STORAGE_FIREWALL)."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "not an IPv4 address or CIDR"
    if net.version != 4:
        return "IP network rules take IPv4 only"
    if "/" in value and net.prefixlen in (31, 32):
        return "/31 and /32 ranges are refused: give the single address without a prefix"
    if not net.is_global:
        return "private and reserved ranges are refused: allow a subnet by a VNet rule instead"
    return None


# ------------------------------------------------------------------------- credentials


def _no_account_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    text = json.dumps(_plain(args.props))
    if "AccountKey=" in text:
        report(
            f"{args.name} carries a storage account key (AccountKey=...): give a job a "
            "service SAS or a role scoped to its container, never the key of the account",
            None,
        )


# ------------------------------------------------------------------------- App Gateway TLS


def _listener_name(ref: Any) -> str:
    return str(_get(ref, "id") or "").rsplit("/", 1)[-1]


def _appgw_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    listeners = {str(_get(item, "name")): item for item in _items(p.get("httpListeners"))}
    rules = _items(p.get("requestRoutingRules"))
    https = [n for n, item in listeners.items() if _get(item, "protocol") == "Https"]
    if not https:
        report(
            f"Application Gateway {args.name} has no HTTPS listener (CKV_AZURE_218): add a "
            "443 listener with a certificate",
            None,
        )
    redirected = {
        _listener_name(_get(rule, "httpListener"))
        for rule in rules
        if _get(rule, "redirectConfiguration") and not _get(rule, "backendAddressPool")
    }
    for name, item in listeners.items():
        if _get(item, "protocol") == "Http" and name not in redirected:
            report(
                f"Application Gateway {args.name} serves content over plain HTTP on listener "
                f"{name!r}: route it to a redirect to the HTTPS listener",
                None,
            )
    policy = p.get("sslPolicy")
    name = _get(policy, "policyName")
    minimum = _get(policy, "minProtocolVersion")
    if https and name not in TLS12_POLICIES and minimum not in ("TLSv1_2", "TLSv1_3"):
        report(
            f"Application Gateway {args.name} TLS policy {name or minimum!r} allows TLS "
            "below 1.2: use the predefined AppGwSslPolicy20220101S",
            None,
        )
    vault_refs = [c for c in _items(p.get("sslCertificates")) if _get(c, "keyVaultSecretId")]
    identity_type = str(_get(p, "identity", "type") or "")
    if vault_refs and "UserAssigned" not in identity_type:
        report(
            f"Application Gateway {args.name} takes certificates from Key Vault but has no "
            "user-assigned identity to read them: Azure refuses the deployment",
            None,
        )


# ------------------------------------------------------------------------- probes


def _https_probe_has_tls(args: StackValidationArgs, report: ReportViolation) -> None:
    http_only_hosts = set()
    for res in _of(args.resources, T_AZ_STORAGE):
        domain = _get(res.props, "customDomain", "name")
        if domain:
            # A storage custom domain is served over HTTP only.
            http_only_hosts.add(str(domain).lower())
    gateways = _of(args.resources, T_APPGW)
    tls_gateway = any(
        _get(listener, "protocol") == "Https"
        for gw in gateways
        for listener in _items(gw.props.get("httpListeners"))
    )
    for check in _of(args.resources, T_HEALTH_CHECK):
        kind = check.props.get("type")
        fqdn = str(check.props.get("fqdn") or "").lower().rstrip(".")
        if kind not in HTTPS_CHECK_TYPES or not fqdn:
            continue
        if fqdn in http_only_hosts or fqdn.endswith(".web.core.windows.net"):
            served = "a storage static website on a custom domain, HTTP only"
        elif fqdn.endswith(".cloudapp.azure.com") and not tls_gateway:
            served = "an Application Gateway without an HTTPS listener"
        else:
            continue
        report(
            f"health check {check.name} probes {fqdn} over {kind}, but that endpoint is "
            f"{served}: probe what is actually served",
            check.urn,
        )


# ------------------------------------------------------------------------- the backup stack


def _backup_stack_has_job(args: StackValidationArgs, report: ReportViolation) -> None:
    cfg = current_context(args).config
    if cfg is None or not cfg.site_stack:
        args.not_applicable("not a pilot-light backup stack (no drstack:site_stack)")
        return
    if not cfg.backup.image:
        # Like a Deployment without image_tags: nothing to run until the pinned backup
        # image is pushed (README "The backup image"); the job is declared with it.
        args.not_applicable("drstack:backup.image is not set yet: the job waits for it")
        return
    jobs = [
        res
        for res in _of(args.resources, *SCHEDULER_TYPES)
        if "mysql-backups" in json.dumps(_plain(res.props))
    ]
    if not jobs:
        report(
            f"backup stack {cfg.stack} has no scheduled job writing to the mysql-backups "
            f"container of {cfg.site_stack}",
            None,
        )


POLICIES = [
    _resource_policy(
        "azure-dr-site-outside-primary-metro",
        "A DR site does not share the primary's disaster: no Azure resource of a DR stack "
        "in the primary's metro (koreacentral is Seoul, like ap-northeast-2), except "
        "geo-redundant storage. https://learn.microsoft.com/azure/reliability/"
        "cross-region-replication-azure",
        None,
        _same_metro,
        "Set drstack:azure.location to a region outside the primary's metro, e.g. "
        "koreasouth for a Seoul primary.",
    ),
    _resource_policy(
        "azure-storage-firewall-default-deny",
        "Storage accounts deny by default and admit named IPs/subnets (CKV_AZURE_59); "
        "Azure refuses /31, /32 and private ranges in IP rules at deploy time. "
        + DOC_STORAGE_FIREWALL,
        (T_AZ_STORAGE,),
        _storage_firewall,
        "Set networkRuleSet.defaultAction=Deny; list public egress IPs as single addresses "
        "(drstack:azure.backup_source_ips) and subnets as VNet rules.",
    ),
    _resource_policy(
        "azure-backup-job-no-account-key",
        "No job or Kubernetes Secret carries a storage account key; jobs get a container-"
        "scoped SAS or role. " + DOC_SAS,
        None,
        _no_account_key,
        "Hand the job the container SAS output (backup_writer_connection_string).",
    ),
    _resource_policy(
        "azure-appgw-https-listener",
        "Application Gateway serves HTTPS with a TLS 1.2+ policy, plain HTTP only "
        "redirects, and a Key Vault certificate needs a user-assigned identity "
        "(CKV_AZURE_218). " + DOC_KEY_VAULT_CERTS + " " + DOC_TLS_POLICY,
        (T_APPGW,),
        _appgw_https,
        "Add a 443 listener with the Key Vault certificate, a redirect rule for port 80, "
        "sslPolicy AppGwSslPolicy20220101S and a user-assigned identity.",
    ),
    _stack_policy(
        "route53-https-probe-needs-tls",
        "A Route 53 HTTPS health check probes only endpoints that serve TLS: a storage "
        "custom domain is HTTP only. " + DOC_STATIC_WEBSITE_DOMAIN + " " + DOC_HEALTH_CHECKS,
        _https_probe_has_tls,
        "Probe the endpoint over the protocol it serves (HTTP for the maintenance page) or "
        "give it TLS (the Application Gateway's 443 listener).",
    ),
    _stack_policy(
        "pilot-light-backup-stack-has-job",
        "The pilot-light backup stack (drstack:site_stack) runs a scheduled job that writes "
        "to the site's mysql-backups container.",
        _backup_stack_has_job,
        "Declare the BackupCronJob in stacks/pilot_light_backup.py.",
    ),
]
