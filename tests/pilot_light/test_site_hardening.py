"""azure-pilot: location outside Seoul, backup storage firewall and SAS, gateway TLS."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from components.azure_backup_access import sas_connection_string, sas_expiry
from components.azure_gateway_tls import KEY_VAULT_SECRETS_USER
from drctl.synth import SECRET_MASK, Synthesis
from tests.pilot_light.conftest import EMERGENCY, synth

AZ = "azure-native:"
ACCOUNT = f"{AZ}storage:StorageAccount"
APPGW = f"{AZ}network:ApplicationGateway"
SUBNET = f"{AZ}network:Subnet"


def sas_fields(connection_string: str) -> dict[str, str]:
    token = connection_string.split("SharedAccessSignature=", 1)[1]
    return dict(part.split("=", 1) for part in token.split("&"))


# ----------------------------------------------------------------------------- location


def test_default_site_is_outside_the_primary_metro(standby: Synthesis) -> None:
    # koreacentral is Seoul; the DR site and its backups must not share Seoul's disaster.
    locations = {r.region for r in standby.resources if r.type.startswith(AZ)}
    assert locations == {"koreasouth"}
    assert standby.config.azure.location == "koreasouth"


# ----------------------------------------------------------------------------- storage


def test_backup_account_firewall_denies_by_default(standby: Synthesis) -> None:
    rules = standby.one(ACCOUNT, "backups").inputs["networkRuleSet"]
    assert rules["defaultAction"] == "Deny"
    assert rules["ipRules"] == []
    # The restore job (and an operator on the VMs) read from inside the VNet: admitted by
    # VNet rules through the subnets' storage endpoints, and nothing else.
    admitted = sorted(r["virtualNetworkResourceId"] for r in rules["virtualNetworkRules"])
    subnets = [standby.one(SUBNET, role).inputs for role in ("restore", "vms")]
    assert [a.rsplit("/", 1)[1] for a in admitted] == [s["subnetName"] for s in subnets]
    for subnet in subnets:
        assert {"service": "Microsoft.Storage"} in subnet["serviceEndpoints"]


def test_backup_source_ips_are_the_only_internet_writers() -> None:
    s = synth("azure.backup_source_ips=[203.0.113.10, 198.51.100.0/28]")
    rules = s.one(ACCOUNT, "backups").inputs["networkRuleSet"]
    assert [r["iPAddressOrRange"] for r in rules["ipRules"]] == [
        "203.0.113.10",
        "198.51.100.0/28",
    ]
    assert {r["action"] for r in rules["ipRules"]} == {"Allow"}


def test_maintenance_account_stays_public(standby: Synthesis) -> None:
    # The maintenance page must reach every visitor; it holds one public page.
    assert "networkRuleSet" not in standby.one(ACCOUNT, "maintenance").inputs


def test_no_account_key_leaves_the_site(standby: Synthesis) -> None:
    outputs = standby.outputs
    for name in ("backup_connection_string", "backup_writer_connection_string"):
        assert name in standby.secret_outputs
        assert "AccountKey" not in outputs[name]
        assert standby.display_outputs()[name] == SECRET_MASK
    reader = sas_fields(outputs["backup_connection_string"])
    writer = sas_fields(outputs["backup_writer_connection_string"])
    assert (reader["sr"], reader["sp"], reader["spr"]) == ("c", "rl", "https")
    assert (writer["sr"], writer["sp"]) == ("c", "rcwdl")
    assert reader["se"] == writer["se"] == sas_expiry(datetime.now(UTC).date())


@pytest.mark.parametrize(
    ("today", "expiry"),
    [
        (date(2026, 1, 1), "2026-07-01T00:00:00Z"),
        (date(2026, 3, 31), "2026-07-01T00:00:00Z"),
        (date(2026, 4, 1), "2026-10-01T00:00:00Z"),
        (date(2026, 11, 29), "2027-04-01T00:00:00Z"),
        (date(2026, 12, 31), "2027-04-01T00:00:00Z"),
    ],
)
def test_sas_expiry_follows_the_quarter(today: date, expiry: str) -> None:
    assert sas_expiry(today) == expiry
    left = date.fromisoformat(expiry[:10]) - today
    assert 89 <= left.days <= 184  # three to six months


def test_sas_connection_string_has_no_key() -> None:
    text = sas_connection_string("acct", "?sv=1&sig=abc")
    assert (
        text
        == "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=abc"
    )


# ----------------------------------------------------------------------------- TLS


def test_gateway_serves_https_with_the_key_vault_certificate() -> None:
    s = synth(*EMERGENCY)
    gw = s.one(APPGW).inputs
    listeners = {item["name"]: item for item in gw["httpListeners"]}
    assert listeners["https"]["protocol"] == "Https"
    assert listeners["https"]["sslCertificate"]["id"].endswith("/sslCertificates/service")
    assert {p["name"]: p["port"] for p in gw["frontendPorts"]} == {"http": 80, "https": 443}
    (cert,) = gw["sslCertificates"]
    vault = s.one(f"{AZ}keyvault:Vault").inputs
    # Versionless, so a renewed certificate is picked up without a deploy.
    assert cert["keyVaultSecretId"] == (
        f"https://{vault['vaultName']}.vault.azure.net/secrets/service-tls"
    )
    assert s.outputs["key_vault_name"] == vault["vaultName"]
    assert gw["sslPolicy"] == {"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"}
    # Port 80 only redirects to the HTTPS listener.
    rules = {r["name"]: r for r in gw["requestRoutingRules"]}
    assert rules["redirect-http"]["httpListener"]["id"].endswith("/httpListeners/http")
    assert "backendAddressPool" not in rules["redirect-http"]
    (redirect,) = gw["redirectConfigurations"]
    assert redirect["targetListener"]["id"].endswith("/httpListeners/https")
    assert rules["service"]["httpListener"]["id"].endswith("/httpListeners/https")


def test_gateway_identity_may_read_the_vault_and_nothing_more() -> None:
    s = synth(*EMERGENCY)
    gw = s.one(APPGW)
    identity = s.one(f"{AZ}managedidentity:UserAssignedIdentity")
    assert gw.inputs["identity"]["type"] == "UserAssigned"
    (identity_id,) = gw.inputs["identity"]["userAssignedIdentities"]
    assert f"/{identity.name}" in identity_id
    role = s.one(f"{AZ}authorization:RoleAssignment")
    assert role.inputs["roleDefinitionId"].endswith("/" + KEY_VAULT_SECRETS_USER)
    vault = s.one(f"{AZ}keyvault:Vault")
    assert role.inputs["scope"].endswith("/vaults/" + vault.inputs["vaultName"])
    assert role.inputs["principalType"] == "ServicePrincipal"
    # The gateway loads the certificate only once its identity holds the role.
    assert role.urn in gw.depends_on


def test_vault_admits_only_the_gateway_subnet_and_operators() -> None:
    s = synth(*EMERGENCY, "azure.operator_ips=[203.0.113.7]")
    props = s.one(f"{AZ}keyvault:Vault").inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    acls = props["networkAcls"]
    assert acls["defaultAction"] == "Deny"
    assert acls["ipRules"] == [{"value": "203.0.113.7"}]
    appgw = s.one(SUBNET, "appgw")
    (subnet_rule,) = acls["virtualNetworkRules"]
    assert subnet_rule["id"].endswith("/" + appgw.inputs["subnetName"])
    assert {"service": "Microsoft.KeyVault"} in appgw.inputs["serviceEndpoints"]


def test_vault_exists_before_any_disaster(standby: Synthesis) -> None:
    # The certificate is imported ahead of time; phase 2 has no time to obtain one.
    assert standby.of_type(f"{AZ}keyvault:Vault")
    assert standby.of_type(APPGW) == []
