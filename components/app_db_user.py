"""The app's own database user: its generated login in a replicated secret, and the
deploy-time Job that creates it with exactly the app's grants.

Why the app is not the master user: AWS "strongly recommend[s] that you do not use the
master user directly in your applications" (RDS User Guide, "Master user account
privileges", MASTER_USER_DOC). And on RDS for MySQL 8.0.36+ the master user's privileges
come partly from ``rds_superuser_role``, so whether ``read_only`` binds it depends on what
that role holds (a holder of CONNECTION_ADMIN or SUPER is not bound). The app's user has
database-level DML and CREATE on its own database and no global privilege at all:
``read_only`` always binds it, so the planned-failover fence holds whatever the master
user's grants are.

The pieces:
* :class:`AppDbCredential` (primary stack): a generated password (``pulumi_random``)
  kept in OUR OWN Secrets Manager secret ``<identifier>/app-credential``, CMK-encrypted
  and replicated to the DR regions like the master credential, so Tokyo's app reads it in
  Tokyo with Seoul dark.
* :func:`app_user_job` (primary cluster): a Kubernetes Job in the app image running
  ``python -m app.db_user`` as the master user, which it reads from Secrets Manager
  through its own Pod Identity role (the app's role reads only the app's secret). Its
  pod template carries the app secret's version and the grants, so a rotation or a grant
  change replaces the Job (``spec.template`` is immutable; the name is auto-generated
  so the replacement is created before the old Job is deleted) and it runs again.
  Pulumi waits for a Job to complete, and the app Deployment depends on it.
* Nothing runs in the DR region: account-management statements are written to the
  binary log as statements and replicate to an RDS read replica (MySQL manual, "The
  mysql System Schema" binlog rules, MYSQL_BINLOG_DOC; RDS 8.0.36+ forbids DML on the
  grant tables, which would not replicate, RDS_PRIVILEGE_MODEL_DOC), and an Aurora
  global database replicates its storage, grant tables included. A read-only replica
  could not run the Job anyway (account management needs CONNECTION_ADMIN under
  ``read_only``).

What the master user may grant: GRANT needs the GRANT OPTION privilege and every
privilege granted; REVOKE ALL PRIVILEGES, GRANT OPTION needs CREATE USER (MySQL manual,
GRANT and REVOKE). MASTER_USER_DOC lists SELECT, INSERT, UPDATE, DELETE, CREATE and
CREATE USER for the RDS for MySQL 8.0.36+ master user (earlier versions of the page
spell them ``ON *.* WITH GRANT OPTION``, and Aurora MySQL's list names GRANT OPTION), so
it can grant exactly this set and nothing it does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.db_credentials import APP, CredentialSpec, generated_password, store_credential
from components.iam import assume_role_policy

MASTER_USER_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html"
)
RDS_PRIVILEGE_MODEL_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
    "Appendix.MySQL.CommonDBATasks.privilege-model.html"
)
MYSQL_BINLOG_DOC = "https://dev.mysql.com/doc/refman/8.0/en/binary-log-mysql-database.html"

# The app's grants, on its own database only: DML, and CREATE for the app's
# CREATE TABLE IF NOT EXISTS at start. Kept equal to drctl's sandbox accounts
# (APP_DATABASE_PRIVILEGES there; tests/core/test_app_db_user.py checks they agree).
APP_DATABASE_PRIVILEGES: tuple[str, ...] = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE")
JOB_SERVICE_ACCOUNT = "drstack-app-db-user"
JOB_NAMESPACE = "default"
# On the Job's pod template: a new value is a new template, so the Job is replaced and runs.
CREDENTIAL_VERSION_ANNOTATION = "drstack.io/app-credential-version"


def job_command(database: str, privileges: Sequence[str] = APP_DATABASE_PRIVILEGES) -> list[str]:
    """The Job's command line (no credential in it: both logins come from Secrets Manager)."""
    return [
        "python",
        "-m",
        "app.db_user",
        "--database",
        database,
        "--privileges",
        ",".join(privileges),
    ]


# --------------------------------------------------------------------------- the secret


