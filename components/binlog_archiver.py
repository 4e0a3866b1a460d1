"""BinlogArchiverDeployment: `drctl binlog-archive` next to the dump CronJob on Seoul EKS.

One replica with the ``Recreate`` strategy: two archivers would both mirror and upload
the same binlog, and a rolling update briefly runs two. Kubernetes restarts it when it
exits (exit 4: behind for too long; 1: the source or the storage failed); it resumes
after the last committed segment. It shares the backup job's namespace, service account
(Pod Identity: read the RDS-managed secret) and container-scoped SAS secret, and the
same pinned image, which ships Oracle's ``mysqlbinlog`` for a MySQL 8 source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.backup_job import CONNECTION_STRING_ENV, CONNECTION_STRING_KEY, SECRET_TO_DSN

SPOOL_DIR = "/spool"
# The spool holds the binlog file being written until it rotates; RDS MySQL rotates at
# max_binlog_size (128 MiB by default), so 1 GiB leaves room for a backlog.
SPOOL_LIMIT = "1Gi"
# RDS keeps no binlog by default (`binlog retention hours` NULL) and no parameter group or
# API sets it: only CALL mysql.rds_set_configuration as the master user, which the
# archiver does at start. A day covers an archiver outage; RDS allows at most 168 h.
BINLOG_RETENTION_HOURS = 24
# The archive loop touches this file every turn; a file older than HEARTBEAT_STALE_SECONDS
# means the loop is stuck (a hung call) and the kubelet restarts the pod. It resumes
# exactly after the last committed segment, so a restart never loses or repeats data.
HEARTBEAT_FILE = "/tmp/drctl-binlog-alive"
HEARTBEAT_STALE_SECONDS = 60
LIVENESS_COMMAND = [
    "python",
    "-c",
    "import os, sys, time; "
    f"sys.exit(time.time() - os.stat({HEARTBEAT_FILE!r}).st_mtime > {HEARTBEAT_STALE_SECONDS})",
]


def archiver_command(*, container: str, flush_seconds: int) -> list[str]:
    """No credential here (the pod spec is readable): SECRET_TO_DSN sets the DSN in env."""
    return [
        "python",
        "-c",
        SECRET_TO_DSN,
        "python",
        "-m",
        "drctl.pilotlight",
        "binlog-archive",
        "--container",
        container,
        "--flush-seconds",
        str(flush_seconds),
        "--spool-dir",
        SPOOL_DIR,
        "--binlog-retention-hours",
        str(BINLOG_RETENTION_HOURS),
        "--set-binlog-retention",
        "--heartbeat-file",
        HEARTBEAT_FILE,
    ]


@dataclass
class BinlogArchiverArgs:
    k8s_provider: k8s.Provider
    namespace: pulumi.Input[str]
    service_account_name: pulumi.Input[str]
    azure_secret_name: pulumi.Input[str]
    image: str
    region: str
    source_host: pulumi.Input[str]
    source_secret_arn: pulumi.Input[str]
    container: str
    flush_seconds: int
    name: str = "mysql-binlog-archiver"
    labels: dict[str, str] = field(default_factory=dict)


def _archiver_container(args: BinlogArchiverArgs) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name="binlog-archiver",
        image=args.image,
        command=archiver_command(container=args.container, flush_seconds=args.flush_seconds),
        env=[
            k8s.core.v1.EnvVarArgs(
                name=CONNECTION_STRING_ENV,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                        name=args.azure_secret_name, key=CONNECTION_STRING_KEY
                    )
                ),
            ),
            k8s.core.v1.EnvVarArgs(name="DRCTL_SOURCE_HOST", value=args.source_host),
            k8s.core.v1.EnvVarArgs(name="DRCTL_SOURCE_PORT", value="3306"),
            k8s.core.v1.EnvVarArgs(name="DRCTL_SOURCE_SECRET_ARN", value=args.source_secret_arn),
            k8s.core.v1.EnvVarArgs(name="AWS_REGION", value=args.region),
            k8s.core.v1.EnvVarArgs(name="AWS_DEFAULT_REGION", value=args.region),
        ],
        # No readiness probe: the archiver serves nothing (no Service selects it).
        liveness_probe=k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(command=LIVENESS_COMMAND),
            # resume() lists the archive and starts the binlog client first.
            initial_delay_seconds=30,
            period_seconds=30,
            timeout_seconds=10,
            failure_threshold=3,
        ),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "128Mi"},
            limits={"cpu": "1", "memory": "256Mi"},
        ),
        security_context=k8s.core.v1.SecurityContextArgs(
            run_as_non_root=True,
            run_as_user=10001,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        ),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="spool", mount_path=SPOOL_DIR),
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        ],
    )


class BinlogArchiverDeployment(pulumi.ComponentResource):
    deployment_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: BinlogArchiverArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:binlog_archiver:BinlogArchiverDeployment", name, None, opts)
        labels = {"app.kubernetes.io/name": args.name, "app.kubernetes.io/part-of": "drstack"}
        labels.update(args.labels)
        container = _archiver_container(args)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, namespace=args.namespace, labels=labels
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        service_account_name=args.service_account_name,
                        # SIGTERM commits the whole events already mirrored, then exits.
                        termination_grace_period_seconds=60,
                        containers=[container],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="spool",
                                empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
                                    size_limit=SPOOL_LIMIT
                                ),
                            ),
                            k8s.core.v1.VolumeArgs(
                                name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()
                            ),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )
        self.deployment_name = deployment.metadata.name
        self.register_outputs({"deployment_name": self.deployment_name})
