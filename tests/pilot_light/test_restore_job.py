"""Seed 001 phase 3 in Azure: `drctl restore` as a one-shot container in the VNet."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from components.azure_restore_job import restore_command, target_dsn
from drctl.synth import SECRET_MASK, Synthesis
from stacks.config import ConfigError
from tests.pilot_light.conftest import BACKUP_IMAGE, EMERGENCY, PASSWORD, synth

AZ = "azure-native:"
GROUP = f"{AZ}containerinstance:ContainerGroup"
SUBNET = f"{AZ}network:Subnet"
SEOUL_ECR = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-backup:2026.11.29-1"
# The restore runs while Seoul is down: its image comes from a registry outside Seoul.
ACR = "portforgedr.azurecr.io/drstack-backup:2026.11.29-1"


@pytest.fixture(scope="module")
def restoring() -> Synthesis:
    return synth(*EMERGENCY, *BACKUP_IMAGE, f"azure.restore_image={ACR}", "run_restore=true")


def env_of(s: Synthesis, display: bool = False) -> dict[str, dict[str, str]]:
    group = s.one(GROUP)
    (container,) = (group.display_inputs if display else group.inputs)["containers"]
    return {e["name"]: e for e in container["environmentVariables"]}


def test_restore_needs_emergency() -> None:
    with pytest.raises(ConfigError, match="run_restore"):
        synth("run_restore=true")


def test_restore_needs_the_pinned_backup_image() -> None:
    with pytest.raises(ConfigError, match=r"drstack:backup\.image is missing: run_restore"):
        synth(*EMERGENCY, "run_restore=true")


def test_no_restore_job_unless_asked(emergency: Synthesis) -> None:
    assert emergency.of_type(GROUP) == []
    assert "restore_job_name" not in emergency.outputs


def test_restore_runs_once_in_its_delegated_subnet(restoring: Synthesis) -> None:
    group = restoring.one(GROUP)
    assert group.inputs["restartPolicy"] == "Never"
    assert group.inputs["osType"] == "Linux"
    subnet = restoring.one(SUBNET, "restore").inputs
    (ref,) = group.inputs["subnetIds"]
    assert ref["id"].endswith("/" + subnet["subnetName"])
    assert [d["serviceName"] for d in subnet["delegations"]] == [
        "Microsoft.ContainerInstance/containerGroups"
    ]
    assert restoring.outputs["restore_job_name"] == group.inputs["containerGroupName"]
    # It restores only once the database exists in the server.
    assert restoring.one(f"{AZ}dbformysql:Database").urn in group.depends_on


def command_of(s: Synthesis) -> list[str]:
    (container,) = s.one(GROUP).inputs["containers"]
    return list(container["command"])


def test_restore_loads_the_dumped_database_into_the_private_server(restoring: Synthesis) -> None:
    (container,) = restoring.one(GROUP).inputs["containers"]
    assert container["image"] == restoring.config.azure.restore_image
    assert restoring.config.backup.binlog_archive  # the shipped stack archives the binlog
    assert container["command"] == restore_command(
        database="portforge", container="mysql-backups", binlog_archive=True
    )
    dsn = urllib.parse.urlparse(env_of(restoring)["DRCTL_TARGET_DSN"]["secureValue"])
    assert dsn.hostname == restoring.outputs["mysql_server_fqdn"]
    assert dsn.path == "/portforge" == "/" + restoring.outputs["mysql_database_name"]
    assert dsn.username == restoring.config.azure.admin_username


def test_restore_reaches_mysql_and_the_backups_through_the_network(restoring: Synthesis) -> None:
    plan = restoring.one(SUBNET, "restore").inputs["addressPrefix"]
    nsg = restoring.one(f"{AZ}network:NetworkSecurityGroup", "mysql").inputs
    assert any(
        r["sourceAddressPrefix"] == plan and r.get("destinationPortRange") == "3306"
        for r in nsg["securityRules"]
    )
    rules = restoring.one(f"{AZ}storage:StorageAccount", "backups").inputs["networkRuleSet"]
    assert any(
        r["virtualNetworkResourceId"].endswith("/restore") for r in rules["virtualNetworkRules"]
    )


def test_restore_credentials_are_secure_values(restoring: Synthesis) -> None:
    env = env_of(restoring)
    assert set(env) == {"DRCTL_TARGET_DSN", "AZURE_STORAGE_CONNECTION_STRING"}
    for item in env.values():
        assert "value" not in item  # secureValue only: ACI never returns it
    sas = env["AZURE_STORAGE_CONNECTION_STRING"]["secureValue"]
    assert sas == restoring.outputs["backup_connection_string"]
    assert "sp=rl&" in sas and "AccountKey" not in sas
    shown = json.dumps(restoring.one(GROUP).display_inputs)
    assert "offline-preview-placeholder" not in shown and PASSWORD not in shown
    assert env_of(restoring, display=True)["DRCTL_TARGET_DSN"]["secureValue"] == SECRET_MASK


def test_target_dsn_quotes_the_password() -> None:
    dsn = target_dsn(user="admin", password="p@ss:w/rd", host="h", database="db")
    assert dsn == "mysql://admin:p%40ss%3Aw%2Frd@h:3306/db"


def test_emergency_server_lets_the_restore_create_routines_and_triggers(
    standby: Synthesis, emergency: Synthesis, restoring: Synthesis
) -> None:
    """Binary logging is always on in Flexible Server and the admin has no SUPER: without
    log_bin_trust_function_creators=ON the restore's CREATE FUNCTION/TRIGGER fails (1419)."""
    kind = f"{AZ}dbformysql:Configuration"
    assert standby.of_type(kind) == []
    setting = emergency.one(kind).inputs
    server = emergency.one(f"{AZ}dbformysql:Server").inputs
    assert setting["configurationName"] == "log_bin_trust_function_creators"
    assert (setting["value"], setting["source"]) == ("ON", "user-override")
    assert setting["serverName"] == server["serverName"]
    assert restoring.one(kind).urn in restoring.one(GROUP).depends_on


