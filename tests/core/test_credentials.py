"""The RDS master credential: generated, secret, in our own replicated secret, and wired
so that the DR region can read it with the primary region dark."""

from __future__ import annotations

import json

import pytest

from components.rds_replica import PASSWORD_SPECIALS, replica_secret_arn
from drctl.synth import Synthesis
from tests.core.conftest import synth

SEOUL, TOKYO = "ap-northeast-2", "ap-northeast-1"
T_SECRET = "aws:secretsmanager/secret:Secret"
T_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
T_PASSWORD = "random:index/randomPassword:RandomPassword"


def test_password_is_generated_within_rds_mysql_limits(seoul: Synthesis) -> None:
    password = seoul.one(T_PASSWORD, "master-password").inputs
    # RDS for MySQL: 8 to 41 printable ASCII, never "/", '"' or "@".
    assert 8 <= password["length"] <= 41
    assert password["special"] is True
    assert not set(password["overrideSpecial"]) & set("/\"@' ")
    assert set(password["overrideSpecial"]) == set(PASSWORD_SPECIALS)


def test_password_reaches_rds_and_the_secret_only_as_a_secret(seoul: Synthesis) -> None:
    db = seoul.one("aws:rds/instance:Instance")
    version = seoul.one(T_VERSION, "master-credential")
    assert db.display_inputs["password"] == "[secret]"
    assert version.display_inputs["secretString"] == "[secret]"
    # Same value in both (unwrapped in-process only).
    credential = json.loads(version.inputs["secretString"])
    assert credential["password"] == db.inputs["password"]
    assert credential["username"] == db.inputs["username"] == "admin"
    assert credential["port"] == 3306 and credential["dbname"] == "portforge"
    password = db.inputs["password"]
    dumped = json.dumps(
        {
            "outputs": seoul.display_outputs(),
            "inputs": [r.display_inputs for r in seoul.resources],
        }
    )
    assert password not in dumped, "the password leaks into outputs or displayed inputs"


def test_secret_is_ours_cmk_encrypted_and_replicated_to_tokyo_with_a_tokyo_cmk(
    seoul: Synthesis,
) -> None:
    secret = seoul.one(T_SECRET, "master-secret")
    assert secret.region == SEOUL
    assert secret.inputs["name"] == "portforge-rds/master-credential"
    assert secret.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{SEOUL}:")
    [replica] = secret.inputs["replicas"]
    assert replica["region"] == TOKYO and replica["kmsKeyId"].startswith(f"arn:aws:kms:{TOKYO}:")
    version = seoul.one(T_VERSION, "master-credential")
    assert secret.urn in version.depends_on
    # The exported credential ARN is OUR secret, not an RDS-managed "rds!db-..." one.
    arn = seoul.outputs["rds_master_secret_arn"]
    assert arn.startswith(f"arn:aws:secretsmanager:{SEOUL}:") and "rds!" not in arn
    assert seoul.outputs["secret_arns"] == [arn, seoul.outputs["app_secret_arn"]]
    assert seoul.outputs["rds_master_secret_replica_arns"] == {
        TOKYO: arn.replace(f":{SEOUL}:", f":{TOKYO}:")
    }


def test_rotation_is_a_new_password_version() -> None:
    base = synth("seoul")
    rotated = synth("seoul", "rds.password_version=2")
    before = base.one("aws:rds/instance:Instance").inputs["password"]
    after = rotated.one("aws:rds/instance:Instance").inputs["password"]
    assert before != after
    assert rotated.one(T_PASSWORD, "master-password").inputs["keepers"] == {"password_version": "2"}
    # The replica is untouched by a rotation: replication does not use the master user.
    assert synth("tokyo").one("aws:rds/instance:Instance").inputs.get("password") is None


@pytest.mark.parametrize("overrides", [(), ("force_failover=true", "promote_replica=true")])
def test_tokyo_app_reads_the_secret_replica_in_tokyo(
    seoul: Synthesis, overrides: tuple[str, ...]
) -> None:
    tokyo = synth("tokyo", *overrides)
    expected = replica_secret_arn(seoul.outputs["rds_master_secret_arn"], TOKYO)
    assert tokyo.outputs["replica_master_secret_arn"] == expected
    assert expected.split(":")[3] == TOKYO
    db = tokyo.one("aws:rds/instance:Instance").inputs
    assert tokyo.outputs["replica_address"].endswith(f".{TOKYO}.rds.amazonaws.com")
    # Neither the replica nor the promoted instance manages a password of its own: a
    # new one would no longer match the secret, and failback's reverse replica would be
    # refused exactly like the forward one.
    assert "manageMasterUserPassword" not in db


def test_replica_secret_arn_refuses_other_arns() -> None:
    with pytest.raises(ValueError, match="not a Secrets Manager secret ARN"):
        replica_secret_arn("arn:aws:rds:ap-northeast-2:1:db:x", TOKYO)


def test_a_dr_region_without_a_secret_replica_is_a_clear_error() -> None:
    from stacks.config import ConfigError

    with pytest.raises(ConfigError, match="rds_master_secret_replica_arns has no 'ap-northeast-3'"):
        synth("tokyo", "aws:region=ap-northeast-3")


def test_cost_counts_the_secret_replica_and_nothing_for_the_password(seoul: Synthesis) -> None:
    from policy.pricing import estimate

    lines = {line.name: line for line in estimate(seoul).lines}
    secret = lines["primary-db-master-secret"]
    assert secret.priced and "× 2" in secret.description
    # Free types are left out of the itemised lines, unpriced ones are listed as such.
    assert "primary-db-master-password" not in lines