@dataclass(kw_only=True)
class AppDbCredentialArgs:
    provider: aws.Provider
    identifier: str
    username: str
    db_name: str
    # The primary-region CMK that encrypts the secret (the database's storage key).
    kms_key_arn: pulumi.Input[str]
    # Bump to rotate: a new password, set by the Job's ALTER USER.
    password_version: int = 1
    # Region -> provider of each region that gets a replica of the secret.
    replica_providers: Mapping[str, aws.Provider] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class AppDbCredential(pulumi.ComponentResource):
    secret_arn: pulumi.Output[str]
    # Region -> ARN of the secret's replica there (computed, never looked up).
    replica_arns: dict[str, pulumi.Output[str]]
    # Changes with every new secret value: what reruns the Job.
    version_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: AppDbCredentialArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:app_db_user:AppDbCredential", name, None, opts)
        spec = CredentialSpec(
            identifier=args.identifier,
            username=args.username,
            db_name=args.db_name,
            password_version=args.password_version,
            replica_providers=args.replica_providers,
            tags=args.tags,
        )
        password = generated_password(f"{name}-password", spec, self)
        stored = store_credential(
            name,
            APP,
            spec,
            password,
            args.kms_key_arn,
            pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.secret_arn = stored.secret.arn
        self.replica_arns = stored.replica_arns
        self.version_id = stored.version.version_id
        self.register_outputs({"secret_arn": self.secret_arn, "replica_arns": self.replica_arns})


# --------------------------------------------------------------------------- the Job


@dataclass(kw_only=True)
class AppUserSpec:
    """What the primary's database hands the workloads: the two secrets the Job reads."""

    master_secret_arn: pulumi.Input[str]
    app_secret_arn: pulumi.Input[str]
    credential_version: pulumi.Input[str]


@dataclass(kw_only=True)
class AppUserJobArgs:
    provider: aws.Provider
    cluster_name: pulumi.Input[str]
    region: str
    image: pulumi.Input[str]
    db_host: pulumi.Input[str]
    db_name: str
    user: AppUserSpec
    tags: dict[str, str] = field(default_factory=dict)


def secret_read_policy(secret_arns: Sequence[str], region: str) -> str:
    """Read exactly these secrets, and decrypt through Secrets Manager only for them."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": secret_arns[0] if len(secret_arns) == 1 else list(secret_arns),
                },
                {
                    # The secrets' customer-managed keys, used only through Secrets Manager
                    # for these secrets (their ARN is in the encryption context).
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                            "kms:EncryptionContext:SecretARN": (
                                secret_arns[0] if len(secret_arns) == 1 else list(secret_arns)
                            ),
                        }
                    },
                },
            ],
        }
    )


def _job_identity(
    name: str, args: AppUserJobArgs, parent: pulumi.Resource, k8s_opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    """The Job's own service account and role: the master secret and the app's, nothing else."""
    aws_opts = pulumi.ResourceOptions(parent=parent, provider=args.provider)
    role = aws.iam.Role(
        f"{name}-app-db-user-role",
        assume_role_policy=assume_role_policy(
            "pods.eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")
        ),
        tags=args.tags,
        opts=aws_opts,
    )
    policy = aws.iam.RolePolicy(
        f"{name}-app-db-user-secrets",
        role=role.id,
        policy=pulumi.Output.all(args.user.master_secret_arn, args.user.app_secret_arn).apply(
            lambda arns: secret_read_policy(arns, args.region)
        ),
        opts=aws_opts,
    )
    account = k8s.core.v1.ServiceAccount(
        f"{name}-app-db-user-sa",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=JOB_SERVICE_ACCOUNT, namespace=JOB_NAMESPACE),
        opts=k8s_opts,
    )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-app-db-user-identity",
        cluster_name=args.cluster_name,
        namespace=JOB_NAMESPACE,
        service_account=JOB_SERVICE_ACCOUNT,
        role_arn=role.arn,
        tags=args.tags,
        opts=aws_opts,
    )
    return [policy, account, association]


def _job_container(args: AppUserJobArgs) -> k8s.core.v1.ContainerArgs:
    env = {
        "DB_HOST": args.db_host,
        "DB_PORT": "3306",
        "MASTER_SECRET_ARN": args.user.master_secret_arn,
        "APP_SECRET_ARN": args.user.app_secret_arn,
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
    }
    return k8s.core.v1.ContainerArgs(
        name="app-db-user",
        image=args.image,
        image_pull_policy="IfNotPresent",
        command=job_command(args.db_name),
        env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in env.items()],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"}
        ),
        security_context=k8s.core.v1.SecurityContextArgs(
            run_as_non_root=True,
            run_as_user=10001,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        ),
    )


def app_user_job(
    name: str, args: AppUserJobArgs, parent: pulumi.Resource, k8s_opts: pulumi.ResourceOptions
) -> k8s.batch.v1.Job:
    """The Job (and its identity); the app Deployment should depend on the returned Job."""
    identity = _job_identity(name, args, parent, k8s_opts)
    labels = {"app.kubernetes.io/name": JOB_SERVICE_ACCOUNT, "app.kubernetes.io/part-of": "drstack"}
    template_meta = k8s.meta.v1.ObjectMetaArgs(
        labels=labels,
        annotations={CREDENTIAL_VERSION_ANNOTATION: args.user.credential_version},
    )
    return k8s.batch.v1.Job(
        f"{name}-app-db-user",
        # No metadata.name: a replacement gets a new name, so it is created before the
        # old Job is deleted (a fixed name would collide: pulumi-kubernetes #2575).
        metadata=k8s.meta.v1.ObjectMetaArgs(namespace=JOB_NAMESPACE, labels=labels),
        spec=k8s.batch.v1.JobSpecArgs(
            # The database may still be finishing a modification: a few retries, then fail
            # the `up` (Pulumi reports a failed Job) rather than start the app without a user.
            backoff_limit=3,
            active_deadline_seconds=600,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=template_meta,
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=JOB_SERVICE_ACCOUNT,
                    restart_policy="Never",
                    containers=[_job_container(args)],
                ),
            ),
        ),
        # Pod Identity injects credentials when the pod starts: the association first.
        opts=pulumi.ResourceOptions.merge(
            k8s_opts,
            pulumi.ResourceOptions(
                depends_on=identity, custom_timeouts=pulumi.CustomTimeouts(create="15m")
            ),
        ),
    )
