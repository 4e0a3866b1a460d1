"""`drctl diagram`: the graph is the preview's resources and dependencies, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.diagram import OPAQUE_TYPES, build_graph, visible
from drctl.preview import cached_synthesize
from drctl.synth import Synthesis
from tests.observability.conftest import require_binary

STACKS = ("seoul", "tokyo", "azure-pilot")


def _reachable(syn: Synthesis, start: str, goal: str) -> bool:
    """Is ``goal`` a dependency of ``start``, directly or through hidden resources?"""
    by_urn = {r.urn: r for r in syn.resources}
    todo, seen = list(by_urn[start].depends_on), set()
    while todo:
        urn = todo.pop()
        if urn == goal:
            return True
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        record = by_urn[urn]
        if not visible(record) and record.type not in OPAQUE_TYPES:
            todo.extend(record.depends_on)
    return False


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_are_exactly_the_visible_preview_resources(stack: str) -> None:
    syn = cached_synthesize(stack)
    graph = build_graph(syn)
    members = [
        m for node in graph.nodes.values() for m in node.members if not m.startswith("inline:")
    ]
    assert sorted(members) == sorted(r.urn for r in syn.resources if visible(r))
    assert len(members) == len(set(members))  # each resource drawn once


@pytest.mark.parametrize("stack", STACKS)
def test_every_edge_is_a_preview_dependency_and_every_dependency_an_edge(stack: str) -> None:
    syn = cached_synthesize(stack)
    graph = build_graph(syn)
    by_id = graph.nodes
    for source, target, kind in graph.edges:
        if target.startswith("inline:"):
            urn = target.split("|", 1)[0].removeprefix("inline:")
            assert urn in by_id[source].members and kind == "cross-region"
            continue
        pairs = [(a, b) for a in by_id[target].members for b in by_id[source].members]
        pairs += [(b, a) for a, b in pairs]  # cross-region edges point out of the primary
        assert any(_reachable(syn, a, b) for a, b in pairs), (source, target)
    for record in filter(visible, syn.resources):
        for dep in record.depends_on:
            dep_node, node = graph.node_of(dep), graph.node_of(record.urn)
            if dep_node is None or node is None or dep_node is node:
                continue
            assert {(dep_node.id, node.id), (node.id, dep_node.id)} & {
                (a, b) for a, b, _k in graph.edges
            }, f"{record.name} depends on {dep} but the diagram has no edge"


def test_tokyo_shows_replication_paths_and_automation() -> None:
    graph = build_graph(cached_synthesize("tokyo"))
    cross = {
        (graph.nodes[a].type, graph.nodes[b].type) for a, b, k in graph.edges if k == "cross-region"
    }
    assert ("pulumi:pulumi:StackReference", "aws:rds/instance:Instance") in cross
    assert ("pulumi:pulumi:StackReference", "aws:dynamodb/tableReplica:TableReplica") in cross
    assert (
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "aws:s3/bucket:Bucket",
    ) in cross
    assert ("aws:secretsmanager/secret:Secret", "aws:secretsmanager/secret:Secret") in cross
    types = {n.type for n in graph.nodes.values()}
    assert {"aws:lambda/function:Function", "aws:route53/healthCheck:HealthCheck"} <= types
    assert {n.region for n in graph.nodes.values()} >= {
        "ap-northeast-1",
        "ap-northeast-2",
        "us-east-1",
    }


def test_png_is_written(tmp_path: Path) -> None:
    require_binary("dot")
    from typer.testing import CliRunner

    from drctl.cli import app

    out = tmp_path / "tokyo.png"
    result = CliRunner().invoke(app, ["diagram", "--stack", "tokyo", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 50_000
