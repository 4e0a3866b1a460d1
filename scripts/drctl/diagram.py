"""The architecture graph of a stack, built from its offline synthesis (``drctl.synth``).

Nodes are the synthesized resources (plumbing such as route-table associations and
providers is hidden; several same-type siblings of one component share a node), edges
are the dependencies the engine would receive, followed through hidden resources.
Replication that a resource declares inline (a secret's ``replicas``, ECR's replication
destinations) adds a node for the replica in its region. Nothing is hand-drawn, so the
picture changes when the stack does; ``tests/observability/test_diagram.py`` checks it
against the preview.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from drctl.synth import ResourceRecord, Synthesis

# Plumbing that would bury the DR picture. Dependencies pass through these.
HIDDEN_TYPES = frozenset(
    {
        "pulumi:providers:aws",
        "pulumi:providers:kubernetes",
        "pulumi:providers:azure-native",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/eip:Eip",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/role:Role",
        "aws:kms/alias:Alias",
        "aws:kms/key:Key",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:lambda/permission:Permission",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:eks/addon:Addon",
        "aws:sns/topicSubscription:TopicSubscription",
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ServiceAccount",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:Subnet",
        "azure-native:storage:BlobServiceProperties",
        "azure-native:storage:ManagementPolicy",
        "azure-native:storage:StorageAccountStaticWebsite",
    }
)
# Permissions, not data flow: hidden, and dependencies do not pass through them (a
# replication role that may write to every DR bucket says nothing about which
# bucket a rule copies into).
OPAQUE_TYPES = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/role:Role",
    }
)
COMPONENT_PREFIX = "drstack:"
GROUP_AT = 4  # this many same-type siblings of one component share one node


@dataclass
class Node:
    id: str
    label: str
    type: str
    region: str
    members: list[str] = field(default_factory=list)  # URNs (or "inline:..." for replicas)


@dataclass
class Graph:
    stack: str
    title: str
    nodes: dict[str, Node]
    edges: set[tuple[str, str, str]]  # (from, to, kind: depends | cross-region)

    def node_of(self, urn: str) -> Node | None:
        return next((n for n in self.nodes.values() if urn in n.members), None)


def short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def visible(record: ResourceRecord) -> bool:
    return not record.type.startswith(COMPONENT_PREFIX) and record.type not in HIDDEN_TYPES


def _component_of(record: ResourceRecord, by_urn: dict[str, ResourceRecord]) -> str:
    parent = record.parent
    while parent and parent in by_urn:
        if by_urn[parent].type.startswith(COMPONENT_PREFIX):
            return parent
        parent = by_urn[parent].parent
    return ""


STACK_REFERENCE = "pulumi:pulumi:StackReference"


def region_of(record: ResourceRecord, syn: Synthesis) -> str:
    # A StackReference stands for the primary stack: draw it in the primary's region.
    if record.type == STACK_REFERENCE and syn.config.primary_region:
        return syn.config.primary_region
    return record.region or "global"


def _nodes(syn: Synthesis) -> dict[str, Node]:
    by_urn = {r.urn: r for r in syn.resources}
    groups: dict[tuple[str, str, str], list[ResourceRecord]] = {}
    for record in filter(visible, syn.resources):
        key = (_component_of(record, by_urn), record.type, region_of(record, syn))
        groups.setdefault(key, []).append(record)
    nodes: dict[str, Node] = {}
    for (_component, type_, region), records in groups.items():
        if len(records) >= GROUP_AT:
            node_id = f"{type_}|{region}|{records[0].name}"
            label = (
                f"{len(records)} × {short_type(type_)}\n"
                + ", ".join(r.name for r in records[:3])
                + (" …" if len(records) > 3 else "")
            )
            nodes[node_id] = Node(node_id, label, type_, region, [r.urn for r in records])
            continue
        for record in records:
            label = f"{short_type(type_)}\n{record.name}"
            if type_ == STACK_REFERENCE:
                label = f"primary stack\n{record.name} (StackReference)"
            nodes[record.urn] = Node(record.urn, label, type_, region, [record.urn])
    return nodes


def _visible_deps(urn: str, by_urn: dict[str, ResourceRecord], seen: set[str]) -> Iterator[str]:
    """Dependencies of ``urn`` that are visible, looking through hidden ones."""
    for dep in by_urn[urn].depends_on if urn in by_urn else ():
        if dep in seen or dep not in by_urn:
            continue
        seen.add(dep)
        if visible(by_urn[dep]):
            yield dep
        elif by_urn[dep].type not in OPAQUE_TYPES:
            yield from _visible_deps(dep, by_urn, seen)


def _inline_replica_regions(record: ResourceRecord) -> list[str]:
    inputs = record.inputs
    regions = [r.get("region") for r in inputs.get("replicas") or [] if isinstance(r, dict)]
    config = inputs.get("replicationConfiguration") or {}
    for rule in config.get("rules") or []:
        regions += [d.get("region") for d in rule.get("destinations") or []]
    return sorted({r for r in regions if r and r != record.region})


def _edge(source: Node, target: Node, primary_region: str | None) -> tuple[str, str, str]:
    if source.region == target.region:
        return source.id, target.id, "depends"
    # Across regions the arrow follows the data: out of the primary region. (A DR
    # bucket that a Seoul replication rule depends on still receives the copies.)
    if target.region == primary_region:
        return target.id, source.id, "cross-region"
    return source.id, target.id, "cross-region"


def build_graph(syn: Synthesis, title: str = "") -> Graph:
    by_urn = {r.urn: r for r in syn.resources}
    nodes = _nodes(syn)
    member_of = {urn: node.id for node in nodes.values() for urn in node.members}
    edges: set[tuple[str, str, str]] = set()
    for urn, node_id in member_of.items():
        for dep in _visible_deps(urn, by_urn, set()):
            source = member_of[dep]
            if source != node_id:
                edges.add(_edge(nodes[source], nodes[node_id], syn.config.primary_region))
    for record in filter(visible, syn.resources):
        for region in _inline_replica_regions(record):
            replica_id = f"inline:{record.urn}|{region}"
            nodes[replica_id] = Node(
                replica_id,
                f"{short_type(record.type)} replica\n{record.name}",
                record.type,
                region,
                [replica_id],
            )
            edges.add((member_of[record.urn], replica_id, "cross-region"))
    return Graph(syn.stack, title or syn.stack, nodes, edges)


def phase_of(syn: Synthesis) -> str:
    cfg = syn.config
    if cfg.strategy == "pilot-light":
        if cfg.enable_petclinic:
            return "phase 4: PetClinic serving (emergency + enable_petclinic)"
        if cfg.emergency:
            return "phases 2-3: emergency compute and database up, maintenance page"
        return "phase 1: pilot light (backups and storage only)"
    if cfg.strategy == "warm-standby":
        if cfg.promote_replica or cfg.force_failover:
            return "failed over (force_failover / promote_replica set)"
        return "warm standby (replicating, DNS on the primary)"
    return "primary"


def regions(graph: Graph) -> Iterable[str]:
    return sorted({node.region for node in graph.nodes.values()})


def as_dict(graph: Graph) -> dict[str, Any]:
    return {
        "stack": graph.stack,
        "title": graph.title,
        "nodes": [
            {"id": n.id, "label": n.label, "type": n.type, "region": n.region, "members": n.members}
            for n in graph.nodes.values()
        ],
        "edges": [{"from": a, "to": b, "kind": k} for a, b, k in sorted(graph.edges)],
    }
