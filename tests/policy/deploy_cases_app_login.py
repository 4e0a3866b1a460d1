"""Bad cases of policy/deploy_app_login.py: an app wired to the master credential, by its
environment or by its Pod Identity role, in the primary and in a DR stack."""

from __future__ import annotations

import json
from typing import Any

from tests.policy.conftest import caught, mutate, run_policies, synth

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PUBLISHED = ("image_tags.drstack-app=2026.11.29-3f2a1c",)


def _env_to(arn: str) -> Any:
    def change(inputs: dict[str, Any]) -> None:
        for env in inputs["spec"]["template"]["spec"]["containers"][0]["env"]:
            if env["name"] == "DB_SECRET_ARN":
                env["value"] = arn

    return change


def _read_resource(resource: str) -> Any:
    def change(inputs: dict[str, Any]) -> None:
        doc = json.loads(inputs["policy"])
        doc["Statement"][0]["Resource"] = resource
        inputs["policy"] = json.dumps(doc)

    return change


def case_app_not_master_user() -> None:
    s = synth("seoul", *PUBLISHED)
    master = s.outputs["rds_master_secret_arn"]
    # The shipped stack passes: the app reads its own secret.
    assert "app-not-master-user" not in {v.policy for v in run_policies(s)}
    rs, _ = mutate(s, DEPLOYMENT, "drstack-app", _env_to(master))
    caught("app-not-master-user", run_policies(s, rs), "drstack-app", "DB_SECRET_ARN")
    # The app's role may read the master secret (by ARN, or by a wildcard).
    for resource in (master, "arn:aws:secretsmanager:*:*:secret:portforge-rds/*", "*"):
        rs, _ = mutate(s, ROLE_POLICY, "app-secret-read", _read_resource(resource))
        caught("app-not-master-user", run_policies(s, rs), "Pod Identity role")
    # The Job that creates the app's user reads it, and may: it is not an app workload.
    assert master in s.one(ROLE_POLICY, "app-db-user-secrets").inputs["policy"]

    # Tokyo: the master secret's replica there, known from the primary's outputs only.
    t = synth("tokyo", *PUBLISHED)
    replica = t.outputs["replica_master_secret_arn"]
    rs, _ = mutate(t, DEPLOYMENT, "drstack-app", _env_to(replica))
    caught("app-not-master-user", run_policies(t, rs), "master credential")


CASES = {"app-not-master-user": case_app_not_master_user}
