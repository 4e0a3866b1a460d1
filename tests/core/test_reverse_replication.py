"""reverse_replication: after a failover, Tokyo's bucket writes get a copy in Seoul."""

from __future__ import annotations

import json

from drctl.preview import primary_outputs
from policy.policies import evaluate
from tests.core.conftest import synth

SEOUL, TOKYO = "ap-northeast-2", "ap-northeast-1"
T_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
REVERSE = ("force_failover=true", "promote_replica=true", "reverse_replication=true")


def test_off_by_default_no_rule_leaves_tokyo() -> None:
    rules = synth("tokyo").of_type(T_REPLICATION)
    assert {r.region for r in rules} == {SEOUL}


def test_reverse_rules_copy_each_dr_bucket_back_to_its_seoul_bucket() -> None:
    syn = synth("tokyo", *REVERSE)
    reverse = [r for r in syn.of_type(T_REPLICATION) if r.region == TOKYO]
    assert sorted(r.inputs["bucket"] for r in reverse) == [
        "portforge-front-dr",
        "portforge-log-dr",
        "portforge-team-dr",
    ]
    for rule_config in reverse:
        source = rule_config.inputs["bucket"]
        [rule] = rule_config.inputs["rules"]
        assert rule["destination"]["bucket"] == f"arn:aws:s3:::{source.removesuffix('-dr')}"
        assert rule["deleteMarkerReplication"]["status"] == "Enabled"
        versionings = [syn.by_urn(u) for u in rule_config.depends_on if "bucketVersioning" in u]
        assert [(v.region, v.inputs["bucket"]) for v in versionings] == [(TOKYO, source)]
    role_policy = next(
        r for r in syn.of_type("aws:iam/rolePolicy:RolePolicy") if "reverse" in r.name
    )
    statements = json.loads(role_policy.inputs["policy"])["Statement"]
    written = {res for s in statements if s["Sid"] == "WriteReplicas" for res in s["Resource"]}
    assert written == {f"arn:aws:s3:::portforge-{b}/*" for b in ("front", "team", "log")}


def test_reverse_replication_passes_every_mandatory_policy() -> None:
    syn = synth("tokyo", *REVERSE)
    mandatory = [
        v
        for v in evaluate(syn.resources, syn.config, primary_outputs(syn))
        if v.level == "mandatory"
    ]
    assert mandatory == []