def test_restore_image_in_the_primary_regions_ecr_is_refused() -> None:
    # The restore runs while Seoul is down: its ECR cannot serve the image then.
    with pytest.raises(ConfigError, match=r"drstack:backup\.image = .* primary region's ECR"):
        synth(*EMERGENCY, f"backup.image={SEOUL_ECR}", "run_restore=true")


def test_restore_runs_the_image_from_outside_the_primary_region() -> None:
    s = synth(
        *EMERGENCY, f"backup.image={SEOUL_ECR}", f"azure.restore_image={ACR}", "run_restore=true"
    )
    (container,) = s.one(GROUP).inputs["containers"]
    assert container["image"] == ACR


def test_restore_replays_the_binlog_archive_when_the_stack_archives_it(
    restoring: Synthesis,
) -> None:
    """The archive is what makes the pilot light's RPO one flush interval: a job that
    restores the newest dump alone gives up to a whole backup interval of writes."""
    command = command_of(restoring)
    assert command[command.index("restore") - 2 :][:3] == ["-m", "drctl.pilotlight", "restore"]
    assert "--to-latest" in command
    # A gap or a corrupt segment stops the job with the target untouched (exit 3) unless
    # the operator said otherwise.
    assert "--accept-gap" not in command
    # An older dump would need the binlog from its own, older position: PITR never falls
    # back, so the job does not pretend to.
    assert "--fallback" not in command


def test_accept_gap_is_the_operators_explicit_choice() -> None:
    s = synth(
        *EMERGENCY,
        *BACKUP_IMAGE,
        f"azure.restore_image={ACR}",
        "run_restore=true",
        "backup.restore_accept_gap=true",
    )
    assert s.config.backup.restore_accept_gap is True
    command = command_of(s)
    assert "--to-latest" in command and "--accept-gap" in command


def test_dump_only_restore_falls_back_past_a_refused_dump() -> None:
    s = synth(
        *EMERGENCY,
        *BACKUP_IMAGE,
        f"azure.restore_image={ACR}",
        "run_restore=true",
        "backup.binlog_archive=false",
    )
    command = command_of(s)
    assert "--fallback" in command
    assert "--to-latest" not in command and "--accept-gap" not in command


def test_accept_gap_without_an_archive_is_refused() -> None:
    with pytest.raises(
        ConfigError,
        match=r"backup\.restore_accept_gap = true is invalid: .*binlog_archive is false",
    ):
        synth("backup.binlog_archive=false", "backup.restore_accept_gap=true")


def test_accept_gap_must_be_a_boolean() -> None:
    with pytest.raises(
        ConfigError, match=r"backup\.restore_accept_gap = .* expected true or false"
    ):
        synth("backup.restore_accept_gap=sometimes")
