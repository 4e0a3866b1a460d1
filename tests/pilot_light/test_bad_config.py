"""azure-pilot refuses configurations that make no sense, each with its own clear message.

These fail in parse_config, before any mock runtime starts, so they are cheap.
"""

from __future__ import annotations

import re

import pytest

from drctl.synth import synthesize
from stacks.config import ConfigError
from tests.pilot_light.conftest import synth, toggles

BAD = [
    pytest.param(
        ["enable_petclinic=true"],
        "drstack:enable_petclinic = true is invalid: PetClinic runs on the emergency resources",
        id="petclinic-without-emergency",
    ),
    pytest.param(
        ["backup.interval_minutes=1440", "backup.retention_days=1"],
        "drstack:backup.retention_days = 1 is invalid: retention must cover at least two "
        "backup intervals",
        id="retention-shorter-than-interval",
    ),
    pytest.param(
        ["azure.location=koreanorth"],
        "drstack:azure.location = 'koreanorth' is invalid: expected one of a known name",
        id="unknown-azure-location",
    ),
    pytest.param(
        ["emergency=true"],
        "drstack:mysql_admin_password is missing: emergency mode creates the MySQL Flexible",
        id="emergency-without-secret",
    ),
    pytest.param(
        ["mysql_admin_password=hunter2"],
        "drstack:mysql_admin_password is set in plain text",
        id="password-in-plain-text",
    ),
    pytest.param(
        ["mysql_admin_password={secure: x}", "emergency=true"],
        "drstack:azure.ssh_public_key is missing: emergency mode creates the web and WAS VMs",
        id="emergency-without-ssh-key",
    ),
    pytest.param(
        ["backup.interval_minutes=7"],
        "drstack:backup.interval_minutes = 7 is invalid: a cron schedule repeats evenly only",
        id="interval-not-a-cron-step",
    ),
    pytest.param(
        ["azure.vnet_cidr=10.20.0.0/23"],
        "drstack:azure.vnet_cidr = '10.20.0.0/23' is invalid: the VNet needs room for four /24",
        id="vnet-too-small",
    ),
    pytest.param(
        ["azure.mysql_sku=Standard_D2ds_v4"],
        "drstack:azure.mysql_sku = 'Standard_D2ds_v4' is invalid: the Burstable tier takes "
        "Standard_B* SKUs",
        id="mysql-sku-not-in-tier",
    ),
    pytest.param(
        ["azure.admin_username=admin"],
        "drstack:azure.admin_username = 'admin' is invalid: Azure refuses reserved VM admin names",
        id="reserved-admin-username",
    ),
    pytest.param(
        ["azure.storage_account_name=Portforge-Backups"],
        "drstack:azure.storage_account_name = 'Portforge-Backups' is invalid: 3-24 lowercase",
        id="storage-account-name",
    ),
    pytest.param(
        ["backup.immutable_days=30"],
        "drstack:backup.immutable_days = 30 is invalid: a WORM period cannot outlast "
        "retention_days (14)",
        id="worm-longer-than-retention",
    ),
    pytest.param(
        ["dns.manage_records=false", "force_failover=true"],
        "drstack:force_failover = true is invalid while dns.manage_records is false",
        id="force-failover-without-records",
    ),
    pytest.param(
        ["backup.format=xz"],
        "drstack:backup.format = 'xz' is invalid: expected one of gzip, zstd",
        id="backup-format",
    ),
    pytest.param(
        ["promote_replica=true"],
        "drstack:promote_replica = true is invalid: only valid for a DR stack with strategy "
        "warm-standby",
        id="warm-standby-key",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BAD)
def test_bad_config_is_refused_with_a_clear_message(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        synthesize("azure-pilot", overrides)
    text = str(info.value)
    assert text.startswith(message), text
    assert "\n" not in text  # one line, as the engine prints it


def test_messages_are_distinct() -> None:
    messages = [p.values[1] for p in BAD]
    assert len(set(messages)) == len(messages)


def test_prepared_secrets_alone_are_fine() -> None:
    # The secret and the key may be set in normal times, ahead of a disaster.
    s = synth(*toggles(force=False, emergency=False, petclinic=False))
    assert s.config.has_mysql_admin_password and not s.config.emergency
    assert re.match(r"^ssh-ed25519 ", s.config.azure.ssh_public_key)
