"""The shipped rules: current with the stack config, valid for promtool, unit-tested."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from observability.rules import PRIMARY_DOWN, build_rules, render_rules, rules_path
from observability.stack_config import REPO_ROOT, RULE_STACKS, load_stack_config
from stacks.config import parse_config
from tests.observability.conftest import require_binary

OBS = REPO_ROOT / "observability"


@pytest.mark.parametrize("stack", RULE_STACKS)
def test_checked_in_rules_are_current(stack: str) -> None:
    expected = render_rules(load_stack_config(stack))
    assert rules_path(stack).read_text(encoding="utf-8") == expected, (
        f"{rules_path(stack)} is stale: run `python -m observability.rules`"
    )


def test_promtool_checks_and_unit_tests_pass() -> None:
    promtool = require_binary("promtool")
    files = sorted(str(p) for p in (OBS / "rules").glob("*.rules.yml"))
    assert len(files) == len(RULE_STACKS)
    check = subprocess.run([promtool, "check", "rules", *files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = sorted(str(p) for p in (OBS / "rule_tests").glob("*.test.yml"))
    assert len(tests) == len(RULE_STACKS)
    unit = subprocess.run(
        [promtool, "test", "rules", *tests], capture_output=True, text=True, cwd=OBS
    )
    assert unit.returncode == 0, unit.stdout + unit.stderr


def _raw(stack: str) -> dict:
    return yaml.safe_load(Path(REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def _alert(rules: dict, name: str) -> dict:
    return next(r for r in rules["groups"][0]["rules"] if r["alert"] == name)


def test_primary_down_waits_for_the_budget_detection_term() -> None:
    raw = _raw("tokyo")
    raw["drstack:dns"]["health_check"]["interval"] = 30
    raw["drstack:dns"]["health_check"]["failure_threshold"] = 4
    assert _alert(build_rules(parse_config("tokyo", raw)), PRIMARY_DOWN)["for"] == "120s"
    raw["drstack:budget"] = {"dns_detection": 45}  # a measured override wins, as in the budget
    assert _alert(build_rules(parse_config("tokyo", raw)), PRIMARY_DOWN)["for"] == "45s"


def test_lag_threshold_follows_max_lag_and_backup_rule_only_for_pilot_light() -> None:
    raw = _raw("tokyo")
    raw["drstack:rds"]["max_lag_seconds"] = 42
    rules = build_rules(parse_config("tokyo", raw))
    assert "> 42" in _alert(rules, "DrstackReplicaLagHigh")["expr"]
    names = {r["alert"] for r in rules["groups"][0]["rules"]}
    assert "DrstackBackupTooOld" not in names
    pilot = build_rules(load_stack_config("azure-pilot"))
    assert "DrstackBackupTooOld" in {r["alert"] for r in pilot["groups"][0]["rules"]}


@pytest.mark.parametrize("stack", RULE_STACKS)
def test_every_rule_has_severity_labels_and_a_runbook_in_the_readme(stack: str) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8").lower()
    for rule in build_rules(load_stack_config(stack))["groups"][0]["rules"]:
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["labels"]["stack"] == stack
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        assert f"#### {anchor}" in readme, f"README has no section for {rule['alert']}"


def test_shipped_prometheus_alertmanager_and_blackbox_configs_are_valid() -> None:
    checks = [
        [require_binary("promtool"), "check", "config", str(OBS / "prometheus.yml")],
        [require_binary("amtool"), "check-config", str(OBS / "alertmanager.yml")],
        [
            require_binary("prometheus-blackbox-exporter"),
            "--config.check",
            f"--config.file={OBS / 'blackbox.yml'}",
        ],
    ]
    for argv in checks:
        result = subprocess.run(argv, capture_output=True, text=True, cwd=OBS)
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
