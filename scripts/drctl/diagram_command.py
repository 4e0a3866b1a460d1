"""`drctl diagram`: render a stack's architecture (PNG) from its offline synthesis."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from drctl import command_support as support
from drctl.failures import conflicting, describe, tool_stderr

REGION_NAMES = {
    "ap-northeast-2": "AWS Seoul (ap-northeast-2)",
    "ap-northeast-1": "AWS Tokyo (ap-northeast-1)",
    "us-east-1": "AWS us-east-1 (Route 53 metrics, alarms)",
    "koreacentral": "Azure Korea Central",
    "japaneast": "Azure Japan East",
    "global": "global",
}
# Type prefix -> diagrams icon (module, class). The first match wins.
ICONS: tuple[tuple[str, str, str], ...] = (
    ("aws:rds/", "diagrams.aws.database", "RDS"),
    ("aws:dynamodb/", "diagrams.aws.database", "Dynamodb"),
    ("aws:s3/", "diagrams.aws.storage", "S3"),
    ("aws:ecr/", "diagrams.aws.compute", "ECR"),
    ("aws:eks/", "diagrams.aws.compute", "EKS"),
    ("aws:lambda/", "diagrams.aws.compute", "Lambda"),
    ("aws:route53/", "diagrams.aws.network", "Route53"),
    ("aws:cloudwatch/", "diagrams.aws.management", "Cloudwatch"),
    ("aws:sns/", "diagrams.aws.integration", "SNS"),
    ("aws:secretsmanager/", "diagrams.aws.security", "SecretsManager"),
    ("aws:ec2/vpc", "diagrams.aws.network", "VPC"),
    ("aws:", "diagrams.aws.general", "General"),
    ("azure-native:storage:", "diagrams.azure.storage", "StorageAccounts"),
    ("azure-native:network:VirtualNetwork", "diagrams.azure.network", "VirtualNetworks"),
    ("azure-native:network:ApplicationGateway", "diagrams.azure.network", "ApplicationGateway"),
    ("azure-native:dbformysql:", "diagrams.azure.database", "DatabaseForMysqlServers"),
    ("azure-native:compute:", "diagrams.azure.compute", "VM"),
    ("azure-native:resources:", "diagrams.azure.general", "Resourcegroups"),
    ("azure-native:", "diagrams.azure.general", "Resource"),
    ("kubernetes:batch/v1:CronJob", "diagrams.k8s.compute", "Cronjob"),
    ("kubernetes:apps/v1:Deployment", "diagrams.k8s.compute", "Deploy"),
    ("kubernetes:core/v1:Secret", "diagrams.k8s.podconfig", "Secret"),
    ("kubernetes:", "diagrams.k8s.compute", "Pod"),
    ("pulumi:pulumi:StackReference", "diagrams.onprem.iac", "Pulumi"),
    ("", "diagrams.generic.blank", "Blank"),
)


def _icon(type_: str) -> Any:
    import importlib

    module, name = next((m, n) for prefix, m, n in ICONS if type_.startswith(prefix))
    return getattr(importlib.import_module(module), name)


def render_png(graph: Any, output: Path, subtitle: str) -> Path:
    from diagrams import Cluster, Diagram, Edge

    output.parent.mkdir(parents=True, exist_ok=True)
    base = str(output.with_suffix(""))
    attrs = {
        "fontsize": "20",
        "pad": "0.4",
        "nodesep": "0.5",
        "ranksep": "1.1",
        "splines": "spline",
    }
    from drctl.diagram import regions

    with Diagram(
        f"{graph.title}\n{subtitle}",
        filename=base,
        outformat="png",
        show=False,
        direction="LR",
        graph_attr=attrs,
        node_attr={"fontsize": "11"},
    ):
        drawn: dict[str, Any] = {}
        for region in regions(graph):
            with Cluster(REGION_NAMES.get(region, region), graph_attr={"fontsize": "16"}):
                for node in sorted(graph.nodes.values(), key=lambda n: (n.type, n.label)):
                    if node.region == region:
                        drawn[node.id] = _icon(node.type)(node.label)
        for source, target, kind in sorted(graph.edges):
            style = (
                Edge(color="firebrick", style="bold", label="")
                if kind == "cross-region"
                else Edge(color="gray40")
            )
            drawn[source] >> style >> drawn[target]
    return Path(base + ".png")


def diagram(
    stack: Annotated[str, typer.Option("--stack", help="Stack to draw (its Pulumi.<stack>.yaml).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="PNG path (default architecture-<stack>.png)."),
    ] = None,
    set_values: Annotated[
        list[str] | None, typer.Option("--set", help="Override config, e.g. --set emergency=true.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the graph (nodes, edges) as JSON; draw nothing.")
    ] = False,
) -> None:
    """Both regions, replication paths, DNS failover, detection and automation, from the preview."""
    from drctl.diagram import as_dict, build_graph, phase_of
    from drctl.preview import cached_synthesize
    from stacks.config import ConfigError

    conflict = conflicting({"--json": as_json, "--output": output}, "--json draws nothing")
    if conflict:
        support.fail(conflict)
    target = output or Path(f"architecture-{stack}.png")
    if not as_json:
        support.check_writable_file(target.with_suffix(".png"), "--output")
    try:
        syn = cached_synthesize(stack, set_values or [])
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        support.fail(str(exc))
    cfg = syn.config
    title = f"drstack {stack} — {cfg.strategy or cfg.role}"
    graph = build_graph(syn, title)
    if as_json:
        sys.stdout.write(json.dumps(as_dict(graph), indent=2) + "\n")
        return
    try:
        path = render_png(graph, target, phase_of(syn))
    except Exception as exc:  # Graphviz's `dot` missing or failing
        support.fail(f"drawing {target} failed: {_graphviz_problem(exc)}", code=1)
    sys.stderr.write(f"wrote {path}\n")


def _graphviz_problem(exc: Exception) -> str:
    if type(exc).__name__ == "ExecutableNotFound":
        return "Graphviz `dot` is not installed or not on PATH (make services installs it)"
    stderr = getattr(exc, "stderr", None)
    return tool_stderr(stderr) if stderr else describe(exc)[1]


def register(app: typer.Typer) -> None:
    app.command("diagram")(diagram)
