"""The azure-pilot-backup stack: seed 001's job on the Seoul cluster, fed by the site stack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.backup_job import CONNECTION_STRING_ENV, cron_schedule
from drctl.synth import SECRET_MASK, Synthesis, synthesize
from stacks.config import ConfigError
from tests.pilot_light.conftest import (
    BACKUP_IMAGE_REF,
    EMERGENCY,
    PETCLINIC,
    synth,
    synth_backup,
)

CRONJOB = "kubernetes:batch/v1:CronJob"
SECRET = "kubernetes:core/v1:Secret"


@pytest.fixture(scope="module")
def seoul() -> Synthesis:
    return synthesize("seoul")


def cronjob_container(s: Synthesis) -> dict[str, Any]:
    spec = s.one(CRONJOB).inputs["spec"]
    (container,) = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container


def job_flags(s: Synthesis) -> dict[str, str]:
    args = cronjob_container(s)["command"][3:]
    return dict(zip(args[4::2], args[5::2], strict=False))


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, "* * * * *"),
        (5, "*/5 * * * *"),
        (15, "*/15 * * * *"),
        (60, "0 * * * *"),
        (120, "0 */2 * * *"),
        (1440, "0 0 * * *"),
    ],
)
def test_cron_schedule(minutes: int, expected: str) -> None:
    assert cron_schedule(minutes) == expected


def test_backup_job_runs_every_interval(backup: Synthesis) -> None:
    spec = backup.one(CRONJOB).inputs["spec"]
    assert spec["schedule"] == "*/5 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert backup.outputs["backup_schedule"] == "*/5 * * * *"
    ten = synth_backup("backup.interval_minutes=10", "backup.retention_days=14")
    assert ten.one(CRONJOB).inputs["spec"]["schedule"] == "*/10 * * * *"


def test_backup_job_targets_seoul_rds_and_the_site_container(
    backup: Synthesis, seoul: Synthesis
) -> None:
    job = backup.one(CRONJOB)
    assert job.region == "ap-northeast-2"  # on the Seoul cluster, via the kubeconfig
    container = cronjob_container(backup)
    assert container["image"] == BACKUP_IMAGE_REF
    command = container["command"]
    assert command[:2] == ["python", "-c"]
    # The backup-only entry point keeps the job's memory down.
    assert command[3:7] == ["python", "-m", "drctl.pilotlight", "backup"]
    flags = job_flags(backup)
    assert flags["--container"] == synth().outputs["backup_container"] == "mysql-backups"
    assert flags["--format"] == "zstd"
    assert flags["--retention-days"] == "14"
    env = {e["name"]: e for e in container["env"]}
    assert env["DRCTL_SOURCE_HOST"]["value"] == seoul.outputs["rds_address"]
    assert env["DRCTL_SOURCE_SECRET_ARN"]["value"] == seoul.outputs["rds_master_secret_arn"]
    association = backup.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert association["clusterName"] == seoul.outputs["eks_cluster_name"]
    assert association["serviceAccount"] == job.inputs["metadata"]["name"]
    policy = json.loads(backup.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == seoul.outputs["rds_master_secret_arn"]
    assert backup.outputs["storage_account_name"] == synth().outputs["storage_account_name"]


def test_one_database_name_from_dump_to_petclinic(backup: Synthesis) -> None:
    """The job dumps, the restore loads and PetClinic uses one database: seoul's."""
    site = synth(*EMERGENCY)
    dumped = job_flags(backup)["--database"]
    assert dumped == "portforge" == site.config.rds.db_name
    assert site.outputs["database_name"] == dumped
    assert site.outputs["mysql_database_name"] == dumped
    renamed = synth_backup("rds.db_name=shop")
    assert job_flags(renamed)["--database"] == "shop"


