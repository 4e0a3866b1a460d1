"""Read a shipped stack's typed config from ``Pulumi.<stack>.yaml`` (no Pulumi engine)."""

from __future__ import annotations

from pathlib import Path

from stacks.config import StackConfig, parse_config
from stacks.stack_file import read_stack_file

REPO_ROOT = Path(__file__).resolve().parent.parent
DR_STACKS = ("tokyo", "azure-pilot")
# Every DR stack file that ships, examples included, gets its rules generated; the
# sandbox drill loads DR_STACKS' only (it runs the mysql engine, not Aurora).
RULE_STACKS = (*DR_STACKS, "tokyo-aurora")


def load_stack_config(stack: str, root: Path = REPO_ROOT) -> StackConfig:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"--stack {stack}: {path.name} not found in {root}")
    return parse_config(stack, read_stack_file(path).get("config") or {})
