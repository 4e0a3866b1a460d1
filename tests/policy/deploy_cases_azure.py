"""Bad cases of policy/deploy_azure.py: one per policy, each seen to fire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.pilot_light.conftest import BACKUP_IMAGE, EMERGENCY
from tests.policy.conftest import caught, mutate, record, run_policies, synth, without

ACCOUNT = "azure-native:storage:StorageAccount"
APPGW = "azure-native:network:ApplicationGateway"
SECRET = "kubernetes:core/v1:Secret"
CRONJOB = "kubernetes:batch/v1:CronJob"
HEALTH = "aws:route53/healthCheck:HealthCheck"


def case_same_metro() -> None:
    s = synth("azure-pilot", "azure.location=koreacentral")
    caught(
        "azure-dr-site-outside-primary-metro",
        run_policies(s),
        "pilot-backups is in Azure koreacentral",
        "same metro as the primary region ap-northeast-2",
    )


def case_storage_firewall() -> None:
    s = synth("azure-pilot")

    def open_to_all(inputs: dict[str, Any]) -> None:
        inputs["networkRuleSet"]["defaultAction"] = "Allow"
        inputs["networkRuleSet"]["ipRules"] = [
            {"iPAddressOrRange": "10.0.0.0/8", "action": "Allow"},
            {"iPAddressOrRange": "203.0.113.9/32", "action": "Allow"},
        ]

    rs, _ = mutate(s, ACCOUNT, "backups", open_to_all)
    caught(
        "azure-storage-firewall-default-deny",
        run_policies(s, rs),
        "admits every network",
        "CKV_AZURE_59",
        "'10.0.0.0/8': private and reserved ranges are refused",
        "'203.0.113.9/32': /31 and /32 ranges are refused",
    )


def case_account_key() -> None:
    s = synth("azure-pilot-backup", *BACKUP_IMAGE)
    key = (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=bW9jaw==;"
        "EndpointSuffix=core.windows.net"
    )
    rs, _ = mutate(
        s,
        SECRET,
        "azure-credential",
        lambda i: i.update(stringData={"azure-storage-connection-string": key}),
    )
    caught(
        "azure-backup-job-no-account-key",
        run_policies(s, rs),
        "backup-azure-credential carries a storage account key",
    )


def case_appgw_https() -> None:
    s = synth("azure-pilot", *EMERGENCY)

    def http_only(inputs: dict[str, Any]) -> None:
        inputs["httpListeners"] = [
            item for item in inputs["httpListeners"] if item["name"] == "http"
        ]
        rule = next(r for r in inputs["requestRoutingRules"] if r["name"] == "service")
        rule["httpListener"] = {"id": rule["httpListener"]["id"].replace("https", "http")}
        inputs["requestRoutingRules"] = [rule]
        inputs["sslPolicy"] = {"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"}
        inputs.pop("identity")

    rs, _ = mutate(s, APPGW, "", http_only)
    caught(
        "azure-appgw-https-listener",
        run_policies(s, rs),
        "has no HTTPS listener (CKV_AZURE_218)",
        "serves content over plain HTTP on listener 'http'",
        "no user-assigned identity",
    )
    # The TLS policy on its own: a 443 listener with TLS 1.0 allowed.
    weak, _ = mutate(
        s,
        APPGW,
        "",
        lambda i: i.update(
            sslPolicy={"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"}
        ),
    )
    caught("azure-appgw-https-listener", run_policies(s, weak), "allows TLS below 1.2")


def case_https_probe() -> None:
    s = synth("azure-pilot", "force_failover=true")
    maintenance = s.one(ACCOUNT, "maintenance").inputs["customDomain"]["name"]
    probe = record(
        HEALTH,
        "secondary-health",
        {"type": "HTTPS", "fqdn": maintenance, "port": 443, "resourcePath": "/"},
        region="us-east-1",
    )
    caught(
        "route53-https-probe-needs-tls",
        run_policies(s, [*s.resources, probe]),
        f"probes {maintenance} over HTTPS",
        "HTTP only",
    )


def case_backup_stack_has_job() -> None:
    s = synth("azure-pilot-backup", *BACKUP_IMAGE)
    rs = without(s, lambda r: r.type == CRONJOB)
    caught(
        "pilot-light-backup-stack-has-job",
        run_policies(s, rs),
        "no scheduled job writing to the mysql-backups container of azure-pilot",
    )


CASES: dict[str, Callable[[], None]] = {
    "azure-dr-site-outside-primary-metro": case_same_metro,
    "azure-storage-firewall-default-deny": case_storage_firewall,
    "azure-backup-job-no-account-key": case_account_key,
    "azure-appgw-https-listener": case_appgw_https,
    "route53-https-probe-needs-tls": case_https_probe,
    "pilot-light-backup-stack-has-job": case_backup_stack_has_job,
}
