"""The import graph keeps its layers: read with ``ast``, nothing is imported.

- ``components/`` imports nothing from ``stacks/``, ``policy/`` or ``drctl``: a component
  owns its typed inputs and can be read and reused without the stack configuration.
- ``stacks/`` imports nothing from ``drctl``.
- The DR compositions never import ``stacks/primary.py`` (the primary knows nothing
  about DR, and DR shares helpers through ``stacks/shared.py`` instead).
- No import cycle among the project's modules, counting imports inside functions and
  under ``TYPE_CHECKING`` too: a lazy import only hides a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Package name -> its directory (drctl is installed from scripts/drctl).
PACKAGES = {
    "app": ROOT / "app",
    "components": ROOT / "components",
    "drctl": ROOT / "scripts" / "drctl",
    "observability": ROOT / "observability",
    "policy": ROOT / "policy",
    "stacks": ROOT / "stacks",
}
DR_COMPOSITIONS = ("stacks.warm_standby", "stacks.pilot_light", "stacks.pilot_light_backup")


def _module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


MODULES = _module_files()


def _imported_names(module: str, path: Path) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from pkg import module` imports the submodule.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _project_module(name: str) -> str | None:
    """The longest project module that ``name`` is or lies in, if any."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


# policy/constraint_registry.py imports every policy/deploy_*.py with importlib.
DYNAMIC_IMPORTS = {
    "policy.constraint_registry": {m for m in MODULES if m.startswith("policy.deploy_")}
}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_project_module(name) for name in _imported_names(module, path)}
        targets |= DYNAMIC_IMPORTS.get(module, set())
        graph[module] = {t for t in targets if t and t != module}
    return graph


GRAPH = _graph()


def _edges(from_prefix: str, to_prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{src} -> {dst}"
        for src, targets in GRAPH.items()
        if src == from_prefix or src.startswith(from_prefix + ".")
        for dst in targets
        if any(dst == p or dst.startswith(p + ".") for p in to_prefixes)
    )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_project() -> None:
    # Guards the guard: a path or parsing slip would make every check below vacuous.
    assert "components.eks_region" in MODULES and "drctl.failover.state" in MODULES
    assert "stacks.config" in GRAPH["stacks.primary"]
    assert "stacks.config" in GRAPH["stacks.warm_standby"]
    assert "policy.deploy_rds" in GRAPH["policy.constraint_registry"]


@pytest.mark.parametrize("forbidden", [("stacks",), ("policy",), ("drctl",)])
def test_components_import_no_upper_layer(forbidden: tuple[str, ...]) -> None:
    assert _edges("components", forbidden) == []


def test_stacks_do_not_import_drctl() -> None:
    assert _edges("stacks", ("drctl",)) == []


@pytest.mark.parametrize("composition", DR_COMPOSITIONS)
def test_dr_compositions_do_not_import_the_primary(composition: str) -> None:
    assert "stacks.primary" not in GRAPH[composition]


def test_no_import_cycles() -> None:
    # A new policy/deploy_*.py must take its helpers from policy.common, not policy.policies.
    assert _cycles(GRAPH) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
