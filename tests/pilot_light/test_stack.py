"""The azure-pilot stack under Pulumi mocks: phases, storage hardening, TLS, DNS.

The backup job lives in the azure-pilot-backup stack: tests/pilot_light/test_backup_stack.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.azure_pilot_light import plan_subnets
from drctl.synth import SECRET_MASK, Synthesis, synthesize
from tests.pilot_light.conftest import EMERGENCY, PETCLINIC, synth, toggles

AZ = "azure-native:"
VM = f"{AZ}compute:VirtualMachine"
MYSQL = f"{AZ}dbformysql:Server"
MYSQL_DB = f"{AZ}dbformysql:Database"
APPGW = f"{AZ}network:ApplicationGateway"
ACCOUNT = f"{AZ}storage:StorageAccount"
RECORD = "aws:route53/record:Record"
HEALTH = "aws:route53/healthCheck:HealthCheck"
EMERGENCY_TYPES = (
    VM,
    MYSQL,
    MYSQL_DB,
    APPGW,
    f"{AZ}network:PublicIPAddress",
    f"{AZ}network:NetworkInterface",
    f"{AZ}privatedns:PrivateZone",
)
ALWAYS_ON_TYPES = (
    f"{AZ}resources:ResourceGroup",
    f"{AZ}network:VirtualNetwork",
    f"{AZ}storage:BlobServiceProperties",
    f"{AZ}storage:BlobContainer",
    f"{AZ}storage:ManagementPolicy",
    f"{AZ}storage:StorageAccountStaticWebsite",
    f"{AZ}keyvault:Vault",
    f"{AZ}managedidentity:UserAssignedIdentity",
    f"{AZ}authorization:RoleAssignment",
)
CONTRACT = {
    "location",
    "resource_group_name",
    "storage_account_name",
    "backup_container",
    "health_check_id",
    "record_fqdn",
    "strategy",
}


@pytest.fixture(scope="module")
def seoul() -> Synthesis:
    return synthesize("seoul")


def backups_account(s: Synthesis) -> dict[str, Any]:
    return s.one(ACCOUNT, "backups").inputs


def routing_rule(s: Synthesis) -> dict[str, Any]:
    """The rule that serves the site (the other one only redirects HTTP to HTTPS)."""
    rules = {r["name"]: r for r in s.one(APPGW).inputs["requestRoutingRules"]}
    assert set(rules) == {"service", "redirect-http"}
    return rules["service"]


def all_display_text(s: Synthesis) -> str:
    return json.dumps([r.display_inputs for r in s.resources]) + json.dumps(s.display_outputs())


# ----------------------------------------------------------------------------- phases


def test_standby_is_only_the_cheap_always_on_part(standby: Synthesis) -> None:
    for t in EMERGENCY_TYPES:
        assert standby.of_type(t) == [], f"{t} must not exist in normal times"
    for t in ALWAYS_ON_TYPES:
        assert standby.of_type(t), f"{t} must always exist"
    assert len(standby.of_type(f"{AZ}network:Subnet")) == 4
    assert len(standby.of_type(f"{AZ}network:NetworkSecurityGroup")) == 4
    assert {r.name for r in standby.of_type(ACCOUNT)} == {"pilot-backups", "pilot-maintenance"}


def test_emergency_adds_database_vms_and_app_gateway(emergency: Synthesis) -> None:
    for t in EMERGENCY_TYPES:
        assert emergency.of_type(t), f"{t} is missing in an emergency"
    vms = {r.inputs["vmName"]: r.inputs for r in emergency.of_type(VM)}
    assert set(vms) == {"pilot-web", "pilot-was"}
    assert {v["hardwareProfile"]["vmSize"] for v in vms.values()} == {"Standard_B2s"}
    for vm in vms.values():
        linux = vm["osProfile"]["linuxConfiguration"]
        assert linux["disablePasswordAuthentication"] is True
        assert linux["ssh"]["publicKeys"][0]["keyData"].startswith("ssh-ed25519 ")
    server = emergency.one(MYSQL).inputs
    assert server["version"] == "8.0.21"
    assert server["sku"] == {"name": "Standard_B1ms", "tier": "Burstable"}
    assert server["backup"]["backupRetentionDays"] == 7
    # The dumped database (seoul's rds.db_name), not PetClinic's sample name.
    assert emergency.one(MYSQL_DB).inputs["databaseName"] == "portforge"


def test_mysql_has_private_access_only(emergency: Synthesis) -> None:
    network = emergency.one(MYSQL).inputs["network"]
    assert network["publicNetworkAccess"] == "Disabled"
    subnet = emergency.one(f"{AZ}network:Subnet", "mysql").inputs
    assert network["delegatedSubnetResourceId"].endswith("/" + subnet["subnetName"])
    assert [d["serviceName"] for d in subnet["delegations"]] == [
        "Microsoft.DBforMySQL/flexibleServers"
    ]
    zone = emergency.one(f"{AZ}privatedns:PrivateZone").inputs["privateZoneName"]
    assert zone.endswith(".mysql.database.azure.com")
    link = emergency.one(f"{AZ}privatedns:VirtualNetworkLink")
    # Server creation fails unless the zone is already linked to the VNet.
    assert link.urn in emergency.one(MYSQL).depends_on


def test_routing_rule_targets_maintenance_until_enable_petclinic(
    emergency: Synthesis, petclinic: Synthesis
) -> None:
    before, after = routing_rule(emergency), routing_rule(petclinic)
    assert before["backendAddressPool"]["id"].endswith("/backendAddressPools/maintenance")
    assert before["backendHttpSettings"]["id"].endswith("/maintenance-https")
    assert after["backendAddressPool"]["id"].endswith("/backendAddressPools/petclinic-web")
    assert after["backendHttpSettings"]["id"].endswith("/petclinic-http")
    assert emergency.outputs["routing_target"] == "maintenance"
    assert petclinic.outputs["routing_target"] == "petclinic-web"


def test_app_gateway_pools_probe_and_subnet(petclinic: Synthesis) -> None:
    gw = petclinic.one(APPGW).inputs
    assert gw["sku"]["tier"] == "Standard_v2"
    pools = {p["name"]: p["backendAddresses"] for p in gw["backendAddressPools"]}
    web_nic = petclinic.one(f"{AZ}network:NetworkInterface", "web").inputs
    web_ip = web_nic["ipConfigurations"][0]["privateIPAddress"]
    assert pools["petclinic-web"] == [{"ipAddress": web_ip}]
    maintenance_host = petclinic.outputs["maintenance_url"].split("/")[2]
    assert pools["maintenance"] == [{"fqdn": maintenance_host}]
    probes = {p["name"]: p for p in gw["probes"]}
    assert probes["petclinic-health"]["path"] == "/actuator/health"
    settings = {s["name"]: s for s in gw["backendHttpSettingsCollection"]}
    assert settings["petclinic-http"]["probe"]["id"].endswith("/probes/petclinic-health")
    # Azure Storage serves by Host header: the gateway must send the account's own name.
    assert settings["maintenance-https"]["pickHostNameFromBackendAddress"] is True
    # A dedicated subnet: nothing but the gateway lives in it.
    appgw_subnet = petclinic.one(f"{AZ}network:Subnet", "appgw")
    assert gw["gatewayIPConfigurations"][0]["subnet"]["id"].endswith("/appgw")
    assert not appgw_subnet.inputs.get("delegations")
    nsg = petclinic.one(f"{AZ}network:NetworkSecurityGroup", "appgw").inputs
    manager = [r for r in nsg["securityRules"] if r["sourceAddressPrefix"] == "GatewayManager"]
    assert manager and manager[0]["destinationPortRange"] == "65200-65535"


def test_vms_are_wired_to_mysql_and_each_other(petclinic: Synthesis) -> None:
    plan = plan_subnets("10.20.0.0/16")
    nics = {
        r.name: r.inputs["ipConfigurations"][0]["privateIPAddress"]
        for r in petclinic.of_type(f"{AZ}network:NetworkInterface")
    }
    assert nics == {"pilot-web-nic": plan.web_ip, "pilot-was-nic": plan.was_ip}
    import base64

    was = petclinic.one(VM, "was")
    init = base64.b64decode(was.inputs["osProfile"]["customData"]).decode()
    assert petclinic.outputs["mysql_server_fqdn"] in init
    assert f"{petclinic.outputs['mysql_server_fqdn']}:3306/portforge?" in init
    assert "SPRING_PROFILES_ACTIVE=mysql" in init and 'permissions: "0600"' in init
    # The rendered cloud-init holds the DB password, so it is masked like any secret.
    assert was.display_inputs["osProfile"]["customData"] == SECRET_MASK
    web = petclinic.one(VM, "web").inputs
    assert (
        f"proxy_pass http://{plan.was_ip}:8080"
        in base64.b64decode(web["osProfile"]["customData"]).decode()
    )


# ----------------------------------------------------------------------------- storage


def test_backup_storage_is_hardened(standby: Synthesis) -> None:
    account = backups_account(standby)
    assert account["kind"] == "StorageV2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowCrossTenantReplication"] is False
    assert 3 <= len(account["accountName"]) <= 24 and account["accountName"].isalnum()
    assert account["accountName"] == account["accountName"].lower()
    blob = standby.one(f"{AZ}storage:BlobServiceProperties").inputs
    assert blob["isVersioningEnabled"] is True
    assert blob["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert blob["containerDeleteRetentionPolicy"]["enabled"] is True
    container = standby.one(f"{AZ}storage:BlobContainer").inputs
    assert container["containerName"] == "mysql-backups"
    assert container["publicAccess"] == "None"
    assert standby.outputs["backup_container"] == "mysql-backups"


def _lifecycle_rule(s: Synthesis) -> dict[str, Any]:
    (rule,) = s.one(f"{AZ}storage:ManagementPolicy").inputs["policy"]["rules"]
    return rule


def test_lifecycle_deletes_backups_after_retention_days(standby: Synthesis) -> None:
    rule = _lifecycle_rule(standby)
    assert rule["enabled"] is True
    actions = rule["definition"]["actions"]
    assert actions["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == 14
    assert actions["version"]["delete"]["daysAfterCreationGreaterThan"] == 14
    # Only dumps expire; the `latest` marker sits outside the prefix.
    assert rule["definition"]["filters"]["prefixMatch"] == ["mysql-backups/backup_"]
    assert standby.of_type(f"{AZ}storage:BlobContainerImmutabilityPolicy") == []


def test_retention_and_worm_follow_config() -> None:
    s = synth("backup.retention_days=30", "backup.immutable_days=7")
    rule = _lifecycle_rule(s)
    assert (
        rule["definition"]["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"]
        == 30
    )
    worm = s.one(f"{AZ}storage:BlobContainerImmutabilityPolicy").inputs
    assert worm["immutabilityPeriodSinceCreationInDays"] == 7
    assert worm["containerName"] == "mysql-backups"


def test_lifecycle_is_frozen_while_failed_over(emergency: Synthesis) -> None:
    assert _lifecycle_rule(emergency)["enabled"] is False
    assert _lifecycle_rule(synth("force_failover=true"))["enabled"] is False


def test_maintenance_page_needs_no_vm(standby: Synthesis) -> None:
    site = standby.one(f"{AZ}storage:StorageAccountStaticWebsite").inputs
    assert site["indexDocument"] == "index.html"
    page = standby.one(f"{AZ}storage:Blob")
    assert page.inputs["containerName"] == "$web" and page.inputs["blobName"] == "index.html"
    assert standby.one(f"{AZ}storage:StorageAccountStaticWebsite").urn in page.depends_on
    maintenance = standby.one(ACCOUNT, "maintenance")
    assert maintenance.inputs["allowBlobPublicAccess"] is False
    # Registered for the service name through asverify, which must exist first.
    assert maintenance.inputs["customDomain"] == {
        "name": "petclinic.portforge.org",
        "useSubDomainName": True,
    }
    asverify = standby.one(RECORD, "asverify")
    assert asverify.urn in maintenance.depends_on
    assert asverify.inputs["records"] == [
        f"asverify.{maintenance.inputs['accountName']}.blob.core.windows.net"
    ]


def test_mysql_password_comes_from_secret_config(emergency: Synthesis) -> None:
    server = emergency.one(MYSQL)
    assert server.display_inputs["administratorLoginPassword"] == SECRET_MASK
    assert server.inputs["administratorLoginPassword"] == "offline-preview-placeholder"
    assert "offline-preview-placeholder" not in all_display_text(emergency)


# ----------------------------------------------------------------------------- DNS


def _records(s: Synthesis) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["setIdentifier"]: r.inputs
        for r in s.of_type(RECORD)
        if r.inputs.get("setIdentifier")
    }


def test_failover_records_point_at_seoul_then_the_azure_site(
    standby: Synthesis, emergency: Synthesis, seoul: Synthesis
) -> None:
    host = seoul.outputs["app_hostname"]
    normal = _records(standby)
    assert normal["primary"]["records"] == [host]
    gate = standby.one(HEALTH, "primary-gate")
    assert (
        gate.urn
        in next(
            r for r in standby.of_type(RECORD) if r.inputs.get("setIdentifier") == "primary"
        ).depends_on
    )
    assert normal["secondary"]["records"] == [standby.outputs["maintenance_url"].split("/")[2]]
    assert normal["secondary"]["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    assert {r["name"] for r in normal.values()} == {"petclinic.portforge.org"}
    after = _records(emergency)
    assert after["secondary"]["records"] == [emergency.outputs["app_gateway_fqdn"]]
    # A failover pair shares one record type; the primary is a host name, so CNAME both.
    for records in (normal, after):
        assert {r["type"] for r in records.values()} == {"CNAME"}
    assert standby.one(HEALTH, "primary-health").inputs["fqdn"] == host


def test_force_failover_inverts_the_switch_exactly_as_tokyo_does(standby: Synthesis) -> None:
    check = standby.one(HEALTH, "failover-switch").inputs
    assert check["invertHealthcheck"] is False and check["disabled"] is False
    forced = synth("force_failover=true")
    switch = forced.one(HEALTH, "failover-switch").inputs
    # Inverted, never disabled: Route 53 counts a disabled check as healthy.
    assert switch["invertHealthcheck"] is True and switch["disabled"] is False
    # The probe itself is never inverted (a dead primary would turn healthy).
    assert forced.one(HEALTH, "primary-health").inputs["invertHealthcheck"] is False
    assert forced.outputs["failover_switch_id"] != forced.outputs["health_check_id"]


def test_records_are_skipped_when_another_stack_owns_them() -> None:
    s = synth("dns.manage_records=false")
    assert s.of_type(HEALTH) == [] and s.of_type(RECORD) == []
    assert s.one(ACCOUNT, "maintenance").inputs.get("customDomain") is None
    assert "health_check_id" not in s.outputs


# ----------------------------------------------------------------------------- outputs


def test_outputs_per_phase(standby: Synthesis, emergency: Synthesis) -> None:
    assert set(standby.outputs) >= CONTRACT
    assert standby.outputs["strategy"] == "pilot-light"
    assert standby.outputs["location"] == "koreasouth"
    assert standby.outputs["record_fqdn"] == "petclinic.portforge.org"
    assert not {"mysql_server_fqdn", "app_gateway_ip"} & set(standby.outputs)
    assert set(emergency.outputs) >= CONTRACT | {"mysql_server_fqdn", "app_gateway_ip"}
    assert emergency.outputs["mysql_server_fqdn"].endswith(".mysql.database.azure.com")
    assert emergency.outputs["app_gateway_ip"].count(".") == 3


def test_resources_use_the_right_providers(petclinic: Synthesis) -> None:
    for r in petclinic.resources:
        if not r.custom or r.type.startswith("pulumi:"):
            continue
        if r.type.startswith(AZ):
            assert r.region == "koreasouth", r.name
        else:
            # Route 53 and its alarms, from us-east-1: never the primary's region.
            assert r.region == "us-east-1", (r.type, r.name)
        parent = r.parent or ""
        parent_type = parent.split("::")[2].split("$")[-1] if parent else ""
        if parent_type.startswith("drstack:"):
            # Component children are named f"{component}-<role>".
            assert r.name.startswith(parent.rsplit("::", 1)[1] + "-"), r.name


# ----------------------------------------------------------------------------- toggles


TOGGLES = [
    (force, emergency, petclinic)
    for force in (False, True)
    for emergency in (False, True)
    for petclinic in (False, True)
]


@pytest.mark.parametrize(("force", "emergency", "petclinic"), TOGGLES)
def test_every_toggle_combination(force: bool, emergency: bool, petclinic: bool) -> None:
    overrides = toggles(force=force, emergency=emergency, petclinic=petclinic)
    if petclinic and not emergency:
        from stacks.config import ConfigError

        with pytest.raises(ConfigError, match="enable_petclinic"):
            synth(*overrides)
        return
    s = synth(*overrides)
    assert bool(s.of_type(APPGW)) is emergency
    assert s.one(HEALTH, "failover-switch").inputs["invertHealthcheck"] is force
    if emergency:
        target = "petclinic-web" if petclinic else "maintenance"
        assert routing_rule(s)["backendAddressPool"]["id"].endswith("/" + target)


def test_phase_overrides_used_by_fixtures_are_consistent() -> None:
    assert set(EMERGENCY) ^ set(PETCLINIC) == {"enable_petclinic=false", "enable_petclinic=true"}
