"""The app is not the master user: its own generated login in its own replicated secret,
created on the primary by a deploy-time Job with exactly the app's grants, and read by
the app in each region through a Pod Identity role that can read nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.app_db_user import (
    APP_DATABASE_PRIVILEGES,
    CREDENTIAL_VERSION_ANNOTATION,
    JOB_SERVICE_ACCOUNT,
)
from components.db_credentials import replica_secret_arn
from drctl.synth import Synthesis

from .conftest import PUBLISHED, app_env, synth

SEOUL, TOKYO = "ap-northeast-2", "ap-northeast-1"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
T_SECRET = "aws:secretsmanager/secret:Secret"
T_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
T_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
T_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"


def _policy(syn: Synthesis, name: str) -> dict[str, Any]:
    return dict(json.loads(syn.one(T_ROLE_POLICY, name).inputs["policy"]))


def _readable(policy: dict[str, Any]) -> list[str]:
    read, decrypt = policy["Statement"]
    assert read["Action"] == "secretsmanager:GetSecretValue"
    resources = read["Resource"] if isinstance(read["Resource"], list) else [read["Resource"]]
    context = decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"]
    assert sorted(context if isinstance(context, list) else [context]) == sorted(resources)
    return sorted(resources)


def _job_container(syn: Synthesis) -> dict[str, Any]:
    return dict(syn.one(JOB, "app-db-user").inputs["spec"]["template"]["spec"]["containers"][0])


# --------------------------------------------------------------------------- the secret


def test_app_login_is_generated_into_its_own_cmk_replicated_secret() -> None:
    s = synth("seoul", *PUBLISHED)
    secret = s.one(T_SECRET, "app-db-app-secret")
    assert secret.region == SEOUL
    assert secret.inputs["name"] == "portforge-rds/app-credential"
    assert secret.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{SEOUL}:")
    [replica] = secret.inputs["replicas"]
    assert replica["region"] == TOKYO and replica["kmsKeyId"].startswith(f"arn:aws:kms:{TOKYO}:")
    version = s.one(T_VERSION, "app-db-app-credential")
    assert version.display_inputs["secretString"] == "[secret]"
    login = json.loads(version.inputs["secretString"])
    master = json.loads(s.one(T_VERSION, "master-credential").inputs["secretString"])
    assert login["username"] == "portforge_app" != master["username"]
    assert login["password"] != master["password"] and len(login["password"]) == 32
    assert login["dbname"] == "portforge"
    assert s.outputs["app_secret_arn"].startswith(f"arn:aws:secretsmanager:{SEOUL}:")
    assert s.outputs["app_secret_replica_arns"] == {
        TOKYO: replica_secret_arn(s.outputs["app_secret_arn"], TOKYO)
    }
    # drctl status checks every listed secret's replication to the DR region.
    assert s.outputs["app_secret_arn"] in s.outputs["secret_arns"]


# --------------------------------------------------------------------------- Seoul's app


def test_seoul_app_reads_its_own_secret_never_the_master() -> None:
    s = synth("seoul", *PUBLISHED)
    env = app_env(s)
    assert env["DB_SECRET_ARN"] == s.outputs["app_secret_arn"]
    assert env["DB_SECRET_ARN"] != s.outputs["rds_master_secret_arn"]
    assert _readable(_policy(s, "app-secret-read")) == [s.outputs["app_secret_arn"]]


# --------------------------------------------------------------------------- the Job


def test_job_creates_the_user_as_master_with_exactly_the_app_grants() -> None:
    s = synth("seoul", *PUBLISHED)
    container = _job_container(s)
    assert container["command"] == [
        "python",
        "-m",
        "app.db_user",
        "--database",
        "portforge",
        "--privileges",
        "SELECT,INSERT,UPDATE,DELETE,CREATE",
    ]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MASTER_SECRET_ARN"] == s.outputs["rds_master_secret_arn"]
    assert env["APP_SECRET_ARN"] == s.outputs["app_secret_arn"]
    assert env["DB_HOST"] == s.outputs["rds_address"]
    assert not any("PASSWORD" in name for name in env)
    # The app's own pinned image: it carries app.db_user and pymysql.
    app = s.one(DEPLOYMENT, "drstack-app").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == app["image"]
    # Its own identity: the master secret and the app's, nothing else.
    pod = s.one(JOB, "app-db-user").inputs["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == JOB_SERVICE_ACCOUNT and pod["restartPolicy"] == "Never"
    assert s.one(T_IDENTITY, "app-db-user-identity").inputs["serviceAccount"] == (
        JOB_SERVICE_ACCOUNT
    )
    assert _readable(_policy(s, "app-db-user-secrets")) == sorted(
        [s.outputs["rds_master_secret_arn"], s.outputs["app_secret_arn"]]
    )


def test_the_app_starts_after_its_user_exists() -> None:
    s = synth("seoul", *PUBLISHED)
    job = s.one(JOB, "app-db-user")
    assert job.urn in s.one(DEPLOYMENT, "drstack-app").depends_on
    # A fixed name would collide with the old Job on replacement (pulumi-kubernetes #2575).
    assert "name" not in job.inputs["metadata"]
    identity = s.one(T_IDENTITY, "app-db-user-identity")
    assert identity.urn in job.depends_on


def test_a_rotation_reruns_the_job_and_leaves_the_master_alone() -> None:
    base, rotated = (
        synth("seoul", *PUBLISHED),
        synth("seoul", *PUBLISHED, "rds.app_password_version=2"),
    )

    def version(syn: Synthesis) -> str:
        meta = syn.one(JOB, "app-db-user").inputs["spec"]["template"]["metadata"]
        return str(meta["annotations"][CREDENTIAL_VERSION_ANNOTATION])

    assert version(base) and version(base) != version(rotated)
    for syn in (base, rotated):
        assert (
            syn.one(T_VERSION, "master-credential").inputs
            == base.one(T_VERSION, "master-credential").inputs
        )


def test_no_job_without_a_published_app_image() -> None:
    # The Job runs in the app's image: none pushed yet, no Job (and no app to wait for it).
    s = synth("seoul")
    assert not s.of_type(JOB)
    assert s.one(T_SECRET, "app-db-app-secret")


# --------------------------------------------------------------------------- Tokyo


@pytest.mark.parametrize("overrides", [(), ("force_failover=true", "promote_replica=true")])
def test_tokyo_app_reads_the_app_secret_replica_and_runs_no_job(
    overrides: tuple[str, ...],
) -> None:
    seoul = synth("seoul", *PUBLISHED)
    t = synth("tokyo", *PUBLISHED, *overrides)
    expected = replica_secret_arn(seoul.outputs["app_secret_arn"], TOKYO)
    assert app_env(t)["DB_SECRET_ARN"] == expected == t.outputs["app_secret_arn"]
    assert _readable(_policy(t, "app-secret-read")) == [expected]
    # The user reaches the replica through the binlog: nothing runs against it here.
    assert not t.of_type(JOB)


@pytest.mark.parametrize(("primary", "dr"), [("seoul-aurora", "tokyo-aurora")])
def test_aurora_stacks_wire_the_app_login_the_same_way(primary: str, dr: str) -> None:
    s, t = synth(primary, *PUBLISHED), synth(dr, *PUBLISHED)
    env = {e["name"]: e["value"] for e in _job_container(s)["env"]}
    assert env["DB_HOST"] == s.outputs["rds_address"]
    assert env["MASTER_SECRET_ARN"] == s.outputs["rds_master_secret_arn"]
    assert app_env(s)["DB_SECRET_ARN"] == s.outputs["app_secret_arn"]
    assert app_env(t)["DB_SECRET_ARN"] == replica_secret_arn(s.outputs["app_secret_arn"], TOKYO)


def test_the_grants_agree_with_the_sandbox_accounts() -> None:
    from drctl.sandbox.accounts import APP_DATABASE_PRIVILEGES as SANDBOX

    assert APP_DATABASE_PRIVILEGES == SANDBOX


def test_config_refuses_the_master_user_as_the_app_user() -> None:
    from drctl.synth import synthesize
    from stacks.config import ConfigError

    with pytest.raises(
        ConfigError, match=r"rds\.app_username = .ADMIN. is invalid.*never the master"
    ):
        synthesize("seoul", ("rds.app_username=ADMIN",))
