"""rds.engine and the Aurora keys: each value AWS refuses for a global database is refused
by parse_config with one line naming the key; good values near the limits are accepted."""

from __future__ import annotations

import pytest

from tests.core.test_config_rules import parsed, refusal

AURORA = "rds.engine=aurora-mysql"

# (case id, stack, overrides, the key the message must name, a fragment of the reason)
BAD: list[tuple[str, str, tuple[str, ...], str, str]] = [
    ("unknown engine", "seoul", ("rds.engine=postgres",), "rds.engine", "aurora-mysql, mysql"),
    (
        "burstable class",
        "seoul",
        (AURORA, "rds.aurora_instance_class=db.t4g.medium"),
        "rds.aurora_instance_class",
        "memory-optimized",
    ),
    (
        "general-purpose class in the standby",
        "tokyo",
        (AURORA, "rds.aurora_instance_class=db.m6g.large"),
        "rds.aurora_instance_class",
        "memory-optimized",
    ),
    (
        "Aurora MySQL 2",
        "seoul",
        (AURORA, "rds.aurora_engine_version=5.7.mysql_aurora.2.12.6"),
        "rds.aurora_engine_version",
        "3.01.0 or later",
    ),
    (
        "RDS for MySQL version",
        "tokyo",
        (AURORA, "rds.aurora_engine_version='8.0.42'"),
        "rds.aurora_engine_version",
        "8.0.mysql_aurora",
    ),
    (
        "global id with --",
        "seoul",
        (AURORA, "rds.global_cluster_id=pf--global"),
        "rds.global_cluster_id",
        "consecutive hyphens",
    ),
    (
        "global id digit first",
        "tokyo",
        (AURORA, "rds.global_cluster_id=1global"),
        "rds.global_cluster_id",
        "starts with a letter",
    ),
    (
        "derived global id over 63",
        "seoul",
        (AURORA, "name_prefix=" + "p" * 57),
        "name_prefix",
        "-global",
    ),
    (
        "no backups",
        "seoul",
        (AURORA, "rds.backup_retention_days=0"),
        "rds.backup_retention_days",
        "1 to 35 days",
    ),
    (
        "writer instance id over 63",
        "seoul",
        (AURORA, "rds.identifier=" + "r" * 62),
        "rds.identifier",
        "-1'",
    ),
    (
        "secondary instance id over 63",
        "tokyo",
        (AURORA, "name_prefix=" + "p" * 52),
        "name_prefix",
        "-dr-aurora-1",
    ),
]


@pytest.mark.parametrize(
    ("case", "stack", "overrides", "key", "reason"), BAD, ids=[b[0] for b in BAD]
)
def test_an_aurora_value_aws_refuses_is_refused_naming_its_key(
    case: str, stack: str, overrides: tuple[str, ...], key: str, reason: str
) -> None:
    message = refusal(stack, *overrides)
    assert message.startswith(f"drstack:{key}"), message
    assert "is invalid" in message and reason in message, message


def test_the_default_engine_is_mysql_and_the_aurora_defaults_are_accepted() -> None:
    assert parsed("tokyo").rds.engine == "mysql"
    cfg = parsed("tokyo", AURORA)
    assert cfg.rds.engine == "aurora-mysql"
    assert cfg.rds.aurora_instance_class.startswith("db.r")
    assert cfg.aurora_global_cluster_id == f"{cfg.name_prefix}-global"


@pytest.mark.parametrize(
    "overrides",
    [
        (
            "rds.aurora_instance_class=db.x2g.xlarge",
            "rds.aurora_engine_version=8.0.mysql_aurora.3.01.0",
        ),
        ("rds.global_cluster_id=" + "g" * 63,),
        ("rds.backup_retention_days=1", "rds.identifier=" + "r" * 61),
        # The RDS for MySQL keys are unused with Aurora, so an Aurora-only class is fine.
        ("rds.instance_class=db.r7g.large",),
    ],
)
def test_good_aurora_values_near_the_limits_are_accepted(overrides: tuple[str, ...]) -> None:
    assert parsed("seoul", AURORA, *overrides).rds.engine == "aurora-mysql"


def test_aurora_keys_do_not_bind_a_mysql_stack() -> None:
    cfg = parsed("seoul", "rds.aurora_instance_class=db.t3.medium")
    assert cfg.rds.engine == "mysql"


@pytest.mark.parametrize("stack", ["seoul-aurora", "tokyo-aurora"])
def test_the_aurora_example_stacks_are_accepted(stack: str) -> None:
    cfg = parsed(stack)
    assert cfg.rds.engine == "aurora-mysql"
    assert cfg.aurora_global_cluster_id == "portforge-global"
