"""Config values the clouds refuse only at `up`: each is refused by parse_config with one
line naming the key; every shipped stack (and values that are merely new) is accepted."""

from __future__ import annotations

import gc
import json
from functools import cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from typer.testing import CliRunner

from drctl.cli import app
from drctl.synth import apply_overrides, engine_config, load_stack_file
from stacks.config import ConfigError, StackConfig, parse_config
from stacks.rules import dated


def _openssh(public_key: object) -> str:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


@cache
def keys() -> dict[str, str]:
    """Real public keys (the private halves are dropped at once)."""
    ed = _openssh(ed25519.Ed25519PrivateKey.generate().public_key())
    rsa_2048 = _openssh(rsa.generate_private_key(65537, 2048).public_key())
    rsa_1024 = _openssh(rsa.generate_private_key(65537, 1024).public_key())
    ecdsa = _openssh(ec.generate_private_key(ec.SECP256R1()).public_key())
    ed_blob = ed.split()[1]
    rsa_blob = rsa_2048.split()[1]
    return {
        "ed25519": f"{ed} operator@drstack",
        "rsa2048": f"{rsa_2048} operator@drstack",
        "rsa1024": rsa_1024,
        "ecdsa": ecdsa,
        "type-mismatch": f"ssh-rsa {ed_blob}",
        "type-mismatch-2": f"ssh-ed25519 {rsa_blob}",
        "not-base64": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5!!!!",
        "truncated": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKey operator@drstack",
        "certificate": f"ssh-ed25519-cert-v01@openssh.com {ed_blob}",
        "no-body": "ssh-ed25519",
    }


def parsed(stack: str, *overrides: str, as_stack: str | None = None) -> StackConfig:
    raw = apply_overrides(load_stack_file(stack), overrides)
    flat, secret_keys = engine_config(raw)
    return parse_config(as_stack or stack, flat, secret_keys)


def _tags(n: int) -> str:
    return "tags=" + json.dumps({f"Team{i}": "x" for i in range(n)})


LONG_ZONE_LABEL = "z" * 64
# 4 labels of 62 + "org" = 251 characters: fits alone, not with "api." in front.
LONG_ZONE = ".".join(["a" * 62] * 4)[:249] + ".org"
# fqdn = "petclinic." + zone = 253: fits, but "asverify." + fqdn does not.
ZONE_FOR_ASVERIFY = ".".join(["b" * 60] * 4)[: 253 - len("petclinic.") - 4] + ".org"

