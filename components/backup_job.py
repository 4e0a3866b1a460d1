"""BackupCronJob: seed 001's 5-minute MySQL dump to Azure Blob, as a CronJob on Seoul EKS.

Why a Kubernetes CronJob on the Seoul cluster rather than seed 001's backup EC2 instance:
- it costs nothing extra (the seed's instance is ~$15/month, more than the whole Azure side)
  and there is no extra OS to patch, SSH into or monitor;
- the pods already sit on the network path the app uses to reach RDS, so no new security
  group or subnet is needed;
- `concurrencyPolicy: Forbid`, job history and failed-job events give the "did the last
  backup run?" signal for free, and the image is the same drstack image that carries drctl;
- the job dies with Seoul, but so does its source database: nothing is lost by that.

Credentials, none of them in plain text:
- the RDS master password is never copied: RDS rotates its managed secret, so the job reads
  it from Secrets Manager at run time through an EKS Pod Identity role that may read only
  that one secret;
- the Azure credential is a service SAS for the backup container only (never the account
  key: policy azure-backup-job-no-account-key); it arrives as a Pulumi secret and lands in
  a Kubernetes Secret (encrypted in the Pulumi state, masked in previews), exposed to the
  container as the `AZURE_STORAGE_CONNECTION_STRING` variable drctl reads.

This component runs in the `azure-pilot-backup` stack, never in the Azure site stack: it
needs the primary region (EKS, IAM), which must stay off the failover path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import assume_role_policy
from components.settings import BackupFormat

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
CONNECTION_STRING_KEY = "azure-storage-connection-string"


def cron_schedule(interval_minutes: int) -> str:
    """A cron expression that fires every ``interval_minutes`` (config validates it tiles
    the hour or the day evenly, so there is no short gap at the wrap-around)."""
    if interval_minutes < 60:
        return "* * * * *" if interval_minutes == 1 else f"*/{interval_minutes} * * * *"
    hours = interval_minutes // 60
    return "0 0 * * *" if hours == 24 else ("0 * * * *" if hours == 1 else f"0 */{hours} * * *")


# Turns the RDS-managed secret into the DSN `drctl backup` reads from DRCTL_SOURCE_DSN, then
# execs drctl: the password exists only in the process environment, never in argv or the
# pod spec, and each run reads the current value (RDS rotates the managed secret). boto3
# ships with drctl, and Pod Identity credentials reach it through the standard chain.
SECRET_TO_DSN = """\
import json, os, sys, urllib.parse
import boto3
arn = os.environ["DRCTL_SOURCE_SECRET_ARN"]
secret = json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
user, password = (urllib.parse.quote(secret[k], safe="") for k in ("username", "password"))
host, port = os.environ["DRCTL_SOURCE_HOST"], os.environ.get("DRCTL_SOURCE_PORT", "3306")
os.environ["DRCTL_SOURCE_DSN"] = f"mysql://{user}:{password}@{host}:{port}/"
os.execvp(sys.argv[1], sys.argv[1:])
"""


def backup_command(
    *, database: str, container: str, fmt: BackupFormat, retention_days: int
) -> list[str]:
    """The container's command line: the one place to adjust when `drctl backup` changes.

    No credential appears here (anyone who can `kubectl get` reads the pod spec): the DB
    password comes from Secrets Manager through SECRET_TO_DSN, the Azure one from env.
    """
    return [
        "python",
        "-c",
        SECRET_TO_DSN,
        # The backup-only entry point: the job does not import Pulumi, Kubernetes or
        # the rest of drctl (see benchmarks/results.md, peak RSS).
        "python",
        "-m",
        "drctl.pilotlight",
        "backup",
        "--database",
        database,
        "--container",
        container,
        "--format",
        fmt,
        "--retention-days",
        str(retention_days),
        "--json",
    ]


@dataclass(kw_only=True)
class BackupCronJobArgs:
    # Where the job runs: the Seoul cluster, reached through the primary's kubeconfig.
    k8s_provider: k8s.Provider
    # The primary region's provider (Pod Identity association, IAM role); the caller
    # sets skip_credentials_validation & co. so configuring it calls nothing in Seoul.
    aws_provider: aws.Provider
    cluster_name: pulumi.Input[str]
    region: str
    image: str
    interval_minutes: int
    source_host: pulumi.Input[str]
    source_secret_arn: pulumi.Input[str]
    database: str
    container: str
    fmt: BackupFormat
    retention_days: int
    connection_string: pulumi.Input[str]
    namespace: str = "drstack-backup"
    job_name: str = "mysql-backup-to-azure"
    tags: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    extra_args: Sequence[str] = ()


class BackupCronJob(pulumi.ComponentResource):
    schedule: str
    job_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    service_account_name: pulumi.Output[str]
    azure_secret_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: BackupCronJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:backup_job:BackupCronJob", name, None, opts)
        on_aws = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        on_k8s = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        labels = {"app.kubernetes.io/name": args.job_name, "app.kubernetes.io/part-of": "drstack"}
        labels.update(args.labels)
        sa_name = args.job_name

        role = self._role(name, args, on_aws)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=labels),
            opts=on_k8s,
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        meta = k8s.meta.v1.ObjectMetaArgs(
            name=sa_name, namespace=namespace.metadata.name, labels=labels
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account", metadata=meta, opts=in_ns
        )
        aws.eks.PodIdentityAssociation(
            f"{name}-pod-identity",
            cluster_name=args.cluster_name,
            namespace=namespace.metadata.name,
            service_account=service_account.metadata.name,
            role_arn=role.arn,
            tags=args.tags,
            opts=on_aws,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-azure-credential",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{args.job_name}-azure", namespace=namespace.metadata.name, labels=labels
            ),
            type="Opaque",
            # Wrapped again in case a caller passes a plain Output: it must never be stored
            # or shown in clear text.
            string_data={CONNECTION_STRING_KEY: pulumi.Output.secret(args.connection_string)},
            opts=in_ns,
        )

        self.schedule = cron_schedule(args.interval_minutes)
        command = backup_command(
            database=args.database,
            container=args.container,
            fmt=args.fmt,
            retention_days=args.retention_days,
        )
        command += list(args.extra_args)
        container = _backup_container(args, command, secret.metadata.name)
        cron_job = self._cron_job(
            name,
            args,
            labels,
            namespace.metadata.name,
            service_account.metadata.name,
            container,
            in_ns,
        )

        self.job_name = cron_job.metadata.name
        # For the binlog archiver, which runs beside the job with the same identity.
        self.service_account_name = service_account.metadata.name
        self.azure_secret_name = secret.metadata.name
        self.namespace = namespace.metadata.name
        self.role_arn = role.arn
        self.register_outputs(
            {
                "schedule": self.schedule,
                "job_name": self.job_name,
                "namespace": self.namespace,
                "role_arn": self.role_arn,
            }
        )

    def _role(
        self, name: str, args: BackupCronJobArgs, on_aws: pulumi.ResourceOptions
    ) -> aws.iam.Role:
        # EKS Pod Identity rather than IRSA: it needs only the cluster name (a primary output)
        # instead of the cluster's OIDC provider ARN. It requires the eks-pod-identity-agent
        # add-on on the cluster, which the primary stack owns.
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy(
                "pods.eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")
            ),
            tags=args.tags,
            opts=on_aws,
        )
        aws.iam.RolePolicy(
            f"{name}-read-db-secret",
            role=role.id,
            policy=pulumi.Output.from_input(args.source_secret_arn).apply(
                lambda arn: _read_secret_policy(arn, args.region)
            ),
            opts=on_aws,
        )
        return role

    def _cron_job(
        self,
        name: str,
        args: BackupCronJobArgs,
        labels: dict[str, str],
        namespace: pulumi.Output[str],
        service_account_name: pulumi.Output[str],
        container: k8s.core.v1.ContainerArgs,
        in_ns: pulumi.ResourceOptions,
    ) -> k8s.batch.v1.CronJob:
        interval_seconds = args.interval_minutes * 60
        return k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.job_name, namespace=namespace, labels=labels
            ),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=self.schedule,
                time_zone="Etc/UTC",
                # A dump slower than the interval must not start a second one against RDS.
                concurrency_policy="Forbid",
                # A run that could not start within half an interval is skipped: the next
                # one is due soon and is fresher.
                starting_deadline_seconds=max(30, interval_seconds // 2),
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=5,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.batch.v1.JobSpecArgs(
                        # No retries: a retry would compete with the next scheduled run.
                        backoff_limit=0,
                        # A hung dump is killed before it holds the schedule for an hour.
                        active_deadline_seconds=max(3600, 3 * interval_seconds),
                        ttl_seconds_after_finished=24 * 3600,
                        template=k8s.core.v1.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                            spec=k8s.core.v1.PodSpecArgs(
                                service_account_name=service_account_name,
                                restart_policy="Never",
                                containers=[container],
                                volumes=[
                                    k8s.core.v1.VolumeArgs(
                                        name="tmp",
                                        empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(),
                                    )
                                ],
                            ),
                        ),
                    ),
                ),
            ),
            opts=in_ns,
        )


def _read_secret_policy(arn: str, region: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "secretsmanager:GetSecretValue",
                        "secretsmanager:DescribeSecret",
                    ],
                    "Resource": arn,
                },
                {
                    # The managed secret may use a customer KMS key the primary
                    # chose; allow decrypt only for this secret, via Secrets Manager.
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                            "kms:EncryptionContext:SecretARN": arn,
                        }
                    },
                },
            ],
        }
    )


def _backup_container(
    args: BackupCronJobArgs, command: list[str], secret_name: pulumi.Output[str]
) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name="backup",
        image=args.image,
        command=command,
        env=[
            k8s.core.v1.EnvVarArgs(
                name=CONNECTION_STRING_ENV,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                        name=secret_name, key=CONNECTION_STRING_KEY
                    )
                ),
            ),
            k8s.core.v1.EnvVarArgs(name="DRCTL_SOURCE_HOST", value=args.source_host),
            k8s.core.v1.EnvVarArgs(name="DRCTL_SOURCE_PORT", value="3306"),
            k8s.core.v1.EnvVarArgs(name="DRCTL_SOURCE_SECRET_ARN", value=args.source_secret_arn),
            k8s.core.v1.EnvVarArgs(name="AWS_REGION", value=args.region),
            k8s.core.v1.EnvVarArgs(name="AWS_DEFAULT_REGION", value=args.region),
        ],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "250m", "memory": "256Mi"},
            # The dump is streamed (constant memory); one CPU for mysqldump, one for drctl's
            # compression and upload (zstd runs in drctl's own thread).
            limits={"cpu": "2", "memory": "512Mi"},
        ),
        security_context=k8s.core.v1.SecurityContextArgs(
            run_as_non_root=True,
            run_as_user=10001,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        ),
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
    )
