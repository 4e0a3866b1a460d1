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
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from drctl import preview_view as view
from drctl.preview_diff import StackDiff, diff_syntheses
from drctl.preview_result import PreviewResult
from drctl.synth import Synthesis, cached_synthesize
from policy.budget import compute_budget
from policy.policies import evaluate
from policy.pricing import PRICES_AS_OF, estimate
from stacks.config import ConfigError


def primary_outputs(syn: Synthesis) -> dict[str, Any] | None:
    """The outputs a DR stack's StackReference received (the primary synthesized as is)."""
    return dict(syn.primary_outputs) if syn.primary_outputs is not None else None


def run_preview(stack: str, overrides: Sequence[str] = ()) -> PreviewResult:
    syn = cached_synthesize(stack, overrides)
    violations = evaluate(syn.resources, syn.config, primary_outputs(syn))
    return PreviewResult(syn, violations, compute_budget(syn.config), estimate(syn))


# --------------------------------------------------------------------------- rendering


def render(result: PreviewResult, console: Console, details: bool = False) -> None:
    """The pulumi-preview-shaped view: tree, summary, outputs, policies, budget, cost."""
    syn = result.synthesis
    cfg = syn.config
    role = cfg.role + (f" / {cfg.strategy}" if cfg.strategy else "")
    console.print(Text(f"drctl preview: stack {syn.stack} ({role}, {cfg.region})", style="bold"))
    view.render_resources(syn, console, details)
    console.print(view.summary_line(syn))
    if not details:
        console.print(
            Text("inputs: --details; what a toggle changes: --set KEY=VALUE --diff", style="dim")
        )
    view.render_outputs(syn, console)
    view.render_policy(result, console)
    view.render_budget(result, console)
    view.render_cost(result, console, details, PRICES_AS_OF)


def run_diff(stack: str, overrides: Sequence[str], base: Sequence[str] = ()) -> StackDiff:
    """What the overrides change against the stack as shipped (plus ``base`` overrides:
    the previous phase, or values an operator has set once, ahead of any disaster)."""
    changed = cached_synthesize(stack, (*base, *overrides))
    return diff_syntheses(cached_synthesize(stack, base), changed, tuple(overrides), tuple(base))


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
        details: Annotated[
            bool, typer.Option("--details", help="Show every resource's inputs as key paths.")
        ] = False,
        diff: Annotated[
            bool,
            typer.Option(
                "--diff",
                help="Show only what the --set overrides change against the stack as shipped.",
            ),
        ] = False,
        base_set: Annotated[
            list[str] | None,
            typer.Option(
                "--base-set",
                help="With --diff: a key=value already set on both sides (the previous phase); "
                "repeatable.",
            ),
        ] = None,
    ) -> None:
        """Synthesize a stack offline: resources, outputs, policy verdicts, RTO/RPO budget, cost."""
        try:
            base = tuple(base_set or ())
            result = run_preview(stack, (*base, *(set_ or ())))
            stack_diff = run_diff(stack, tuple(set_ or ()), base) if diff else None
        except ConfigError as exc:
            Console(stderr=True, soft_wrap=True).print(
                f"[bold red]config error:[/] {escape(str(exc))}", highlight=False
            )
            raise typer.Exit(2) from None
        if stack_diff is not None:
            _print_diff(result, stack_diff, as_json)
        elif as_json:
            import sys

            sys.stdout.write(
                json.dumps(result.as_json(), indent=2, ensure_ascii=False, default=str)
            )
            sys.stdout.write("\n")
        else:
            render(result, view.make_console(), details)
        if result.mandatory:
            if not as_json:
                Console(stderr=True, soft_wrap=True).print(
                    f"[bold red]{len(result.mandatory)} mandatory policy violation(s)[/]",
                    highlight=False,
                )
            raise typer.Exit(1)


def _print_diff(result: PreviewResult, stack_diff: StackDiff, as_json: bool) -> None:
    if as_json:
        import sys

        payload = {**stack_diff.as_json(), "policy": [v.as_json() for v in result.violations]}
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    console = view.make_console()
    view.render_diff(stack_diff, console)
    view.render_policy(result, console)
    view.render_budget(result, console, plan_a=False)
