"""`drctl plan`: the document's steps are the engine's step lists, its contacts the config's."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from drctl.cli import app
from drctl.failover.steps import failback_steps, failover_steps
from drctl.plan import render_plan
from observability.stack_config import load_stack_config


def _numbered_steps(section: str) -> list[str]:
    return re.findall(r"^\d+\. `([a-z_]+)`", section, flags=re.M)


def _section(text: str, heading_contains: str) -> str:
    parts = re.split(r"^### ", text, flags=re.M)
    return next(p for p in parts if heading_contains in p.splitlines()[0])


def test_tokyo_plan_steps_are_the_engines() -> None:
    text = render_plan(load_stack_config("tokyo"))
    failover = [s.name for s in failover_steps()]
    assert _numbered_steps(_section(text, "`region-failure`")) == failover
    assert _numbered_steps(_section(text, "`db-failure`")) == failover
    assert _numbered_steps(_section(text, "`failback`")) == [s.name for s in failback_steps()]
    assert _numbered_steps(_section(text, "`app-failure`")) == []
    checklist = _section(text, "Failover test")
    assert re.findall(r"^- \[ \] `([a-z_]+)`", checklist, flags=re.M) == failover


def test_plan_carries_objectives_roles_contacts_and_schedule() -> None:
    cfg = load_stack_config("azure-pilot")
    text = render_plan(cfg)
    assert f"RTO objective: {cfg.objectives.rto_minutes:g} min" in text
    assert "worst case RTO:" in text and "DrstackBackupTooOld" in text
    for contact in cfg.contacts:
        assert f"| {contact.role} | {contact.owner} |" in text and contact.contact in text
    for cadence in ("monthly", "quarterly", "yearly"):
        assert cadence in text


def test_plan_command_writes_markdown_and_refuses_a_primary(tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "plan.md"
    result = runner.invoke(app, ["plan", "--stack", "tokyo", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# DR plan — `tokyo`")
    refused = runner.invoke(app, ["plan", "--stack", "seoul"])
    assert refused.exit_code == 2 and "primary stack has no DR plan" in refused.output


@pytest.mark.parametrize("bad", ['[{"role": "QA"}]', '"nobody"'])
def test_contacts_config_errors_name_the_key(bad: str) -> None:
    import json

    from stacks.config import ConfigError, parse_config
    from tests.observability.test_rules import _raw

    raw = _raw("tokyo")
    raw["drstack:contacts"] = json.loads(bad)
    with pytest.raises(ConfigError, match="contacts"):
        parse_config("tokyo", raw)


def test_aurora_plan_says_what_the_database_steps_do_there() -> None:
    text = render_plan(load_stack_config("tokyo-aurora"))
    assert "FailoverGlobalCluster (AllowDataLoss)" in text
    assert "switches the writer back with SwitchoverGlobalCluster" in text
    assert "FailoverGlobalCluster" not in render_plan(load_stack_config("tokyo"))
