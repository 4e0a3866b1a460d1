"""The binlog archiver inside the azure-pilot-backup stack (not only the component alone)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from drctl.synth import Synthesis, synthesize
from stacks.config import ConfigError
from tests.pilot_light.conftest import BACKUP_IMAGE, BACKUP_IMAGE_REF, synth_backup

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
PROJECT = Path(__file__).resolve().parents[2]


def archiver(s: Synthesis) -> dict[str, Any]:
    (deployment,) = [r for r in s.resources if r.type == DEPLOYMENT and "binlog" in r.name]
    return deployment.inputs


def flags(command: list[str]) -> dict[str, str]:
    tail = command[command.index("binlog-archive") + 1 :]
    return {
        word: (tail[i + 1] if i + 1 < len(tail) and not tail[i + 1].startswith("--") else "")
        for i, word in enumerate(tail)
        if word.startswith("--")
    }


def test_archiver_runs_the_pinned_image_with_the_flush_interval(backup: Synthesis) -> None:
    spec = archiver(backup)["spec"]
    assert spec["replicas"] == 1
    # Two archivers would both mirror and upload the same binlog; a rolling update
    # would briefly run two.
    assert spec["strategy"] == {"type": "Recreate"}
    (container,) = spec["template"]["spec"]["containers"]
    assert container["image"] == BACKUP_IMAGE_REF
    options = flags(container["command"])
    assert options["--flush-seconds"] == str(backup.config.backup.binlog_flush_seconds) == "5"
    assert options["--container"] == "mysql-backups"
    assert options["--binlog-retention-hours"] == "24" and "--set-binlog-retention" in options
    assert backup.outputs["binlog_archiver_name"] == "mysql-binlog-archiver"


def test_archiver_shares_the_jobs_identity_and_takes_credentials_from_secrets(
    backup: Synthesis,
) -> None:
    job_pod = backup.one(CRONJOB).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    deployment = archiver(backup)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == job_pod["serviceAccountName"]
    assert (
        deployment["metadata"]["namespace"] == backup.one(CRONJOB).inputs["metadata"]["namespace"]
    )
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["AZURE_STORAGE_CONNECTION_STRING"]["valueFrom"]
    literals = json.dumps([e.get("value") for e in container["env"]] + container["command"])
    for secret_marker in ("SharedAccessSignature", "AccountKey", "sig="):
        assert secret_marker not in literals
    # The DSN (with the password) exists only in the process env, built from the secret.
    assert not {"DRCTL_SOURCE_DSN", "DRCTL_BINLOG_SOURCE_DSN", "MYSQL_PWD"} & set(env)
    assert env["DRCTL_SOURCE_SECRET_ARN"]["value"].startswith("arn:aws:secretsmanager:")


def test_archiver_has_a_liveness_probe_and_bounded_resources(backup: Synthesis) -> None:
    (container,) = archiver(backup)["spec"]["template"]["spec"]["containers"]
    probe = container["livenessProbe"]
    assert "/tmp/drctl-binlog-alive" in " ".join(probe["exec"]["command"])
    assert flags(container["command"])["--heartbeat-file"] == "/tmp/drctl-binlog-alive"
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 60
    resources = container["resources"]
    assert resources["requests"]["memory"] and resources["limits"]["memory"] == "256Mi"
    assert container["securityContext"]["runAsNonRoot"] is True


def _project_with_site(tmp_path: Path, archive: bool) -> Path:
    for path in PROJECT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    site = tmp_path / "Pulumi.azure-pilot.yaml"
    site.write_text(
        site.read_text().replace("binlog_archive: true", f"binlog_archive: {str(archive).lower()}")
    )
    return tmp_path


def test_no_archiver_when_both_stacks_turn_it_off(tmp_path: Path) -> None:
    project = _project_with_site(tmp_path, archive=False)
    s = synthesize(
        "azure-pilot-backup", (*BACKUP_IMAGE, "backup.binlog_archive=false"), project_dir=project
    )
    assert not [r for r in s.resources if r.type == DEPLOYMENT and "binlog" in r.name]
    assert "binlog_archiver_name" not in s.outputs
    assert s.one(CRONJOB)  # the dumps go on


def test_turning_it_off_here_alone_is_refused_at_up() -> None:
    with pytest.raises(ConfigError, match=r"drstack:backup\.binlog_archive = False is invalid"):
        synth_backup("backup.binlog_archive=false")
