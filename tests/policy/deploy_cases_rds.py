"""Bad cases of policy/deploy_rds.py: each policy is seen to fire."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from policy import policies as T
from tests.policy.conftest import caught, mutate, run_policies, synth


def _managed(inputs: dict[str, Any]) -> None:
    inputs.pop("password", None)
    inputs["manageMasterUserPassword"] = True


def case_managed_password_source() -> None:
    # On the primary: every primary instance feeds the DR stacks' replica.
    s = synth("seoul")
    rs, _ = mutate(s, T.T_RDS, "", _managed)
    caught(
        "rds-replica-source-password-not-managed",
        run_policies(s, rs),
        "manages its master password",
    )
    # In a DR stack: the primary's exported credential is an RDS-managed secret.
    t = synth("tokyo")
    managed = dict(t.primary_outputs or {})
    managed["rds_master_secret_arn"] = (
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-AbCdEf"
    )
    refs = [
        replace(r, inputs={**r.inputs, "outputs": managed}) if r.type == T.T_STACK_REF else r
        for r in t.resources
    ]
    caught(
        "rds-replica-source-password-not-managed",
        run_policies(t, refs),
        "its source (primary stack) manages its master password",
    )
    # On a replica itself.
    rs, _ = mutate(t, T.T_RDS, "", lambda i: i.update(manageMasterUserPassword=True))
    caught(
        "rds-replica-source-password-not-managed",
        run_policies(t, rs),
        "sets manageMasterUserPassword",
    )


def case_cross_region_replica_kms() -> None:
    t = synth("tokyo")
    rs, _ = mutate(t, T.T_RDS, "", lambda i: i.pop("kmsKeyId"))
    caught("rds-cross-region-replica-kms", run_policies(t, rs), "has no kmsKeyId")


def case_dr_database_production_grade() -> None:
    t = synth("tokyo")
    rs, _ = mutate(t, T.T_RDS, "", lambda i: i.update(deletionProtection=False))
    caught("rds-dr-database-production-grade", run_policies(t, rs), "no deletionProtection")
    p = synth("tokyo", "force_failover=true", "promote_replica=true")
    rs, _ = mutate(p, T.T_RDS, "", lambda i: i.update(multiAz=False))
    caught("rds-dr-database-production-grade", run_policies(p, rs), "is single-AZ")


CASES: dict[str, Callable[[], None]] = {
    "rds-replica-source-password-not-managed": case_managed_password_source,
    "rds-cross-region-replica-kms": case_cross_region_replica_kms,
    "rds-dr-database-production-grade": case_dr_database_production_grade,
}
