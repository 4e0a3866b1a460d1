"""`drctl preview`: the offline stand-in for `pulumi preview --policy-pack policy`.

Loads ``Pulumi.<stack>.yaml``, applies ``--set key=value`` overrides (nested keys dotted:
``--set dns.ttl=60``; values are YAML scalars; ``aws:region=...`` names another
namespace), synthesizes the program under mocks (``drctl.synth``), and prints every
resource, the stack outputs (secrets masked), the policy verdicts, the RTO/RPO budget
term by term and the monthly cost estimate. ``--json`` prints one JSON object instead.

Exit status: 0 clean (advisory findings allowed), 1 on a mandatory policy violation,
2 on a config error (one red line naming the key, no traceback).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from drctl.synth import Synthesis, synthesize
from policy.budget import Budget, compute_budget
from policy.policies import Violation, evaluate
from policy.pricing import PRICES_AS_OF, Cost, estimate
from stacks.config import ConfigError

INPUTS_WIDTH = 160


@lru_cache(maxsize=64)
def _cached(stack: str, overrides: tuple[str, ...]) -> Synthesis:
    return synthesize(stack, overrides)


def cached_synthesize(stack: str, overrides: Sequence[str] = ()) -> Synthesis:
    """One synthesis per (stack, overrides) per process (each costs about a second)."""
    return _cached(stack, tuple(overrides))


@dataclass
class PreviewResult:
    synthesis: Synthesis
    violations: list[Violation]
    budget: Budget | None
    cost: Cost

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    def as_json(self) -> dict[str, Any]:
        syn = self.synthesis
        return {
            "stack": syn.stack,
            "resources": [r.as_json() for r in syn.resources],
            "outputs": syn.display_outputs(),
            "policy": [v.as_json() for v in self.violations],
            "budget": self.budget.as_json() if self.budget is not None else None,
            "cost": self.cost.as_json(),
        }


def primary_outputs(syn: Synthesis) -> dict[str, Any] | None:
    """The outputs a DR stack's StackReference received (the primary synthesized as is)."""
    return dict(syn.primary_outputs) if syn.primary_outputs is not None else None


def run_preview(stack: str, overrides: Sequence[str] = ()) -> PreviewResult:
    syn = cached_synthesize(stack, overrides)
    violations = evaluate(syn.resources, syn.config, primary_outputs(syn))
    return PreviewResult(syn, violations, compute_budget(syn.config), estimate(syn))


# --------------------------------------------------------------------------- rendering


def _short(urn: str | None) -> str:
    return urn.split("::")[-1] if urn else "-"


def _compact(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= INPUTS_WIDTH else text[: INPUTS_WIDTH - 1] + "…"


def render(result: PreviewResult, console: Console) -> None:
    syn = result.synthesis
    cfg = syn.config
    role = cfg.role + (f" / {cfg.strategy}" if cfg.strategy else "")
    console.print(f"[bold]drctl preview[/] stack [cyan]{syn.stack}[/] ({role}, {cfg.region})")

    table = Table(title=f"{len(syn.resources)} resources", show_lines=False, expand=False)
    for col in ("type", "name", "parent", "region", "inputs"):
        table.add_column(col, overflow="fold")
    for r in syn.resources:
        table.add_row(
            r.type, r.name, _short(r.parent), r.region or "", escape(_compact(r.display_inputs))
        )
    console.print(table)
    console.print("[dim]full inputs: drctl preview --json[/]")

    outputs = Table(title="outputs")
    outputs.add_column("name")
    outputs.add_column("value", overflow="fold")
    for key, value in syn.display_outputs().items():
        outputs.add_row(key, escape(_compact(value)))
    console.print(outputs)

    if result.violations:
        verdicts = Table(title="policy violations")
        for col in ("level", "policy", "resource", "message"):
            verdicts.add_column(col, overflow="fold")
        for v in result.violations:
            style = "red" if v.level == "mandatory" else "yellow"
            verdicts.add_row(f"[{style}]{v.level}[/]", v.policy, _short(v.urn), escape(v.message))
        console.print(verdicts)
    mandatory = len(result.mandatory)
    advisory = len(result.violations) - mandatory
    mark = "[green]✓ all policies pass[/]" if not result.violations else ""
    console.print(f"policy: {mandatory} mandatory, {advisory} advisory violation(s) {mark}")

    console.print("[bold]RTO/RPO budget[/]")
    if result.budget is None:
        console.print("  n/a (primary stack: objectives are declared by its DR stacks)")
    else:
        for text in result.budget.render().splitlines():
            console.print(f"  {text}", style="green" if "✓" in text else "red", highlight=False)

    cost = Table(title=f"monthly cost estimate (USD, on-demand, prices as of {PRICES_AS_OF})")
    for col in ("resource", "type", "region", "what", "USD/month"):
        cost.add_column(col, overflow="fold")
    for line in sorted(result.cost.lines, key=lambda c: -c.monthly_usd):
        if line.monthly_usd or not line.priced:
            cost.add_row(
                line.name,
                line.type,
                line.region,
                escape(line.description),
                f"{line.monthly_usd:,.2f}" if line.priced else "[yellow]unpriced[/]",
            )
    cost.add_row("[bold]total[/]", "", "", "", f"[bold]{result.cost.monthly_usd:,.2f}[/]")
    console.print(cost)


def register(app: typer.Typer) -> None:
    @app.command("preview")
    def preview(
        stack: Annotated[str, typer.Option("--stack", "-s", help="Stack name (Pulumi.NAME.yaml).")],
        set_: Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                help="Override a config value: key=value, nested keys dotted (dns.ttl=60); "
                "values are YAML (true, 60, [a, b]); repeatable.",
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Synthesize a stack offline: resources, outputs, policy verdicts, RTO/RPO budget, cost."""
        try:
            result = run_preview(stack, tuple(set_ or ()))
        except ConfigError as exc:
            Console(stderr=True, soft_wrap=True).print(
                f"[bold red]config error:[/] {escape(str(exc))}", highlight=False
            )
            raise typer.Exit(2) from None
        if as_json:
            import sys

            sys.stdout.write(
                json.dumps(result.as_json(), indent=2, ensure_ascii=False, default=str)
            )
            sys.stdout.write("\n")
        else:
            render(result, Console(soft_wrap=True))
        if result.mandatory:
            if not as_json:
                Console(stderr=True, soft_wrap=True).print(
                    f"[bold red]{len(result.mandatory)} mandatory policy violation(s)[/]",
                    highlight=False,
                )
            raise typer.Exit(1)