# (case id, stack, overrides, the key the message must name, a fragment of the reason)
BAD: list[tuple[str, str, tuple[str, ...], str, str]] = [
    # names and lengths, including derived names
    ("replica id over 63", "tokyo", ("name_prefix=" + "p" * 49,), "name_prefix", "-dr-rds-replica"),
    ("replica id with --", "tokyo", ("name_prefix=pf--x",), "name_prefix", "consecutive hyphens"),
    (
        "replica id digit first",
        "tokyo",
        ("name_prefix=1pf",),
        "name_prefix",
        "starts with a letter",
    ),
    ("DR bucket copy over 63", "tokyo", ("buckets.front=" + "f" * 62,), "buckets.front", "-dr'"),
    ("bucket too short", "seoul", ("buckets.front=ab",), "buckets.front", "S3 bucket"),
    ("bucket uppercase", "seoul", ("buckets.front=Front",), "buckets.front", "S3 bucket"),
    ("bucket as IP", "seoul", ("buckets.front=192.168.1.10",), "buckets.front", "IP address"),
    (
        "bucket with ..",
        "seoul",
        ("buckets.front=port..front",),
        "buckets.front",
        "adjacent periods",
    ),
    ("bucket xn-- prefix", "seoul", ("buckets.front=xn--front",), "buckets.front", "'xn--'"),
    (
        "bucket sthree- prefix",
        "seoul",
        ("buckets.front=sthree-front",),
        "buckets.front",
        "'sthree-'",
    ),
    ("bucket -s3alias", "seoul", ("buckets.front=front-s3alias",), "buckets.front", "-s3alias"),
    ("bucket --ol-s3", "seoul", ("buckets.front=front--ol-s3",), "buckets.front", "--ol-s3"),
    ("bucket ends with -", "seoul", ("buckets.front=front-",), "buckets.front", "S3 bucket"),
    (
        "rds id with --",
        "seoul",
        ("rds.identifier=portforge--rds",),
        "rds.identifier",
        "consecutive",
    ),
    (
        "rds id trailing -",
        "seoul",
        ("rds.identifier=portforge-rds-",),
        "rds.identifier",
        "end with a hyphen",
    ),
    ("rds id digit first", "seoul", ("rds.identifier=1rds",), "rds.identifier", ""),
    (
        "ECR uppercase",
        "seoul",
        ('ecr_repositories=["Auth-Service"]',),
        "ecr_repositories",
        "lowercase",
    ),
    ("service name 64", "seoul", ("services={" + "s" * 64 + ": 1}",), "services.", "63"),
    ("lambda from stack name", "tokyo", (), "stack name", "Lambda function name"),
    (
        "Azure server name 64",
        "azure-pilot",
        ("name_prefix=" + "p" * 48,),
        "name_prefix",
        "MySQL server name",
    ),
    (
        "Azure DNS label digit",
        "azure-pilot",
        ("name_prefix=1pf",),
        "name_prefix",
        "starts with a letter",
    ),
    # DNS labels and names
    ("zone label 64", "tokyo", (f"dns.zone={LONG_ZONE_LABEL}.org",), "dns.zone", "63"),
    ("fqdn over 253", "tokyo", (f"dns.zone={LONG_ZONE}",), "dns.record", "253"),
    (
        "asverify over 253",
        "azure-pilot",
        (f"dns.zone={ZONE_FOR_ASVERIFY}",),
        "dns.record",
        "asverify",
    ),
    # MySQL / RDS reserved names
    ("db name reserved", "seoul", ("rds.db_name=select",), "rds.db_name", "reserved"),
    ("db name 65", "seoul", ("rds.db_name=" + "d" * 65,), "rds.db_name", ""),
    (
        "master user rdsadmin",
        "seoul",
        ("rds.master_username=rdsadmin",),
        "rds.master_username",
        "reserved",
    ),
    (
        "master user reserved word",
        "seoul",
        ("rds.master_username=table",),
        "rds.master_username",
        "reserved",
    ),
    ("master user 17", "seoul", ("rds.master_username=" + "u" * 17,), "rds.master_username", ""),
    # Azure admin names
    (
        "admin john",
        "azure-pilot",
        ("azure.admin_username=john",),
        "azure.admin_username",
        "VM admin",
    ),
    (
        "admin administrator",
        "azure-pilot",
        ("azure.admin_username=administrator",),
        "azure.admin_username",
        "",
    ),
    (
        "admin daemon",
        "azure-pilot",
        ("azure.admin_username=daemon",),
        "azure.admin_username",
        "system account",
    ),
    (
        "admin public",
        "azure-pilot",
        ("azure.admin_username=public",),
        "azure.admin_username",
        "MySQL",
    ),
    # tags
    ("aws: tag key", "seoul", ("tags={'aws:owner': ops}",), "tags.aws:owner", "aws:"),
    ("tag key 129", "seoul", ("tags={" + "k" * 129 + ": v}",), "tags.", "128"),
    ("tag value 257", "seoul", ("tags={Owner: " + "v" * 257 + "}",), "tags.Owner", "256"),
    ("tag char", "seoul", ("tags={Owner: 'a;b'}",), "tags.Owner", "letters, digits"),
    (
        "Azure tag name /",
        "azure-pilot",
        ("tags={team/owner: sre}",),
        "tags.team/owner",
        "cannot contain",
    ),
    ("too many tags", "seoul", (_tags(47),), "tags", "50 tags"),
    # dated lists: versions, classes, types
    ("EKS 1.31", "seoul", ("eks.version='1.31'",), "eks.version", "standard support"),
    ("EKS unknown", "tokyo", ("eks.version='1.40'",), "eks.version", "allow_unlisted"),
    (
        "EC2 type",
        "seoul",
        ("eks.instance_type=t3.mediumm",),
        "eks.instance_type",
        "EC2 instance types",
    ),
    (
        "RDS class",
        "seoul",
        ("rds.instance_class=db.t3.mega",),
        "rds.instance_class",
        "DB instance classes",
    ),
    (
        "RDS class size",
        "seoul",
        ("rds.instance_class=db.m7g.micro",),
        "rds.instance_class",
        "allow_unlisted",
    ),
    ("EKS version unquoted", "seoul", ("eks.version=1.30",), "eks.version", "quoted"),
    (
        "RDS version",
        "seoul",
        ("rds.engine_version=8.0.99",),
        "rds.engine_version",
        "engine versions",
    ),
    ("RDS 5.7", "tokyo", ("rds.engine_version='5.7'",), "rds.engine_version", "engine versions"),
    ("stale allow_unlisted", "seoul", ('allow_unlisted=["1.35"]',), "allow_unlisted", "remove it"),
    # images
    (
        "image uppercase",
        "seoul",
        ("app.image=public.ecr.aws/drstack/App:1.0",),
        "app.image",
        "pinned image",
    ),
    ("image double colon", "seoul", ("app.image=app::1",), "app.image", "pinned image"),
    (
        "image bad digest",
        "azure-pilot",
        ("backup.image=app@sha256:xyz",),
        "backup.image",
        "pinned image",
    ),
    # certificate region
    (
        "ACM cert elsewhere",
        "seoul",
        ("app.certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/abc",),
        "app.certificate_arn",
        "ap-northeast-2",
    ),
]

