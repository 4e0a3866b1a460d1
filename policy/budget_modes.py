"""Budgets per failover mode and database engine, and seed 001's Plan A check.

``policy.budget.compute_budget`` is the unplanned failover of the configured stack
(what an outage costs). This module adds, for a warm standby:

* the **planned switchover** (``drctl failover --mode planned``): fence + drain +
  promote + DNS (+ scale-up at a reduced standby); its RPO term is 0, because the
  replica applied every committed write before it was promoted;
* the **Aurora Global Database** terms: ``FailoverGlobalCluster`` (unplanned, RPO = the
  lag budget) and ``SwitchoverGlobalCluster`` (planned, RPO 0; Aurora fences and drains
  itself), with dated sources in ``policy.budget.CONSTANTS``;
* :func:`plan_a_rows`: which (engine, mode) of this configuration meets seed 001's
  Plan A (RTO 5 min / RPO 1 min).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from policy.budget import Budget, Term, _Values, compute_budget, fmt_seconds

if TYPE_CHECKING:
    from stacks.config import StackConfig

PLAN_A_RTO_SECONDS = 300.0  # seed 001 "Plan A vs Plan B": RTO 5분
PLAN_A_RPO_SECONDS = 60.0  # RPO 1분
ENGINES = ("mysql", "aurora-mysql")
MODES = ("unplanned", "planned")


def _aurora_term(v: _Values, name: str, label: str) -> Term:
    return v.term(name, label, v(name), source=v.source(name))


def _with_engine(cfg: StackConfig, engine: str) -> StackConfig:
    """The same stack on another engine (a what-if row); compute_budget reads rds.engine."""
    return replace(cfg, rds=replace(cfg.rds, engine=engine))


def _planned(cfg: StackConfig, base: Budget, engine: str) -> Budget:
    v = _Values(cfg.budget)
    dns = [t for t in base.rto_terms if t.key in ("dns_detection", "dns_ttl")]
    scale = [t for t in base.rto_terms if t.key == "eks_scale_up"]
    if engine == "aurora-mysql":
        # SwitchoverGlobalCluster synchronises the secondary itself before swapping roles.
        database = [_aurora_term(v, "aurora_global_switchover", "Aurora switchover")]
    else:
        database = [
            v.term("fence_writes", "fence", v("fence_writes"), source=v.source("fence_writes")),
            v.term("drain_timeout", "drain", v("drain_timeout"), source=v.source("drain_timeout")),
            v.term(
                "rds_promotion", "promote", v("rds_promotion"), source=v.source("rds_promotion")
            ),
        ]
    rpo = Term(
        "planned_rpo",
        "planned (fenced, drained)",
        0.0,
        "0s",
        "the replica applied every write the fenced primary committed before promotion; "
        "otherwise the run refuses",
    )
    return replace(base, rto_terms=(*database, *dns, *scale), rpo_terms=(rpo,))


def mode_budget(cfg: StackConfig, mode: str = "unplanned", engine: str = "mysql") -> Budget | None:
    """The worst case of one (engine, mode) for this configuration; None when the stack
    has no such path (a primary, or the pilot light, which has no replica to switch to)."""
    if mode not in MODES or engine not in ENGINES:
        return None
    if cfg.strategy != "warm-standby":
        # The pilot light restores dumps: one path, whatever the primary's engine.
        return compute_budget(cfg) if (mode, engine) == ("unplanned", "mysql") else None
    # compute_budget is the unplanned failover of the engine it is given.
    base = compute_budget(_with_engine(cfg, engine))
    if base is None:
        return None
    return base if mode == "unplanned" else _planned(cfg, base, engine)


@dataclass(frozen=True)
class PlanARow:
    engine: str
    mode: str
    configured: bool  # this stack's engine, or a what-if
    budget: Budget

    @property
    def meets(self) -> bool:
        return (
            self.budget.rto_seconds <= PLAN_A_RTO_SECONDS
            and self.budget.rpo_seconds <= PLAN_A_RPO_SECONDS
        )

    def line(self) -> str:
        b = self.budget
        rto_terms = " + ".join(t.render() for t in b.rto_terms)
        verdict = "meets Plan A ✓" if self.meets else "misses Plan A ✗"
        what_if = "" if self.configured else " (what-if)"
        return (
            f"{self.engine}, {self.mode}{what_if}: RTO {rto_terms} = {fmt_seconds(b.rto_seconds)}"
            f", RPO {fmt_seconds(b.rpo_seconds)} → {verdict}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "mode": self.mode,
            "configured": self.configured,
            "rto_seconds": self.budget.rto_seconds,
            "rpo_seconds": self.budget.rpo_seconds,
            "rto_terms": [t.as_json() for t in self.budget.rto_terms],
            "rpo_terms": [t.as_json() for t in self.budget.rpo_terms],
            "meets_plan_a": self.meets,
        }


def plan_a_rows(cfg: StackConfig, engine: str | None = None) -> list[PlanARow]:
    """Every (engine, mode) this stack could run, checked against Plan A (seed 001);
    ``engine`` (default: the stack's rds.engine) marks the configured rows."""
    engine = engine or cfg.rds.engine
    rows = []
    for candidate in ENGINES:
        for mode in MODES:
            budget = mode_budget(cfg, mode, candidate)
            if budget is not None:
                rows.append(PlanARow(candidate, mode, candidate == engine, budget))
    return rows
