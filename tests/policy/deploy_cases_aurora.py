"""Bad cases of policy/deploy_aurora.py: each policy is seen to fire on the Aurora example
stacks (Pulumi.seoul-aurora.yaml, Pulumi.tokyo-aurora.yaml), and passes on them as shipped."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from policy.common import T_ROLE_POLICY
from policy.deploy_aurora import T_CLUSTER, T_CLUSTER_INSTANCE, T_GLOBAL_CLUSTER
from tests.policy.conftest import caught, mutate, run_policies, synth

TOKYO_KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
SEOUL_KEY = TOKYO_KEY.replace("ap-northeast-1", "ap-northeast-2")


def case_class_and_version() -> None:
    name = "aurora-global-class-and-version-supported"
    s = synth("seoul-aurora")
    rs, _ = mutate(
        s, T_CLUSTER_INSTANCE, "instance-2", lambda i: i.update(instanceClass="db.t4g.medium")
    )
    caught(name, run_policies(s, rs), "memory-optimized", "db.t4g.medium")
    rs, _ = mutate(
        s, T_GLOBAL_CLUSTER, "", lambda i: i.update(engineVersion="5.7.mysql_aurora.2.12.6")
    )
    caught(name, run_policies(s, rs), "3.01.0 or later")


def case_secondary_key() -> None:
    name = "aurora-secondary-own-region-key"
    t = synth("tokyo-aurora")
    rs, _ = mutate(t, T_CLUSTER, "", lambda i: i.update(kmsKeyId=SEOUL_KEY))
    caught(name, run_policies(t, rs), "KMS key in ap-northeast-2", "runs in ap-northeast-1")
    rs, _ = mutate(t, T_CLUSTER, "", lambda i: i.pop("kmsKeyId"))
    caught(name, run_policies(t, rs), "has no kmsKeyId")
    rs, _ = mutate(t, T_CLUSTER, "", lambda i: i.update(storageEncrypted=False))
    caught(name, run_policies(t, rs), "is not storageEncrypted")


def case_replication_source_ignored() -> None:
    for stack, side in (("tokyo-aurora", "secondary"), ("seoul-aurora", "primary-side")):
        syn = synth(stack)
        cluster = syn.one(T_CLUSTER)
        bad = replace(cluster, ignore_changes=[])
        rs = [bad if r.urn == cluster.urn else r for r in syn.resources]
        caught(
            "aurora-secondary-ignores-replication-source",
            run_policies(syn, rs),
            f"{side} cluster",
            "does not ignore replicationSourceIdentifier",
        )


def case_failover_grants_both_members() -> None:
    t = synth("tokyo-aurora")

    def only_tokyo(inputs: dict) -> None:
        doc = json.loads(inputs["policy"])
        for statement in doc["Statement"]:
            if "rds:FailoverGlobalCluster" in statement["Action"]:
                statement["Resource"] = [
                    r for r in statement["Resource"] if ":ap-northeast-2:" not in r
                ]
        inputs["policy"] = json.dumps(doc)

    rs, _ = mutate(t, T_ROLE_POLICY, "auto-policy", only_tokyo)
    caught(
        "aurora-failover-role-grants-both-members",
        run_policies(t, rs),
        "both member clusters",
        "security_iam_region_switch_aurora",
    )


def case_protected_and_backed_up() -> None:
    name = "aurora-clusters-protected-and-backed-up"
    t = synth("tokyo-aurora")
    rs, _ = mutate(t, T_CLUSTER, "", lambda i: i.update(deletionProtection=False))
    caught(name, run_policies(t, rs), "has no deletionProtection")
    s = synth("seoul-aurora")
    rs, _ = mutate(s, T_CLUSTER, "", lambda i: i.update(backupRetentionPeriod=0))
    caught(name, run_policies(s, rs), "keeps no automated backups")
    rs, _ = mutate(s, T_CLUSTER, "", lambda i: i.update(skipFinalSnapshot=True))
    caught(name, run_policies(s, rs), "skips its final snapshot")
    rs, _ = mutate(s, T_GLOBAL_CLUSTER, "", lambda i: i.update(deletionProtection=False))
    caught(name, run_policies(s, rs), "has no deletionProtection")


def case_no_managed_password() -> None:
    s = synth("seoul-aurora")

    def managed(inputs: dict) -> None:
        inputs.pop("masterPassword", None)
        inputs["manageMasterUserPassword"] = True

    rs, _ = mutate(s, T_CLUSTER, "", managed)
    caught("aurora-no-managed-master-password", run_policies(s, rs), "global database")


def case_versions_equal() -> None:
    name = "aurora-engine-versions-equal"
    s = synth("seoul-aurora")
    rs, _ = mutate(
        s,
        T_CLUSTER_INSTANCE,
        "instance-2",
        lambda i: i.update(engineVersion="8.0.mysql_aurora.3.08.2"),
    )
    caught(name, run_policies(s, rs), "different engine versions")
    # The DR stack against the primary's exported version.
    t = synth("tokyo-aurora", "rds.aurora_engine_version=8.0.mysql_aurora.3.08.2")
    caught(name, run_policies(t), "runs 8.0.mysql_aurora.3.08.2, the primary cluster")


def case_promoted_secondary_has_a_reader() -> None:
    p = synth("tokyo-aurora", "force_failover=true", "promote_replica=true")
    reader = [r for r in p.of_type(T_CLUSTER_INSTANCE) if r.name.endswith("-instance-2")]
    assert len(reader) == 1
    rs = [r for r in p.resources if r.urn != reader[0].urn]
    caught(
        "aurora-promoted-secondary-has-a-reader",
        run_policies(p, rs),
        "has 1 instance(s)",
    )


CASES: dict[str, Callable[[], None]] = {
    "aurora-promoted-secondary-has-a-reader": case_promoted_secondary_has_a_reader,
    "aurora-global-class-and-version-supported": case_class_and_version,
    "aurora-secondary-own-region-key": case_secondary_key,
    "aurora-secondary-ignores-replication-source": case_replication_source_ignored,
    "aurora-failover-role-grants-both-members": case_failover_grants_both_members,
    "aurora-clusters-protected-and-backed-up": case_protected_and_backed_up,
    "aurora-no-managed-master-password": case_no_managed_password,
    "aurora-engine-versions-equal": case_versions_equal,
}
