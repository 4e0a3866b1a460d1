"""`--set` values that are not valid YAML scalars stop with one line naming the key."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from drctl.cli import app
from drctl.synth import apply_overrides
from stacks.config import ConfigError

BAD_VALUES = [
    ("dns.ttl=[60", "dns.ttl"),  # YAML syntax error: unclosed flow sequence
    ("force_failover=!!python/object/apply:os.system ['true']", "force_failover"),
    ("services={a: 1", "services"),
    ("dns.zone=@example", "dns.zone"),  # '@' cannot start a plain scalar
]


@pytest.mark.parametrize(("item", "key"), BAD_VALUES)
def test_a_bad_yaml_value_is_a_config_error_naming_the_key(item: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides({}, [item])
    message = str(info.value)
    assert f"--set {key}:" in message and "\n" not in message


def test_a_python_tag_is_refused_not_constructed() -> None:
    with pytest.raises(ConfigError, match=r"python/object/apply"):
        apply_overrides({}, ["force_failover=!!python/object/apply:os.system ['true']"])


@pytest.mark.parametrize(("item", "key"), BAD_VALUES[:2])
def test_preview_prints_one_line_and_exits_2(item: str, key: str) -> None:
    result = CliRunner().invoke(app, ["preview", "--stack", "tokyo", "--set", item])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"--set {key}:" in lines[0], result.output
