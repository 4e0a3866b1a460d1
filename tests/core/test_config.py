"""The typed config: shipped stacks parse, and each bad value stops with its own message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drctl.synth import apply_overrides, engine_config, load_stack_file
from stacks.config import ConfigError, parse_config


def parsed(stack: str, *overrides: str, drop: tuple[str, ...] = ()):
    raw = apply_overrides(load_stack_file(stack), overrides)
    for key in drop:
        raw.pop(key)
    flat, secret_keys = engine_config(raw)
    return parse_config(stack, flat, secret_keys)


def test_shipped_tokyo_parses_into_typed_values() -> None:
    cfg = parsed("tokyo")
    assert cfg.role == "dr" and cfg.strategy == "warm-standby"
    assert cfg.region == "ap-northeast-1" and cfg.primary_region == "ap-northeast-2"
    assert cfg.dns.health_check.interval == 10 and cfg.dns.ttl == 60
    assert cfg.objectives.rto_minutes == 30 and cfg.rds.max_lag_seconds == 5
    assert cfg.force_failover is False and cfg.promote_replica is False


def test_overrides_are_typed_yaml_scalars() -> None:
    cfg = parsed("tokyo", "dns.ttl=120", "force_failover=true")
    assert cfg.dns.ttl == 120 and cfg.force_failover is True


BAD_CONFIGS: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    ("unknown key", ("dns_ttl=60",), (), "drstack:dns_ttl = 60 is invalid: unknown key"),
    (
        "unknown nested key",
        ("dns.health_check.intervall=10",),
        (),
        "drstack:dns.health_check.intervall",
    ),
    (
        "bad CIDR",
        ("vpc_cidr=10.1.0.0/33",),
        (),
        "drstack:vpc_cidr = '10.1.0.0/33' is invalid: expected an IPv4 CIDR",
    ),
    ("CIDR with host bits", ("vpc_cidr=10.1.2.3/16",), (), "drstack:vpc_cidr = '10.1.2.3/16'"),
    (
        "Seoul region for tokyo",
        ("aws:region=ap-northeast-2",),
        (),
        "a warm standby must run in another region than its primary (ap-northeast-2)",
    ),
    (
        "negative TTL",
        ("dns.ttl=-5",),
        (),
        "drstack:dns.ttl = -5 is invalid: expected an integer from 0 to 172800",
    ),
    (
        "unknown strategy",
        ("strategy=hot-standby",),
        (),
        "drstack:strategy = 'hot-standby' is invalid: expected one of pilot-light, warm-standby",
    ),
    ("missing primary_stack", (), ("drstack:primary_stack",), "drstack:primary_stack is missing"),
    (
        "health-check interval Route 53 refuses",
        ("dns.health_check.interval=15",),
        (),
        "drstack:dns.health_check.interval = 15 is invalid: expected one of 10, 30",
    ),
    (
        "failure threshold out of range",
        ("dns.health_check.failure_threshold=11",),
        (),
        "drstack:dns.health_check.failure_threshold = 11 is invalid: expected an integer from 1 to 10",
    ),
    (
        "health-check path longer than Route 53 accepts",
        ("dns.health_check.path=/" + "a" * 255,),
        (),
        "drstack:dns.health_check.path = '/aaa"
        + "a" * 252
        + "' is invalid: Route 53 accepts a health-check resource path of at most 255 "
        "characters, this one has 256 "
        "(https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html)",
    ),
    (
        "node sizes out of order",
        ("eks.desired_size=9",),
        (),
        "drstack:eks.desired_size = 9 is invalid: expected min_size (1) <= desired_size <= max_size (6)",
    ),
    (
        "toggle that is not a boolean",
        ("force_failover=yes please",),
        (),
        "drstack:force_failover = 'yes please' is invalid: expected true or false",
    ),
    (
        "pilot-light key on a warm standby",
        ("emergency=true",),
        (),
        "drstack:emergency = true is invalid: only valid for a DR stack with strategy pilot-light",
    ),
    (
        "promotion without forced DNS",
        ("promote_replica=true",),
        (),
        "promote_replica = true is invalid while force_failover is false",
    ),
    (
        "unknown AWS region",
        ("primary_region=ap-northeast-9",),
        (),
        "drstack:primary_region = 'ap-northeast-9' is invalid",
    ),
    (
        "bad bucket name",
        ("buckets.front=Portforge_Front",),
        (),
        "drstack:buckets.front = 'Portforge_Front' is invalid: an S3 bucket name",
    ),
    ("unknown EKS version", ("eks.version=1.12",), (), "drstack:eks.version"),
    (
        "sovereign data that does not exist",
        ("sovereign_data=[nope]",),
        (),
        "drstack:sovereign_data = 'nope' is invalid: not a configured bucket or table",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "drop", "message"),
    [case[1:] for case in BAD_CONFIGS],
    ids=[case[0] for case in BAD_CONFIGS],
)
def test_bad_config_names_key_value_and_allowed(
    overrides: tuple[str, ...], drop: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parsed("tokyo", *overrides, drop=drop)
    text = str(err.value)
    assert message in text
    assert "\n" not in text, "one line, no traceback"


def test_every_bad_config_has_its_own_message() -> None:
    messages = set()
    for _, overrides, drop, _ in BAD_CONFIGS:
        with pytest.raises(ConfigError) as err:
            parsed("tokyo", *overrides, drop=drop)
        messages.add(str(err.value))
    assert len(messages) == len(BAD_CONFIGS)


def test_missing_role_is_named() -> None:
    with pytest.raises(ConfigError, match="drstack:role is missing"):
        parsed("seoul", drop=("drstack:role",))


def test_dr_only_key_on_primary_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="drstack:force_failover = true is invalid: only valid for a DR stack"
    ):
        parsed("seoul", "force_failover=true")


def test_config_error_is_a_pulumi_run_error_so_the_engine_prints_no_traceback() -> None:
    import pulumi

    assert issubclass(ConfigError, pulumi.RunError)


def test_engine_config_encodes_objects_as_json_strings() -> None:
    flat, secrets = engine_config(
        {"drstack:dns": {"ttl": 60}, "drstack:role": "dr", "drstack:x": {"secure": "v1:abc"}}
    )
    assert json.loads(flat["drstack:dns"]) == {"ttl": 60}
    assert flat["drstack:role"] == "dr"
    assert secrets == ["drstack:x"]


def test_values_arrive_as_strings_like_the_engine_sends_them() -> None:
    raw: dict[str, Any] = {
        "aws:region": "ap-northeast-2",
        "drstack:role": "primary",
        "drstack:rds": '{"backup_retention_days": "seven"}',
    }
    with pytest.raises(ConfigError, match=r"drstack:rds.backup_retention_days = 'seven'"):
        parse_config("seoul", raw)


def test_health_check_path_of_exactly_255_characters_is_accepted() -> None:
    path = "/" + "a" * 254
    assert parsed("tokyo", f"dns.health_check.path={path}").dns.health_check.path == path
