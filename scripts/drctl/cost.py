"""`drctl cost`: seed 001's Plan A vs Plan B table, computed from the shipped stacks.

Plan A = the primary + the warm-standby stack (``tokyo``); Plan B = the primary + the
pilot-light stack (``azure-pilot``). Every figure comes from synthesizing the stacks and
pricing what they declare (``policy/pricing.py``):

- normal-time monthly: the stacks as shipped;
- one emergency of N hours (default 4): the DR stack with its emergency toggles on,
  minus the DR stack as shipped, prorated to N hours (warm standby: force_failover +
  promote_replica + the DR node group scaled to the primary's size; pilot light:
  force_failover + emergency + enable_petclinic);
- per year: 12 × (monthly + drills per month × one emergency), one drill a month as the
  seed counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from drctl.preview import cached_synthesize
from drctl.synth import PROJECT_DIR, load_stack_file, primary_stack_file
from policy.pricing import (
    ASSUMED_USAGE,
    AURORA_ASSUMPTIONS,
    AURORA_PRICES_AS_OF,
    HOURS_PER_MONTH,
    PRICES_AS_OF,
    Cost,
    estimate,
)
from stacks.config import ConfigError

# Offline stand-ins for the values seed 001 says to set once, ahead of any disaster
# (a secret and an SSH key are never shipped in the stack file).
# A real Ed25519 public key whose private half was never kept (the config parses keys).
PLACEHOLDER_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJUQshz6+gq7XDm+pDZ9ObFDyoxE3/hZ0NS2euSyIQUQ drstack-offline-placeholder"
PLACEHOLDER_SECRET = "mysql_admin_password={secure: offline-placeholder}"


def prerequisite_overrides(stack: str) -> list[str]:
    """What an emergency synthesis of ``stack`` needs that the stack file leaves unset."""
    raw = load_stack_file(stack, PROJECT_DIR)
    out = []
    if "drstack:mysql_admin_password" not in raw:
        out.append(PLACEHOLDER_SECRET)
    azure = raw.get("drstack:azure") or {}
    if not (isinstance(azure, dict) and azure.get("ssh_public_key")):
        out.append(f"azure.ssh_public_key={PLACEHOLDER_SSH_KEY}")
    return out


def emergency_overrides(stack: str) -> list[str]:
    """The toggles of a full emergency for a DR stack, derived from its strategy."""
    cfg = cached_synthesize(stack).config
    if cfg.strategy == "warm-standby":
        primary = cached_synthesize(primary_stack_file(cfg.primary_stack)).config
        desired = min(max(primary.eks.desired_size, cfg.eks.desired_size), cfg.eks.max_size)
        return ["force_failover=true", "promote_replica=true", f"eks.desired_size={desired}"]
    if cfg.strategy == "pilot-light":
        return [
            "force_failover=true",
            "emergency=true",
            "enable_petclinic=true",
            *prerequisite_overrides(stack),
        ]
    return []


@dataclass
class PlanCost:
    label: str
    primary: Cost
    dr: Cost
    dr_emergency: Cost
    hours: float
    drills_per_month: float

    @property
    def normal_monthly(self) -> float:
        return self.primary.monthly_usd + self.dr.monthly_usd

    @property
    def emergency(self) -> float:
        extra = self.dr_emergency.monthly_usd - self.dr.monthly_usd
        return max(extra, 0.0) / HOURS_PER_MONTH * self.hours

    @property
    def monthly_with_drills(self) -> float:
        return self.normal_monthly + self.drills_per_month * self.emergency

    @property
    def yearly(self) -> float:
        return 12 * self.monthly_with_drills

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "stacks": [self.primary.stack, self.dr.stack],
            "normal_monthly_usd": round(self.normal_monthly, 2),
            "per_stack_monthly_usd": {
                self.primary.stack: round(self.primary.monthly_usd, 2),
                self.dr.stack: round(self.dr.monthly_usd, 2),
            },
            "emergency_hours": self.hours,
            "emergency_usd": round(self.emergency, 2),
            "monthly_with_drills_usd": round(self.monthly_with_drills, 2),
            "yearly_usd": round(self.yearly, 2),
        }


def plan_cost(
    label: str,
    dr_stack: str,
    hours: float,
    drills_per_month: float,
    overrides: tuple[str, ...] = (),
) -> PlanCost:
    dr = cached_synthesize(dr_stack, overrides)
    primary = cached_synthesize(primary_stack_file(dr.config.primary_stack))
    emergency = cached_synthesize(dr_stack, (*overrides, *emergency_overrides(dr_stack)))
    return PlanCost(
        label, estimate(primary), estimate(dr), estimate(emergency), hours, drills_per_month
    )


def full_standby_cost(dr_stack: str, hours: float, drills_per_month: float) -> PlanCost:
    """Plan A with ``standby_scale: full``: the standby priced at the primary's size
    every month (no scale-up term in the RTO budget)."""
    from drctl.standby_scale import full_size_overrides

    dr = cached_synthesize(dr_stack).config
    primary = cached_synthesize(primary_stack_file(dr.primary_stack)).config
    overrides = tuple(full_size_overrides(dr, primary))
    return plan_cost("A full", dr_stack, hours, drills_per_month, overrides)


def aurora_standby_cost(dr_stack: str, hours: float, drills_per_month: float) -> PlanCost | None:
    """Plan A on an Aurora global database with a full standby (the example stack
    ``tokyo-aurora`` and its primary), or None when that stack file is not there."""
    if not (PROJECT_DIR / f"Pulumi.{dr_stack}.yaml").exists():
        return None
    return plan_cost("A Aurora full", dr_stack, hours, drills_per_month)


def aurora_assumption_lines() -> list[str]:
    """The Aurora prices and volumes `drctl cost` assumes, each with its source."""
    lines = [f"Aurora prices are assumptions (as of {AURORA_PRICES_AS_OF}), with their sources:"]
    lines += [
        f"  {key} = {value:g}: {source}" for key, (value, source) in AURORA_ASSUMPTIONS.items()
    ]
    lines += [
        f"  {key} = {ASSUMED_USAGE[key][0]:g}: {ASSUMED_USAGE[key][1]} (assumed volume)"
        for key in ("aurora_io_million", "aurora_write_io_million")
    ]
    return lines


def _usd(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def render(
    a: PlanCost,
    b: PlanCost,
    console: Console,
    full: PlanCost | None = None,
    aurora: PlanCost | None = None,
) -> None:
    table = Table(
        title=f"Plan A vs Plan B (USD, on-demand list prices as of {PRICES_AS_OF}; computed "
        "from the synthesized stacks)"
    )
    table.add_column("item")
    table.add_column(
        f"Plan A (RDS replica, reduced: {a.primary.stack} + {a.dr.stack})", justify="right"
    )
    if full is not None:
        table.add_column("Plan A, full standby", justify="right")
    if aurora is not None:
        table.add_column(
            f"Plan A, Aurora, full standby ({aurora.primary.stack} + {aurora.dr.stack})",
            justify="right",
        )
    table.add_column(f"Plan B ({b.primary.stack} + {b.dr.stack})", justify="right")
    table.add_column("saving (A − B)", justify="right")
    hours = f"{a.hours:g}"
    drills = f"{a.drills_per_month:g}"

    def figures(p: PlanCost) -> list[float]:
        return [
            p.normal_monthly,
            p.primary.monthly_usd,
            p.dr.monthly_usd,
            p.emergency,
            p.monthly_with_drills,
            p.yearly,
        ]

    items = [
        "normal-time monthly",
        "  of which the primary stack",
        "  of which the DR stack",
        f"one {hours}-hour emergency",
        f"monthly with {drills} drill(s)",
        "per year",
    ]
    optional = [p for p in (full, aurora) if p is not None]
    middle = [figures(p) for p in optional]
    for row, (item, va, vb) in enumerate(zip(items, figures(a), figures(b), strict=True)):
        table.add_row(item, _usd(va), *(_usd(m[row]) for m in middle), _usd(vb), _usd(va - vb))
    console.print(table)
    if a.yearly > 0:
        console.print(f"yearly saving of Plan B: {(a.yearly - b.yearly) / a.yearly:.0%}")
    if full is not None:
        console.print(
            f"full standby (standby_scale: full, DR at the primary's size): "
            f"+{_usd(full.dr.monthly_usd - a.dr.monthly_usd)} per month; it takes the "
            "scale-up term out of the RTO budget (drctl preview)"
        )
    if aurora is not None:
        console.print(
            f"Aurora full standby: {_usd(aurora.normal_monthly)} per month against "
            f"{_usd(a.normal_monthly)} for the RDS replica at reduced scale; it meets seed 001's "
            "Plan A (RTO 5 min / RPO 1 min, drctl preview)"
        )
        for line in aurora_assumption_lines():
            console.print(line, highlight=False)
    plans = [a, b, *optional]
    unpriced = sorted({line.type for p in plans for c in (p.primary, p.dr) for line in c.unpriced})
    if unpriced:
        console.print(f"[yellow]not priced (counted as $0):[/] {', '.join(unpriced)}")


def register(app: typer.Typer) -> None:
    @app.command("cost")
    def cost(
        plan_a: Annotated[str, typer.Option(help="Warm-standby DR stack (Plan A).")] = "tokyo",
        plan_b: Annotated[str, typer.Option(help="Pilot-light DR stack (Plan B).")] = "azure-pilot",
        hours: Annotated[float, typer.Option(help="Length of one emergency/drill, hours.")] = 4.0,
        drills_per_month: Annotated[float, typer.Option(help="Drills per month.")] = 1.0,
        plan_a_aurora: Annotated[
            str, typer.Option(help="Warm-standby DR stack on Aurora (Plan A, Aurora).")
        ] = "tokyo-aurora",
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Seed 001's Plan A vs Plan B cost table: monthly, one emergency, per year."""
        try:
            a = plan_cost("A", plan_a, hours, drills_per_month)
            full = full_standby_cost(plan_a, hours, drills_per_month)
            aurora = aurora_standby_cost(plan_a_aurora, hours, drills_per_month)
            b = plan_cost("B", plan_b, hours, drills_per_month)
        except ConfigError as exc:
            from rich.markup import escape

            Console(stderr=True, soft_wrap=True).print(
                f"[bold red]config error:[/] {escape(str(exc))}", highlight=False
            )
            raise typer.Exit(2) from None
        if as_json:
            import json
            import sys

            data = {
                "prices_as_of": PRICES_AS_OF,
                "plan_a": a.as_json(),
                "plan_a_full_standby": full.as_json(),
                "plan_a_aurora_full_standby": aurora.as_json() if aurora else None,
                "aurora_price_assumptions": {
                    "as_of": AURORA_PRICES_AS_OF,
                    **{
                        k: {"value": v, "source": src} for k, (v, src) in AURORA_ASSUMPTIONS.items()
                    },
                },
                "plan_b": b.as_json(),
                "yearly_saving_usd": round(a.yearly - b.yearly, 2),
            }
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
            return
        render(a, b, Console(soft_wrap=True), full, aurora)
