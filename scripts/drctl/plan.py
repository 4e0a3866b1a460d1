"""The DR plan document (seed 002 §7, seed 000 §7), generated from the code it describes.

Scenario steps come from the failover engine's step lists, detection from the shipped
alert rules, objectives from the budget model, roles and contacts from the stack config
(``drstack:contacts``), the component checklist from ``drctl status``'s checks. Nothing
here is a hand-written copy that could drift from what ``drctl failover`` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from drctl.failover.runner import Step
from drctl.failover.steps import failback_steps, failover_steps
from observability.rules import PRIMARY_DOWN, build_rules
from policy.budget import compute_budget
from stacks.config import StackConfig

# Seed 000 §2: the test cadence.
SCHEDULE = (
    ("component test", "monthly", "every DR component answers (`drctl status`)"),
    ("failover simulation", "quarterly", "`drctl failover`, then `drctl failback`, in a window"),
    ("full DR drill", "yearly", "the whole seed 000 §7 exercise with every role"),
    ("sandbox drill", "every CI run", "`make drill`: detection through Prometheus, RTO/RPO"),
)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    fault: str
    steps: Callable[[], Sequence[Step[Any]]] | None  # None: no regional recovery
    recovery: str = ""


def scenarios_for(cfg: StackConfig) -> list[Scenario]:
    if cfg.strategy == "pilot-light":
        return [
            Scenario(
                "pilot-light",
                "Seoul fails → restore the newest backup into Azure (seed 001)",
                "the Seoul region (app, database, backup job) is down",
                failover_steps,
                "promote_database creates MySQL Flexible Server and restores the newest good "
                "backup (`drstack:emergency`, then `enable_petclinic`)",
            )
        ]
    return [
        Scenario(
            "app-failure",
            "Primary application fails",
            "the Seoul app stops answering; its database is fine",
            None,
            "Kubernetes restarts the pods in Seoul; no regional failover",
        ),
        Scenario(
            "db-failure", "Primary database fails", "the Seoul RDS primary is down", failover_steps
        ),
        Scenario(
            "region-failure", "Seoul region fails", "every Seoul service is down", failover_steps
        ),
        Scenario("failback", "Fail back to Seoul", "Seoul is back (planned)", failback_steps),
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def _rule(cfg: StackConfig, name: str) -> dict[str, Any] | None:
    rules = build_rules(cfg)["groups"][0]["rules"]
    return next((r for r in rules if r["alert"] == name), None)


def _objectives(cfg: StackConfig) -> list[str]:
    lines = ["## Objectives and budget", ""]
    lines.append(
        f"- RTO objective: {cfg.objectives.rto_minutes:g} min; RPO objective: "
        f"{cfg.objectives.rpo_seconds:g} s (`drstack:objectives`)"
    )
    budget = compute_budget(cfg)
    if budget is not None:
        lines += [f"- worst case {line}" for line in budget.render().splitlines()]
    return [*lines, ""]


def _detection(cfg: StackConfig) -> list[str]:
    rules = build_rules(cfg)["groups"][0]["rules"]
    rows = [
        (f"`{r['alert']}`", r["labels"]["severity"], f"`{r['expr']}`", r.get("for", "0s"))
        for r in rules
    ]
    return [
        "## Detection",
        "",
        f"Prometheus rules `observability/rules/{cfg.stack}.rules.yml` (runbooks: README "
        "'Detection and alerting'). Route 53 health check "
        f"{cfg.dns.health_check.interval}s × {cfg.dns.health_check.failure_threshold} drives "
        "DNS; the primary-down alert drives the failover decision.",
        "",
        *_table(("alert", "severity", "expression", "for"), rows),
        "",
    ]


# The same steps drive an Aurora global database (drctl.failover.aurora).
AURORA_STEPS = {
    "failover": "On `aurora-mysql` the database steps act on the global database: "
    "`promote_database` sends FailoverGlobalCluster (AllowDataLoss) to the DR region and "
    "waits until its cluster is the writer; `--mode planned` uses SwitchoverGlobalCluster "
    "instead (Aurora fences and syncs, RPO 0).",
    "failback": "On `aurora-mysql` nothing is created: `start_reverse_replication` and "
    "`wait_reverse_sync` wait until Aurora has re-attached the old primary cluster as a "
    "secondary, and `promote_primary` switches the writer back with SwitchoverGlobalCluster.",
}


def _scenario(cfg: StackConfig, number: int, sc: Scenario) -> list[str]:
    down = _rule(cfg, PRIMARY_DOWN)
    detection = (
        "planned: no alert"
        if sc.key == "failback"
        else f"`{PRIMARY_DOWN}` after {down['for'] if down else '?'} of failed probes"
    )
    lines = [
        f"### {number}. {sc.title} (`{sc.key}`)",
        "",
        f"- fault: {sc.fault}",
        f"- detection: {detection}",
    ]
    if sc.recovery:
        lines.append(f"- recovery: {sc.recovery}")
    if sc.steps is None:
        return [*lines, ""]
    kind = "failback" if sc.steps is failback_steps else "failover"
    lines += ["", f"Steps (`drctl {kind} --to {cfg.stack}`; resumable, each idempotent):", ""]
    lines += [f"{i}. `{s.name}` — {s.summary}" for i, s in enumerate(sc.steps(), start=1)]
    if cfg.rds.engine == "aurora-mysql":
        lines += ["", AURORA_STEPS[kind]]
    return [*lines, ""]


def _roles(cfg: StackConfig) -> list[str]:
    lines = ["## Roles, responsibilities and contacts", ""]
    if not cfg.contacts:
        return [
            *lines,
            f"No contacts configured: set `drstack:contacts` in Pulumi.{cfg.stack}.yaml.",
            "",
        ]
    rows = [(c.role, c.owner, c.duties, c.contact) for c in cfg.contacts]
    return [*lines, *_table(("role", "owner", "responsibilities", "contact"), rows), ""]


def _checklists(cfg: StackConfig) -> list[str]:
    from drctl.status_checks import all_checks

    lines = ["## Checklists", "", "### Component test (`drctl status`)", ""]
    lines += [f"- [ ] {name}" for name, _check in all_checks()]
    for title, steps in (("Failover", failover_steps), ("Failback", failback_steps)):
        lines += ["", f"### {title} test", ""]
        lines += [f"- [ ] `{s.name}`: {s.summary} (timeline time recorded)" for s in steps()]
    lines += [
        "",
        "### After every test",
        "",
        f"- [ ] RTO measured vs {cfg.objectives.rto_minutes:g} min, RPO vs "
        f"{cfg.objectives.rpo_seconds:g} s (`drctl report`)",
        "- [ ] config toggles set so `pulumi up` matches reality",
        "",
    ]
    return lines


def render_plan(cfg: StackConfig) -> str:
    lines = [
        f"# DR plan — `{cfg.stack}` ({cfg.strategy}, DR for `{cfg.primary_stack}`)",
        "",
        f"Generated by `drctl plan --stack {cfg.stack}` from Pulumi.{cfg.stack}.yaml and the "
        "drctl code; regenerate instead of editing.",
        "",
        *_objectives(cfg),
        *_detection(cfg),
        "## Scenarios",
        "",
    ]
    for number, sc in enumerate(scenarios_for(cfg), start=1):
        lines += _scenario(cfg, number, sc)
    lines += _roles(cfg)
    lines += ["## Test schedule", "", *_table(("test", "when", "what"), SCHEDULE), ""]
    lines += _checklists(cfg)
    return "\n".join(lines)
