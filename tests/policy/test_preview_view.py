"""`drctl preview` reads like `pulumi preview`, and `--diff` says what a toggle changes."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from drctl import cost as cost_command
from drctl import preview as preview_command
from drctl.preview_diff import changed_paths, diff_syntheses, key_paths
from drctl.preview_view import short_pair, short_type, tree_lines
from tests.pilot_light.conftest import PASSWORD, PREPARED
from tests.policy.conftest import synth

WIDE = {"COLUMNS": "100"}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    preview_command.register(app)
    cost_command.register(app)  # two commands, so Typer keeps the command name
    return app


def test_default_view_is_one_line_per_resource_in_a_tree(app: typer.Typer) -> None:
    syn = synth("tokyo")
    out = CliRunner().invoke(app, ["preview", "--stack", "tokyo"], env=WIDE).output
    tree = [line for line in out.splitlines() if line.startswith((" +  ", " =  "))]
    assert len(tree) == len(syn.resources) + 1  # and the stack itself, at the root
    eks = syn.one("drstack:eks_region:EksRegion")
    child = next(r for r in syn.resources if r.parent == eks.urn)
    # The child is drawn one level below its component, on the line after its turn.
    assert any(
        f"│  ├─ {short_type(child.type)}  {child.name}" in line
        or f"   ├─ {short_type(child.type)}  {child.name}" in line
        or f"└─ {short_type(child.type)}  {child.name}" in line
        for line in tree
    )
    assert "Resources: + " in out and "ap-northeast-1" in out


def test_default_view_fits_two_screens_and_prints_no_raw_json(app: typer.Typer) -> None:
    out = CliRunner().invoke(app, ["preview", "--stack", "tokyo"], env=WIDE).output
    lines = out.splitlines()
    assert len(lines) <= len(synth("tokyo").resources) + 60
    assert not any('{"' in line for line in lines)


def test_secret_arns_are_printed_verbatim_not_as_emoji(app: typer.Typer) -> None:
    out = CliRunner().invoke(app, ["preview", "--stack", "seoul", "--details"], env=WIDE).output
    assert ":secret:" in out
    assert "㊙" not in out


def test_numeric_outputs_keep_their_types(app: typer.Typer) -> None:
    # Workloads are declared once their image is pinned (README "Images").
    pinned = ["--set", "image_tags.auth-service=1.4.2"]
    tokyo = ["preview", "--stack", "tokyo", *pinned]
    data = json.loads(CliRunner().invoke(app, [*tokyo, "--json"]).stdout)
    sizes = data["outputs"]["standby_deployments"]
    assert sizes and all(type(n) is int for n in sizes.values()), sizes
    out = CliRunner().invoke(app, tokyo, env=WIDE).output
    line = next(line for line in out.splitlines() if "standby_deployments" in line)
    assert "auth-deployment=1" in line and ".0" not in line


def test_details_show_inputs_as_key_paths(app: typer.Typer) -> None:
    out = CliRunner().invoke(app, ["preview", "--stack", "tokyo", "--details"], env=WIDE).output
    assert "tags.DrRole = " in out


def test_key_paths_and_changed_paths() -> None:
    inputs = {"tags": {"A": "1"}, "ingress": [{"fromPort": 80}], "empty": []}
    assert dict(key_paths(inputs)) == {"tags.A": "1", "ingress[0].fromPort": 80, "empty": []}
    changes = changed_paths({"inverted": False, "x": 1}, {"inverted": True, "x": 1, "y": 2})
    assert [(c.path, c.old, c.new) for c in changes] == [("inverted", False, True), ("y", None, 2)]


def test_force_failover_diff_only_inverts_the_switch() -> None:
    diff = diff_syntheses(
        synth("tokyo"), synth("tokyo", "force_failover=true"), ("force_failover=true",)
    )
    assert [(r.op, r.type) for r in diff.resources] == [
        ("update", "aws:route53/healthCheck:HealthCheck")
    ]
    (change,) = diff.resources[0].inputs
    assert (change.path, change.old, change.new) == ("invertHealthcheck", False, True)


def test_emergency_diff_creates_the_recovery_site() -> None:
    base = (*PREPARED, "force_failover=true")
    diff = diff_syntheses(
        synth("azure-pilot", *base),
        synth("azure-pilot", *base, "emergency=true"),
        ("emergency=true",),
    )
    created = {r.type for r in diff.resources if r.op == "create"}
    assert "azure-native:dbformysql:Server" in created
    assert diff.count("delete") == 0


def test_diff_command_prints_only_changes_and_carries_json(app: typer.Typer) -> None:
    args = ["preview", "--stack", "tokyo", "--set", "force_failover=true", "--diff"]
    out = CliRunner().invoke(app, args, env=WIDE).output
    assert " ~  aws:route53:HealthCheck" in out
    assert "invertHealthcheck: false → true" in out
    assert "Resources: + 0 to create, ~ 1 to update, - 0 to delete" in out
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert data["summary"] == {"create": 0, "update": 1, "delete": 0}
    assert data["resources"][0]["changes"] == [
        {"path": "invertHealthcheck", "old": False, "new": True}
    ]


def test_tree_lines_put_orphans_at_the_root() -> None:
    syn = synth("seoul")
    drawn = [record.urn for _, record in tree_lines(syn.resources)]
    assert sorted(drawn) == sorted(r.urn for r in syn.resources)


def test_diff_against_the_previous_phase(app: typer.Typer) -> None:
    base = [arg for value in (*PREPARED, "force_failover=true") for arg in ("--base-set", value)]
    args = [
        "preview",
        "--stack",
        "azure-pilot",
        *base,
        "--set",
        "emergency=true",
        "--diff",
        "--json",
    ]
    data = json.loads(CliRunner().invoke(app, args).stdout)
    assert data["summary"]["create"] > 0 and data["summary"]["delete"] == 0
    assert data["overrides"] == ["emergency=true"]


def test_diff_names_its_base_and_never_prints_a_secret(app: typer.Typer) -> None:
    base = [arg for value in (*PREPARED, "force_failover=true") for arg in ("--base-set", value)]
    args = ["preview", "--stack", "azure-pilot", *base, "--set", "emergency=true", "--diff"]
    out = CliRunner().invoke(app, args, env=WIDE).output
    assert "against the stack as shipped with mysql_admin_password=[secret]" in out
    assert "force_failover=true" in out
    assert PASSWORD not in out


def test_long_values_keep_their_differing_tails() -> None:
    prefix = "/subscriptions/0000/resourceGroups/portforge-dr/providers/Microsoft.Network/"
    old, new = short_pair(prefix + "pools/maintenance", prefix + "pools/petclinic-web")
    assert old.endswith("pools/maintenance") and new.endswith("pools/petclinic-web")
    assert old.startswith("…")
