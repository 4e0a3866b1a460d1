"""Issue 9 item 9: after a live failover/failback, `drctl iac-sync` makes the DR stack's
IaC match reality through the Pulumi Automation API (a recorded fake `pulumi` on PATH),
or prints the exact commands when the CLI is missing."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drctl.cli import app
from drctl.synth import PROJECT_DIR

FAKE = Path(__file__).parent / "fake_pulumi" / "pulumi.py"
REPLICA_URN = (
    "urn:pulumi:tokyo::drstack::drstack:rds_replica:RdsReplica"
    "$aws:rds/instance:Instance::dr-db-instance"
)
SWITCH_URN = (
    "urn:pulumi:tokyo::drstack::drstack:route53_failover:Route53Failover"
    "$aws:route53/healthCheck:HealthCheck::dns-failover-switch"
)


def flag_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`pulumi` on PATH = the recorder, run by this interpreter; yields its argv log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\n" + FAKE.read_text())
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "argv.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    yield log


def calls(log: Path) -> list[list[str]]:
    recorded = [json.loads(line) for line in log.read_text().splitlines()]
    assert all("--non-interactive" in argv for argv in recorded[1:])  # never prompts
    return [[arg for arg in argv if arg != "--non-interactive"] for argv in recorded]


def without_stack(argv: list[str]) -> list[str]:
    """Drop the `--stack NAME` the Automation API appends (checked separately)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--stack":
            skip = True
            continue
        out.append(arg)
    return out


