"""The terminal view of ``drctl preview``, shaped like ``pulumi preview``.

A resource tree by parent (operation, type, name: one line each), a summary line, the
policy verdicts, the RTO/RPO budget and the cost. ``--details`` adds every resource's
inputs as key paths; ``--diff`` prints only what a toggle changes. Data is printed as
``rich.text.Text``, never parsed as markup or emoji: a Secrets Manager ARN contains
``:secret:``, which Rich's emoji codes would otherwise turn into a symbol.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from drctl.preview_diff import SYMBOL, StackDiff, key_paths
from drctl.synth import ResourceRecord, Synthesis

if TYPE_CHECKING:
    from drctl.preview_result import PreviewResult

VALUE_WIDTH = 72
COST_LINES = 6
_STYLE = {"create": "green", "update": "yellow", "delete": "red"}


def make_console(**kwargs: Any) -> Console:
    """A console that prints data as it is: no emoji codes, no markup, no highlighting."""
    return Console(emoji=False, markup=False, highlight=False, soft_wrap=True, **kwargs)


def short_type(type_: str) -> str:
    """``aws:s3/bucketVersioning:BucketVersioning`` → ``aws:s3:BucketVersioning``, as the
    Pulumi CLI displays type tokens."""
    parts = type_.split(":")
    if len(parts) == 3:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return type_


def short_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def short_pair(old: Any, new: Any) -> tuple[str, str]:
    """Two values shortened so the difference stays visible: long strings that share a
    prefix (resource ids, ARNs) keep their differing tails."""
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > VALUE_WIDTH // 2:
        same = next(
            (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
            min(len(old), len(new)),
        )
        keep = max(0, same - 8)
        if keep:
            old, new = "…" + old[keep:], "…" + new[keep:]
    return short_value(old), short_value(new)


def _masked(override: str) -> str:
    """A --base-set value as it may be printed: a secret ({secure: ...}) never is, and a
    long value (an SSH key, an image reference) only by its key."""
    key, _, value = override.partition("=")
    if value.strip().startswith("{secure"):
        return f"{key}=[secret]"
    return override if len(value) <= 24 else f"{key}=…"


def _children(resources: list[ResourceRecord]) -> dict[str | None, list[ResourceRecord]]:
    known = {r.urn for r in resources}
    by_parent: dict[str | None, list[ResourceRecord]] = defaultdict(list)
    for r in resources:
        by_parent[r.parent if r.parent in known else None].append(r)
    return by_parent


def tree_lines(resources: list[ResourceRecord]) -> Iterator[tuple[str, ResourceRecord]]:
    """(prefix, record) in tree order: each record under its parent, drawn with ├─ └─."""
    by_parent = _children(resources)

    def walk(parent: str | None, indent: str) -> Iterator[tuple[str, ResourceRecord]]:
        kids = by_parent.get(parent, [])
        for i, record in enumerate(kids):
            last = i == len(kids) - 1
            yield indent + ("└─ " if last else "├─ "), record
            yield from walk(record.urn, indent + ("   " if last else "│  "))

    yield from walk(None, "")


def _line(symbol: str, style: str, prefix: str, record: ResourceRecord) -> Text:
    label = "read" if record.read else ""
    text = Text(f" {symbol}  ", style=style)
    text.append(prefix, style="dim")
    text.append(short_type(record.type))
    text.append(f"  {record.name}", style="bold")
    if label:
        text.append(f"  ({label})", style="dim")
    return text


def render_resources(syn: Synthesis, console: Console, details: bool) -> None:
    console.print(
        Text(" +  pulumi:pulumi:Stack  ", style="green").append(
            f"drstack-{syn.stack}", style="bold"
        )
    )
    for prefix, record in tree_lines(syn.resources):
        console.print(_line("=" if record.read else "+", "green", prefix, record))
        if details:
            for path, value in key_paths(record.display_inputs):
                console.print(Text(f"        {path} = {short_value(value)}", style="dim"))


def summary_line(syn: Synthesis) -> Text:
    regions = Counter(r.region or "global" for r in syn.resources if not r.read)
    reads = sum(1 for r in syn.resources if r.read)
    created = len(syn.resources) - reads
    per_region = ", ".join(f"{region} {n}" for region, n in sorted(regions.items()))
    text = Text("Resources: ", style="bold")
    text.append(f"+ {created} to create", style="green")
    if reads:
        text.append(f", = {reads} read")
    text.append(f" ({per_region})")
    return text


def output_text(value: Any) -> str:
    """An output on one line, without JSON punctuation: ``a, b`` for a list of scalars,
    ``k=v, k=v`` for a mapping of them; deeper values as their key paths."""
    if isinstance(value, list) and value:
        return ", ".join(output_text(v) for v in value)
    if isinstance(value, dict) and value:
        return ", ".join(f"{path}={v}" for path, v in key_paths(value))
    return value if isinstance(value, str) else json.dumps(value, default=str)


def render_outputs(syn: Synthesis, console: Console) -> None:
    console.print(Text("Outputs:", style="bold"))
    for key, value in syn.display_outputs().items():
        console.print(Text(f"    {key}: {short_value(output_text(value))}"))


def render_policy(result: PreviewResult, console: Console) -> None:
    mandatory = len(result.mandatory)
    advisory = len(result.violations) - mandatory
    if not result.violations:
        console.print(Text("Policies: ✓ all pass", style="green"))
        return
    console.print(Text(f"Policies: {mandatory} mandatory, {advisory} advisory", style="bold"))
    for v in result.violations:
        style = "red" if v.level == "mandatory" else "yellow"
        where = v.urn.split("::")[-1] if v.urn else "stack"
        line = Text(f"    [{v.level}] ", style=style)
        line.append(f"{v.policy} ({where}): {v.message}")
        console.print(line)


def render_budget(result: PreviewResult, console: Console, plan_a: bool = True) -> None:
    console.print(Text("RTO/RPO budget:", style="bold"))
    if result.budget is None:
        console.print(Text("    n/a (primary stack: objectives are declared by its DR stacks)"))
        return
    for line in result.budget.render().splitlines():
        console.print(Text(f"    {line}", style="green" if "✓" in line else "red"))
    if plan_a:
        render_plan_a(result, console)


def render_plan_a(result: PreviewResult, console: Console) -> None:
    """Seed 001's Plan A (RTO 5 min / RPO 1 min), per engine and failover mode."""
    from policy.budget_modes import PLAN_A_RPO_SECONDS, PLAN_A_RTO_SECONDS, plan_a_rows

    rows = plan_a_rows(result.synthesis.config)
    if not rows:
        return
    cfg = result.synthesis.config
    scale = f", standby_scale {cfg.standby_scale}" if cfg.strategy == "warm-standby" else ""
    title = (
        f"Seed 001 Plan A (RTO ≤ {PLAN_A_RTO_SECONDS:g}s, RPO ≤ {PLAN_A_RPO_SECONDS:g}s){scale}:"
    )
    console.print(Text(title, style="bold"))
    for row in rows:
        console.print(Text(f"    {row.line()}", style="green" if row.meets else "red"))
    for gap in full_standby_gaps(result):
        console.print(
            Text(f"    standby_scale full, but {gap}: the budget assumes no scale-up", style="red")
        )


