"""BinlogArchiverDeployment under Pulumi mocks: one archiver, no credential in the spec."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources[args.name] = {"type": args.typ, "inputs": dict(args.inputs)}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


@pytest.fixture
def mocks() -> Mocks:
    instance = Mocks()
    pulumi.runtime.set_mocks(instance, preview=False)
    return instance


def run_program() -> dict[str, Any]:
    import pulumi_kubernetes as k8s

    from components.binlog_archiver import BinlogArchiverArgs, BinlogArchiverDeployment

    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> Any:
        archiver = BinlogArchiverDeployment(
            "binlog",
            BinlogArchiverArgs(
                k8s_provider=k8s.Provider("seoul-eks", kubeconfig="{}"),
                namespace="drstack-backup",
                service_account_name="mysql-backup-to-azure",
                azure_secret_name="mysql-backup-to-azure-azure",
                image="registry.example.com/drstack/backup:2026.11.29-abc123",
                region="ap-northeast-2",
                source_host="portforge.abc.ap-northeast-2.rds.amazonaws.com",
                source_secret_arn="arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds",
                container="mysql-backups",
                flush_seconds=5,
            ),
        )
        return archiver.deployment_name.apply(lambda name: resolved.update(name=name))

    program()
    return resolved


def test_one_recreated_archiver_reads_the_secret_at_start(mocks: Mocks) -> None:
    assert run_program()["name"] == "mysql-binlog-archiver"
    spec = mocks.resources["binlog-deployment"]["inputs"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}  # never two archivers at once
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "mysql-backup-to-azure"
    (container,) = pod["containers"]
    command = container["command"]
    assert command[3:6] == ["python", "-m", "drctl.pilotlight"]
    assert command[6:] == [
        "binlog-archive", "--container", "mysql-backups", "--flush-seconds", "5",
        "--spool-dir", "/spool", "--binlog-retention-hours", "24", "--set-binlog-retention",
        "--heartbeat-file", "/tmp/drctl-binlog-alive",
    ]  # fmt: skip
    env = {e["name"]: e for e in container["env"]}
    assert env["AZURE_STORAGE_CONNECTION_STRING"]["valueFrom"]["secretKeyRef"]["name"] == (
        "mysql-backup-to-azure-azure"
    )
    # The DSN (with the password) exists only in the process env, set by SECRET_TO_DSN.
    assert not {"DRCTL_SOURCE_DSN", "DRCTL_BINLOG_SOURCE_DSN"} & set(env)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    spool = next(v for v in pod["volumes"] if v["name"] == "spool")
    assert spool["emptyDir"]["sizeLimit"] == "1Gi"