def test_after_failover_sets_toggles_then_up_with_refresh(fake_pulumi: Path) -> None:
    result = CliRunner().invoke(app, ["iac-sync", "--after", "failover", "--yes", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["mode"] == "automation-api" and report["result"] == "succeeded"
    argv = calls(fake_pulumi)
    assert argv[0] == ["version"]
    acting = [a for a in argv if a[0] in ("stack", "config", "up") and a[:2] != ["stack", "output"]]
    assert [without_stack(a) for a in acting[:3]] == [
        ["stack", "select"],
        ["config", "set", "drstack:force_failover", "--plaintext", "--", "true"],
        ["config", "set", "drstack:promote_replica", "--plaintext", "--", "true"],
    ]
    up = next(a for a in argv if a[0] == "up")
    assert "--refresh" in up and "--replace" not in up
    # Region dark: only what the toggles change (both in Tokyo/global) is refreshed and
    # updated; nothing of the stack that lives in Seoul is read.
    assert sorted(flag_values(up, "--target")) == sorted([REPLICA_URN, SWITCH_URN])
    assert up[up.index("--stack") + 1] == "tokyo"
    assert all(a[a.index("--stack") + 1] == "tokyo" for a in acting if "--stack" in a)


def test_after_failback_replaces_the_promoted_replica(fake_pulumi: Path) -> None:
    result = CliRunner().invoke(app, ["iac-sync", "--after", "failback", "--yes", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["replace"] == [REPLICA_URN]
    argv = calls(fake_pulumi)
    sets = [without_stack(a)[2] for a in argv if a[:2] == ["config", "set"]]
    # promote_replica goes off before force_failover (the config refuses the other order).
    assert sets == ["drstack:promote_replica", "drstack:force_failover"]
    up = next(a for a in argv if a[0] == "up")
    assert "--refresh" in up
    assert flag_values(up, "--replace") == [REPLICA_URN]
    assert sorted(flag_values(up, "--target")) == sorted([REPLICA_URN, SWITCH_URN])
    assert any("deletion protection" in note for note in report["notes"])


def test_pulumi_failure_is_one_clear_line(
    fake_pulumi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "up")
    result = CliRunner().invoke(app, ["iac-sync", "--after", "failover", "--yes"])
    assert result.exit_code == 1
    assert "pulumi failed on stack tokyo" in result.output
    assert "refused by the provider" in result.output
    assert "Traceback" not in result.output


def test_without_the_cli_prints_the_exact_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    result = CliRunner().invoke(app, ["iac-sync", "--after", "failback", "--yes"])
    assert result.exit_code == 3, result.output
    text = result.output
    assert "Pulumi CLI not found on PATH: nothing changed" in text
    assert "pulumi config set drstack:promote_replica false -s tokyo" in text
    assert "pulumi config set drstack:force_failover false -s tokyo" in text
    up = f"pulumi up --refresh -s tokyo --target '{REPLICA_URN}' --target '{SWITCH_URN}'"
    assert f"{up} --replace '{REPLICA_URN}'" in " ".join(text.split())


def test_dry_run_prints_and_calls_nothing(fake_pulumi: Path) -> None:
    result = CliRunner().invoke(app, ["iac-sync", "--after", "failover", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run, nothing changed" in result.output
    assert "pulumi up --refresh -s tokyo" in result.output
    assert not fake_pulumi.exists()


def test_yes_is_required_and_bad_input_is_named(fake_pulumi: Path) -> None:
    needs_yes = CliRunner().invoke(app, ["iac-sync", "--after", "failover"])
    assert needs_yes.exit_code == 2 and "pass --yes" in needs_yes.output
    bad = CliRunner().invoke(app, ["iac-sync", "--after", "sideways", "--yes"])
    assert bad.exit_code == 2 and "--after 'sideways' is invalid" in bad.output
    unknown = CliRunner().invoke(
        app, ["iac-sync", "--after", "failover", "--stack", "osaka", "--yes"]
    )
    assert unknown.exit_code == 2 and "stack 'osaka' is unknown" in unknown.output
    assert not fake_pulumi.exists()


def test_pilot_light_failback_has_no_replica_to_replace() -> None:
    from drctl.iac_sync import build_plan

    from ..pilot_light.conftest import PREPARED, synth

    plan = build_plan("azure-pilot", "failback", overrides=PREPARED, project_dir=PROJECT_DIR)
    assert plan.replace == []
    # The emergency site is what the toggles remove: all of it is targeted; the
    # always-on part (the backup account and container) is not. (The Seoul-side backup
    # job lives in the azure-pilot-backup stack, which a failback does not touch.)
    assert any("azure-native:dbformysql:Server" in urn for urn in plan.targets)
    always_on = ("azure-native:storage:StorageAccount", "azure-native:storage:BlobContainer")
    storage = {r.urn for r in synth(*PREPARED).resources if r.type in always_on}
    assert storage and not storage & set(plan.targets)
    assert [key for key, _ in plan.config] == [
        "drstack:enable_petclinic",
        "drstack:force_failover",
        "drstack:emergency",
    ]


def test_missing_emergency_config_is_named(fake_pulumi: Path) -> None:
    result = CliRunner().invoke(
        app, ["iac-sync", "--after", "failover", "--stack", "azure-pilot", "--yes"]
    )
    assert result.exit_code == 2
    assert "iac-sync azure-pilot: drstack:mysql_admin_password is missing" in " ".join(
        result.output.split()
    )
    assert not fake_pulumi.exists()


def test_aurora_failback_replaces_nothing() -> None:
    # After a switchover back, the Tokyo cluster is a secondary of the global database
    # again: nothing to delete and recreate, unlike a promoted RDS instance.
    from drctl.iac_sync import build_plan

    plan = build_plan("tokyo-aurora", "failback", project_dir=PROJECT_DIR)
    assert plan.replace == []
    assert any("aws:rds/clusterInstance:ClusterInstance" in urn for urn in plan.targets)
    assert any("SwitchoverGlobalCluster" in note for note in plan.notes)


PRIMARY_INSTANCE_URN = (
    "urn:pulumi:seoul::drstack::drstack:rds_replica:RdsReplica"
    "$aws:rds/instance:Instance::primary-db-instance"
)


def test_after_failback_the_primary_stack_adopts_the_swapped_instance() -> None:
    """The failback's endpoint swap leaves Seoul's identifier on a NEW instance. Since
    terraform-provider-aws v5 the state's id is the DBI resource id (#31232), so the
    seoul stack still tracks the old, renamed-aside instance: forget it, import the new."""
    from drctl.iac_sync import build_plan

    plan = build_plan("tokyo", "failback", project_dir=PROJECT_DIR)
    commands = plan.primary_commands
    assert commands[0] == f"pulumi state delete '{PRIMARY_INSTANCE_URN}' -s seoul --yes"
    assert commands[1].startswith("pulumi import aws:rds/instance:Instance primary-db-instance ")
    assert (
        " portforge-rds " in commands[1] and "--parent primary-db=urn:pulumi:seoul::" in commands[1]
    )
    assert commands[2] == f"pulumi up --refresh -s seoul --target '{PRIMARY_INSTANCE_URN}'"
    assert plan.as_dict()["primary_stack_commands"] == commands
    assert any("-retired-" in note for note in plan.notes)
