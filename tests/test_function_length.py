"""Issue 14: no function is longer than about 80 lines without a reason given in a comment.

A function or method longer than MAX_LINES must carry a comment starting with `# long:`
in the 3 lines above its `def` (decorators included) or in its first body lines, saying
why splitting it would make the code worse (or that its split is pending).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIRS = (
    "components",
    "stacks",
    "policy",
    "scripts/drctl",
    "app",
    "observability",
    "benchmarks",
)
MAX_LINES = 80
REASON_MARK = "# long:"
FIRST_BODY_LINES = 3


def _project_files() -> list[Path]:
    files = [ROOT / "__main__.py"] if (ROOT / "__main__.py").exists() else []
    for folder in PROJECT_DIRS:
        files.extend(sorted((ROOT / folder).rglob("*.py")))
    return [path for path in files if ".venv" not in path.parts]


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [
        node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def _has_reason(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    above = lines[max(0, first - 4) : first - 1]
    body_start = node.body[0].lineno
    inside = lines[node.lineno - 1 : body_start - 1 + FIRST_BODY_LINES]
    return any(line.strip().startswith(REASON_MARK) for line in [*above, *inside])


def long_functions_without_reason(path: Path, root: Path = ROOT) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    offenders = []
    for node in _functions(ast.parse(source, filename=str(path))):
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > MAX_LINES and not _has_reason(lines, node):
            offenders.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)")
    return offenders


def test_the_scan_covers_the_project() -> None:
    names = {path.relative_to(ROOT).parts[0] for path in _project_files()}
    assert {"components", "stacks", "policy", "scripts"} <= names


def test_no_function_is_longer_than_80_lines_without_a_reason() -> None:
    offenders = [item for path in _project_files() for item in long_functions_without_reason(path)]
    assert not offenders, (
        "functions longer than 80 lines need a split or a '# long:' reason:\n"
        + "\n".join(offenders)
    )


@pytest.mark.parametrize(
    ("comment_above", "comment_inside", "expected"),
    [
        ("", "", 1),
        ("# long: one literal document\n", "", 0),
        ("", "    # long: one ARM request\n", 0),
    ],
)
def test_the_check_fires_and_accepts_a_reason(
    tmp_path: Path, comment_above: str, comment_inside: str, expected: int
) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text(f"{comment_above}def big():\n{comment_inside}{body}", encoding="utf-8")
    assert len(long_functions_without_reason(sample, root=tmp_path)) == expected


def test_a_short_function_passes(tmp_path: Path) -> None:
    sample = tmp_path / "short.py"
    sample.write_text(
        "def small():\n" + "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES - 1)),
        encoding="utf-8",
    )
    assert long_functions_without_reason(sample, root=tmp_path) == []