SSH_BAD = [
    ("ecdsa", "accept only ssh-rsa and ssh-ed25519"),
    ("rsa1024", "at least 2048 bits"),
    ("type-mismatch", "not a valid ssh-rsa public key"),
    ("type-mismatch-2", "not a valid ssh-ed25519 public key"),
    ("not-base64", "base64"),
    ("truncated", "not a valid ssh-ed25519"),
    ("certificate", "accept only"),
    ("no-body", "one line"),
]


def refusal(stack: str, *overrides: str, as_stack: str | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parsed(stack, *overrides, as_stack=as_stack)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("case", "stack", "overrides", "key", "reason"), BAD, ids=[b[0] for b in BAD]
)
def test_a_value_the_cloud_refuses_is_refused_naming_its_key(
    case: str, stack: str, overrides: tuple[str, ...], key: str, reason: str
) -> None:
    as_stack = "tokyo.drill" if case == "lambda from stack name" else None
    message = refusal(stack, *overrides, as_stack=as_stack)
    prefix = key if key == "stack name" else f"drstack:{key}"
    assert message.startswith(prefix), message
    assert "is invalid" in message and reason in message, message


@pytest.mark.parametrize(("which", "reason"), SSH_BAD, ids=[s[0] for s in SSH_BAD])
def test_a_pilot_light_ssh_key_azure_refuses_is_refused(which: str, reason: str) -> None:
    message = refusal("azure-pilot", f"azure.ssh_public_key={keys()[which]}")
    assert message.startswith("drstack:azure.ssh_public_key = "), message
    assert reason in message, message


def test_at_least_44_bad_values_each_refused() -> None:
    assert len(BAD) + len(SSH_BAD) >= 44


@pytest.mark.parametrize("stack", ["seoul", "tokyo", "azure-pilot"])
def test_every_shipped_stack_is_accepted(stack: str) -> None:
    assert parsed(stack).stack == stack


@pytest.mark.parametrize("which", ["ed25519", "rsa2048"])
def test_real_azure_keys_are_accepted(which: str) -> None:
    cfg = parsed("azure-pilot", f"azure.ssh_public_key={keys()[which]}")
    assert cfg.azure.ssh_public_key == keys()[which]


