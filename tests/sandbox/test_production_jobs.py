"""The drill runs the containers the stacks declare: same argv, same variable names.

Compared by value with the preview (Pulumi mocks) of the shipped stacks: the sandbox
swaps endpoints (values, mount paths), never a flag or a variable's name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import pytest

from components.binlog_archiver import SPOOL_DIR
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.production_jobs import JobSpec, SeoulJobs, restore_job
from drctl.synth import Synthesis
from tests.pilot_light.conftest import BACKUP_IMAGE, EMERGENCY, synth, synth_backup

ACR = "portforgedr.azurecr.io/drstack-backup:2026.11.29-1"
CRONJOB = "kubernetes:batch/v1:CronJob"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RESTORE_GROUP = "azure-native:containerinstance:ContainerGroup"
# What the sandbox adds where production's pod has EKS Pod Identity's credential endpoint.
POD_IDENTITY_STAND_INS = {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def _server(port: int) -> MariaDBServer:
    # Only the port is read: the jobs' specs need no running server.
    return MariaDBServer(cast(Any, None), Path("/nonexistent"), "seoul-db", 1, port=port)


def _seoul(tmp_path: Path) -> SeoulJobs:
    return SeoulJobs(
        source=_server(33061),
        secret_arn="arn:aws:secretsmanager:ap-northeast-2:000000000000:secret:x",
        region="ap-northeast-2",
        aws_endpoint="http://127.0.0.1:5000",
        writer_connection_string="BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
        "SharedAccessSignature=sp=rcwdl",
        container="mysql-backups",
        database="portforge",
        workdir=tmp_path,
    )


def _pod(s: Synthesis, kind: str) -> dict[str, Any]:
    spec = s.one(kind).inputs["spec"]
    if kind == CRONJOB:
        spec = spec["jobTemplate"]["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    return cast(dict[str, Any], container)


@pytest.fixture(scope="module")
def backup_stack() -> Synthesis:
    return synth_backup()


@pytest.mark.parametrize("kind", [CRONJOB, DEPLOYMENT])
def test_seoul_jobs_run_the_backup_stacks_containers(
    backup_stack: Synthesis, kind: str, tmp_path: Path
) -> None:
    jobs = _seoul(tmp_path)
    flush = backup_stack.config.backup.binlog_flush_seconds
    spec = jobs.backup() if kind == CRONJOB else jobs.archiver(flush)
    container = _pod(backup_stack, kind)
    assert list(spec.argv) == container["command"]
    production_names = {e["name"] for e in container["env"]}
    assert set(spec.env) - production_names == POD_IDENTITY_STAND_INS
    assert production_names <= set(spec.env)
    # The secret's ARN names where the credential comes from; the password is not here.
    assert "DRCTL_SOURCE_DSN" not in spec.env and "DRCTL_SOURCE_SECRET_ARN" in spec.env


def test_the_restore_job_is_the_site_stacks_container() -> None:
    site = synth(*EMERGENCY, *BACKUP_IMAGE, f"azure.restore_image={ACR}", "run_restore=true")
    (container,) = site.one(RESTORE_GROUP).inputs["containers"]
    spec = restore_job(
        target=_server(33062),
        user="admin",
        password="p",
        database=site.config.rds.db_name,
        container="mysql-backups",
        reader_connection_string="BlobEndpoint=x;SharedAccessSignature=sp=rl",
        binlog_archive=site.config.backup.binlog_archive,
        accept_gap=site.config.backup.restore_accept_gap,
    )
    assert list(spec.argv) == container["command"]
    assert "--to-latest" in spec.argv
    assert set(spec.env) == {e["name"] for e in container["environmentVariables"]}
    assert spec.env["DRCTL_TARGET_DSN"] == "mysql://admin:p@127.0.0.1:33062/portforge"


def test_only_mount_paths_change_on_the_way_to_the_host(tmp_path: Path) -> None:
    spec = _seoul(tmp_path).archiver(1)
    changed = [
        (inside, outside)
        for inside, outside in zip(spec.argv, spec.host_argv(), strict=True)
        if inside != outside
    ]
    assert changed == [
        (SPOOL_DIR, str(tmp_path / "binlog-spool")),
        ("/tmp/drctl-binlog-alive", str(tmp_path / "archiver-tmp" / "drctl-binlog-alive")),
    ]
    env = spec.host_env()
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert env["TMPDIR"] == str(tmp_path / "archiver-tmp")


def test_a_container_gets_no_variable_of_the_drill_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stray credential in the drill's environment must not reach a job."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountKey=the-drill-s")
    monkeypatch.setenv("DRCTL_SOURCE_DSN", "mysql://root:x@h/")
    spec = JobSpec("x", ("python",), {"AZURE_STORAGE_CONNECTION_STRING": "sas"})
    env = spec.host_env()
    assert env["AZURE_STORAGE_CONNECTION_STRING"] == "sas"
    assert "DRCTL_SOURCE_DSN" not in env


def test_the_archiver_flushes_in_whole_seconds_like_the_stack(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="whole second"):
        _seoul(tmp_path).archiver(0.5)
