"""The app is not the master user: no app workload may reference the master credential.

AWS: "We strongly recommend that you do not use the master user directly in your
applications. Instead, adhere to the best practice of using a database user created with
the minimal privileges required for your application" (RDS User Guide, "Master user
account privileges"). For drstack it is also what makes the planned fence hold: the
app's own user has no global privilege, so ``read_only`` always binds it, while the
master user's binding depends on what ``rds_superuser_role`` holds.

Nothing at `up` refuses an app that logs in as the master user, so this is a policy. A
workload (Deployment, StatefulSet, DaemonSet) breaks it when
* a container's environment names a master-credential secret (its ARN or name), or
* the IAM role that EKS Pod Identity gives its service account may read one
  (``secretsmanager:GetSecretValue`` on it, on ``*`` or on a wildcard that matches it).

The master-credential secrets are the ones this stack declares as
``<identifier>/master-credential`` (``components/db_credentials.py``) and, in a DR stack,
the primary's ``rds_master_secret_arn`` and its replicas (the StackReference outputs).
Deploy-time Jobs (the one that creates the app's user, the backup job) may read it: they
are not app workloads.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policy.common import (
    T_ROLE,
    T_ROLE_POLICY,
    _get,
    _is_map,
    _items,
    _of,
    _policy_documents,
    _primary_outputs,
    _stack_policy,
    current_context,
)

MASTER_USER_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html"
)
T_SECRET = "aws:secretsmanager/secret:Secret"
T_POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
WORKLOAD_TYPES = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
)
MASTER_SUFFIX = "/master-credential"
_READ_ACTIONS = ("secretsmanager:getsecretvalue",)


def secret_name_of_arn(arn: str) -> str | None:
    """``arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>`` -> name."""
    parts = arn.split(":", 6)
    if len(parts) < 7 or parts[2] != "secretsmanager" or parts[5] != "secret":
        return None
    return parts[6].rsplit("-", 1)[0]


def _master_names(args: StackValidationArgs) -> set[str]:
    names = {
        str(s.props.get("name"))
        for s in _of(args.resources, T_SECRET)
        if str(s.props.get("name") or "").endswith(MASTER_SUFFIX)
    }
    outputs = _primary_outputs(args, current_context(args))
    arns = [outputs.get("rds_master_secret_arn")]
    replicas = outputs.get("rds_master_secret_replica_arns")
    arns += list(replicas.values()) if _is_map(replicas) else []
    names |= {n for a in arns if isinstance(a, str) and (n := secret_name_of_arn(a))}
    return names


def _names_master(value: Any, masters: set[str]) -> bool:
    if not isinstance(value, str):
        return False
    name = secret_name_of_arn(value)
    return (name or value) in masters


def _pod_spec(workload: Any) -> Mapping[str, Any]:
    spec = _get(workload.props, "spec", "template", "spec")
    return spec if _is_map(spec) else {}


def _env_references(workload: Any, masters: set[str]) -> list[str]:
    spec = _pod_spec(workload)
    containers = [*_items(spec.get("containers")), *_items(spec.get("initContainers"))]
    return [
        str(env.get("name"))
        for container in containers
        for env in _items(container.get("env"))
        if _names_master(env.get("value"), masters)
    ]


def _allows(statement: Mapping[str, Any], action: str) -> bool:
    actions = statement.get("Action")
    listed = [actions] if isinstance(actions, str) else _items(actions)
    return any(fnmatch.fnmatch(action, str(a).lower()) for a in listed)


def _grants_master_read(document: Mapping[str, Any], masters: set[str]) -> bool:
    statements = document.get("Statement")
    for statement in [statements] if _is_map(statements) else _items(statements):
        if statement.get("Effect") != "Allow" or not _allows(statement, _READ_ACTIONS[0]):
            continue
        resources = statement.get("Resource")
        for pattern in [resources] if isinstance(resources, str) else _items(resources):
            if any(_matches(str(pattern), name) for name in masters):
                return True
    return False


def _matches(pattern: str, master: str) -> bool:
    """Whether a policy Resource could name the master secret (any region, any suffix)."""
    if pattern == "*":
        return True
    name = secret_name_of_arn(pattern)
    if name == master:
        return True
    example = f"arn:aws:secretsmanager:region:account:secret:{master}-AbCdEf"
    return "*" in pattern and fnmatch.fnmatch(example, pattern)


def _roles_of(workload: Any, associations: Iterable[Any]) -> list[Any]:
    """The IAM roles Pod Identity hands this workload's service account."""
    spec = _pod_spec(workload)
    account = spec.get("serviceAccountName") or "default"
    namespace = _get(workload.props, "metadata", "namespace") or "default"
    return [
        dep
        for assoc in associations
        if assoc.props.get("serviceAccount") == account
        and (assoc.props.get("namespace") or "default") == namespace
        for dep in assoc.dependencies
        if dep.resource_type == T_ROLE
    ]


def _role_reads_master(role: Any, policies: Iterable[Any], masters: set[str]) -> bool:
    return any(
        role.urn in {d.urn for d in policy.dependencies}
        and any(
            _grants_master_read(doc, masters)
            for doc in _policy_documents(policy.props.get("policy"))
        )
        for policy in policies
    )


def _app_not_master_user(args: StackValidationArgs, report: ReportViolation) -> None:
    masters = _master_names(args)
    if not masters:
        return
    associations = _of(args.resources, T_POD_IDENTITY)
    policies = _of(args.resources, T_ROLE_POLICY)
    for workload in _of(args.resources, *WORKLOAD_TYPES):
        for env in _env_references(workload, masters):
            report(
                f"{workload.name} reads the database master credential ({env}): give the "
                "app its own least-privileged user and secret (components/app_db_user.py)",
                workload.urn,
            )
        for role in _roles_of(workload, associations):
            if _role_reads_master(role, policies, masters):
                report(
                    f"{workload.name}'s Pod Identity role {role.name} may read the database "
                    "master credential: scope its secretsmanager:GetSecretValue to the app's "
                    "own secret",
                    workload.urn,
                )


POLICIES = [
    _stack_policy(
        "app-not-master-user",
        "An app workload never uses the database master user: no container names the "
        "master-credential secret and no Pod Identity role of a workload may read it. AWS "
        "strongly recommends against using the master user in applications, and the app's "
        f"own user (no global privilege) is always bound by read_only ({MASTER_USER_DOC})",
        _app_not_master_user,
        "Wire the app to its own login (stacks/database.py app_secret_arn / "
        "app_secret_replica_arns, created by components/app_db_user.py) and scope the "
        "app role's secretsmanager:GetSecretValue to that secret's ARN",
    ),
]