@pytest.mark.parametrize(
    "overrides",
    [
        ("app.image=registry.example.com:5000/team/app:1.4.2",),
        ("app.image=public.ecr.aws/drstack/app@sha256:" + "a" * 64,),
        ("rds.engine_version='8.4'", "rds.instance_class=db.r7g.large"),
        ("eks.version='1.34'", "eks.instance_type=m7i.xlarge"),
        ("buckets.front=" + "f" * 60,),  # its DR copy has exactly 63 characters
        ("tags={Owner: 'sre team@drstack.example', team/owner: sre}",),
        (_tags(42),),
    ],
)
def test_good_values_near_the_limits_are_accepted(overrides: tuple[str, ...]) -> None:
    parsed("tokyo", *overrides)


def test_a_value_newer_than_the_dated_list_is_accepted_when_named() -> None:
    new = "1.36"
    assert new not in dated.EKS_STANDARD_SUPPORT.values
    assert "allow_unlisted" in refusal("seoul", f"eks.version='{new}'")
    cfg = parsed("seoul", f"eks.version='{new}'", f'allow_unlisted=["{new}"]')
    assert cfg.eks.version == new and cfg.allow_unlisted == (new,)


def test_allow_unlisted_does_not_lift_a_hard_rule() -> None:
    message = refusal("seoul", "rds.master_username=rdsadmin", 'allow_unlisted=["rdsadmin"]')
    assert message.startswith("drstack:rds.master_username")


def test_dated_lists_carry_their_date_and_source() -> None:
    for known in (
        dated.EKS_STANDARD_SUPPORT,
        dated.RDS_MYSQL_VERSIONS,
        dated.RDS_MYSQL_INSTANCE_CLASSES,
        dated.ec2_instance_types(),
    ):
        assert known.as_of and known.source and known.values
        assert known.as_of in known.explain("x") and known.source in known.explain("x")


def test_derived_names_match_what_the_stacks_declare() -> None:
    """The suffixes validation assumes are the ones the DR stack really derives."""
    from drctl.synth import synthesize
    from stacks.validation import DR_BUCKET_SUFFIX, RDS_REPLICA_SUFFIX

    tokyo = synthesize("tokyo")
    inputs = [r.inputs for r in tokyo.resources]
    replica_ids = {i.get("identifier") for i in inputs}
    bucket_names = {i.get("bucket") for i in inputs}
    assert f"{tokyo.config.name_prefix}{RDS_REPLICA_SUFFIX}" in replica_ids
    for bucket in tokyo.config.buckets.values():
        assert f"{bucket}{DR_BUCKET_SUFFIX}" in bucket_names
    assert "tokyo-auto-failover" in {i.get("name") for i in inputs}


# --------------------------------------------------------------------------- via drctl


@pytest.mark.parametrize(
    ("stack", "setting", "key"),
    [
        ("tokyo", "name_prefix=" + "p" * 49, "drstack:name_prefix"),
        ("seoul", "eks.version='1.31'", "drstack:eks.version"),
        ("seoul", "buckets.log=xn--log", "drstack:buckets.log"),
        ("azure-pilot", "azure.admin_username=john", "drstack:azure.admin_username"),
    ],
)
def test_drctl_preview_refuses_in_one_line_with_exit_2(stack: str, setting: str, key: str) -> None:
    result = CliRunner().invoke(app, ["preview", "--stack", stack, "--set", setting])
    assert result.exit_code == 2, result.output
    assert key in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_drctl_preview_refuses_a_primary_region_the_primary_does_not_run_in() -> None:
    # Earlier syntheses' abandoned coroutines warn when collected; collect them now so the
    # warning does not land in this command's captured output.
    gc.collect()
    result = CliRunner().invoke(
        app, ["preview", "--stack", "tokyo", "--set", "primary_region=us-west-2"]
    )
    assert result.exit_code == 2, result.output
    assert "drstack:primary_region = 'us-west-2' is invalid" in result.output
    assert "ap-northeast-2" in result.output
    assert len(result.output.strip().splitlines()) == 1