def full_standby_gaps(result: PreviewResult) -> list[str]:
    cfg = result.synthesis.config
    if cfg.standby_scale != "full":
        return []
    from drctl.standby_scale import size_shortfalls
    from drctl.synth import cached_synthesize, primary_stack_file

    primary = cached_synthesize(primary_stack_file(cfg.primary_stack)).config
    return size_shortfalls(cfg, primary)


def render_cost(result: PreviewResult, console: Console, details: bool, as_of: str) -> None:
    cost = result.cost
    console.print(
        Text(
            f"Monthly cost: ${cost.monthly_usd:,.2f} (on-demand, prices as of {as_of})",
            style="bold",
        )
    )
    lines = sorted(
        (c for c in cost.lines if c.monthly_usd or not c.priced), key=lambda c: -c.monthly_usd
    )
    shown = lines if details else lines[:COST_LINES]
    for c in shown:
        amount = f"${c.monthly_usd:,.2f}" if c.priced else "unpriced"
        console.print(Text(f"    {amount:>10}  {c.name} ({c.region}): {c.description}"))
    if len(lines) > len(shown):
        console.print(Text(f"    … {len(lines) - len(shown)} more (--details)", style="dim"))


def render_diff(diff: StackDiff, console: Console) -> None:
    toggles = " ".join(f"--set {o}" for o in diff.overrides) or "(no overrides)"
    against = "the stack as shipped" + (
        f" with {', '.join(_masked(o) for o in diff.base)}" if diff.base else ""
    )
    console.print(Text(f"drctl preview --diff: stack {diff.stack}, {toggles}", style="bold"))
    console.print(Text(f"against {against}", style="dim"))
    for change in diff.resources:
        sym = SYMBOL[change.op]
        line = Text(f" {sym}  ", style=_STYLE[change.op])
        line.append(f"{short_type(change.type)}  ")
        line.append(change.name, style="bold")
        line.append(
            f"  {change.op}" + (f" [{change.region}]" if change.region else ""), style="dim"
        )
        console.print(line)
        for c in change.inputs:
            old, new = short_pair(c.old, c.new)
            console.print(Text(f"       ~ {c.path}: {old} → {new}"))
    for c in diff.outputs:
        old, new = short_pair(c.old, c.new)
        console.print(Text(f" ~  output {c.path}: {old} → {new}"))
    counts = ", ".join(f"{SYMBOL[op]} {diff.count(op)} to {op}" for op in SYMBOL)
    console.print(Text(f"Resources: {counts}", style="bold"))