def test_backup_job_holds_only_a_container_sas(backup: Synthesis) -> None:
    container = cronjob_container(backup)
    env = {e["name"]: e for e in container["env"]}
    # The credential reaches the pod only by reference to the Kubernetes Secret.
    ref = env[CONNECTION_STRING_ENV]
    assert "value" not in ref
    secret = backup.one(SECRET)
    assert ref["valueFrom"]["secretKeyRef"]["name"] == secret.inputs["metadata"]["name"]
    assert secret.display_inputs["stringData"] == SECRET_MASK
    real = next(iter(secret.inputs["stringData"].values()))
    assert real == synth().outputs["backup_writer_connection_string"]
    account = synth().outputs["storage_account_name"]
    assert real.startswith(f"BlobEndpoint=https://{account}.blob.core.windows.net/;")
    assert "AccountKey" not in real
    sas = dict(p.split("=", 1) for p in real.split("SharedAccessSignature=")[1].split("&"))
    # Container scope, HTTPS only, write + list + delete for retention, nothing account-wide.
    assert (sas["sr"], sas["sp"], sas["spr"]) == ("c", "rcwdl", "https")
    shown = json.dumps([r.display_inputs for r in backup.resources])
    assert sas["sig"] not in shown
    assert "password" not in json.dumps(container["command"][3:]).lower()


def test_backup_stack_is_only_the_seoul_side(backup: Synthesis) -> None:
    types = {r.type for r in backup.resources if r.custom}
    assert not [t for t in types if t.startswith("azure-native:")]
    assert not [t for t in types if t.startswith("aws:route53")]
    (provider,) = backup.of_type("pulumi:providers:aws")
    # Configuring the provider calls nothing in the region (no STS, no account lookup):
    # the one helper every stack uses for it (stacks.primary.static_region_provider).
    for flag in (
        "skipCredentialsValidation",
        "skipRequestingAccountId",
        "skipMetadataApiCheck",
        "skipRegionValidation",
    ):
        assert provider.inputs[flag] == "true", flag
    assert backup.outputs["site_stack"] == "azure-pilot"


def test_site_toggles_change_nothing_in_the_backup_stack(backup: Synthesis) -> None:
    toggled = synth_backup(*PETCLINIC)
    assert {r.urn: r.inputs for r in toggled.resources} == {
        r.urn: r.inputs for r in backup.resources
    }


def test_site_stack_must_not_be_itself() -> None:
    with pytest.raises(ConfigError, match="site_stack"):
        synth_backup("site_stack=azure-pilot-backup")


def test_shipped_backup_and_site_stacks_agree(backup: Synthesis) -> None:
    """The job's schedule and retention are the site's RPO budget and lifecycle rule:
    the two stack files must say the same."""
    site = synth().config
    mine = synthesize("azure-pilot-backup").config
    assert mine.site_stack == "azure-pilot" and site.backup.job_stack == mine.stack
    for key in ("interval_minutes", "retention_days", "format", "image"):
        assert getattr(mine.backup, key) == getattr(site.backup, key), key
    assert mine.rds.db_name == site.rds.db_name
    assert mine.primary_stack == site.primary_stack


def test_no_job_until_the_backup_image_is_pinned() -> None:
    shipped = synthesize("azure-pilot-backup")
    assert shipped.config.backup.image == ""
    assert not shipped.of_type(CRONJOB) and not shipped.of_type("pulumi:providers:kubernetes")
    assert "backup_job_name" not in shipped.outputs and shipped.outputs["backup_image"] == ""


@pytest.mark.parametrize(
    "image",
    [
        "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-backup:latest",
        "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-backup",
        "public.ecr.aws/drstack/app:latest",
    ],
)
def test_a_moving_or_untagged_backup_image_is_refused(image: str) -> None:
    with pytest.raises(ConfigError, match=r"drstack:backup\.image"):
        synthesize("azure-pilot-backup", (f"backup.image={image}",))


def test_a_digest_pins_the_backup_image() -> None:
    ref = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-backup@sha256:" + "b" * 64
    assert (
        cronjob_container(synthesize("azure-pilot-backup", (f"backup.image={ref}",)))["image"]
        == ref
    )
