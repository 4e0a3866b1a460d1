"""The RTO/RPO budget model: what a DR stack's configuration can achieve, worst case.

One module, shared by the ``rto-rpo-budget`` policy, ``drctl preview`` and the drill
report. It is a pure function of the typed :class:`~stacks.config.StackConfig`.

Warm standby (``tokyo``), worst case::

    RTO = health-check interval × failure threshold + record TTL
          + replica promotion + scale-up of the DR compute
    RPO = the replica-lag budget (rds.max_lag_seconds)

Pilot light (``azure-pilot``), worst case, phases run one after another as the seed 001
runbook runs them::

    RTO = provisioning (MySQL Flexible Server + VMs + Application Gateway + app deploy)
          + restore of the latest dump + switch-over (DNS detection + TTL + gateway rule)
    RPO = backup interval + time to dump, compress and upload one backup
    RPO (backup.binlog_archive on) = binlog flush interval + upload of one segment
          + detection of a dead archiver

Every constant that is not in the stack config lives in :data:`CONSTANTS`, with its
source and the date it was checked. A stack overrides any constant, or any whole term,
by name with a measured figure through ``drstack:budget`` (e.g. ``budget:
{rds_promotion: 420}``); :func:`known_budget_names` is what config validation accepts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # keep this module importable without Pulumi for the config layer
    from stacks.config_schema import StackConfig

CHECKED = "2026-11-22"
MB_PER_GB = 1024


@dataclass(frozen=True)
class Constant:
    name: str
    value: float
    unit: str
    what: str
    source: str
    checked: str = CHECKED


def _c(name: str, value: float, unit: str, what: str, source: str) -> tuple[str, Constant]:
    return name, Constant(name, value, unit, what, source)


# The one table. Documentation figures are the slow end of what the page states
# (a budget is a worst case); measured figures cite where they were measured.
CONSTANTS: dict[str, Constant] = dict(
    [
        _c(
            "rds_promotion",
            600,
            "s",
            "promote an RDS MySQL cross-region read replica to a standalone instance",
            "AWS RDS User Guide, 'Working with DB instance read replicas' > 'Promoting a read "
            "replica to be a standalone DB instance' (promotion takes several minutes; the "
            "instance reboots)",
        ),
        _c(
            "eks_scale_up",
            180,
            "s",
            "launch and join new EKS managed-node-group nodes to absorb full traffic",
            "Amazon EKS Best Practices Guide, 'Cluster Autoscaling' (new nodes take minutes to "
            "launch, boot and become Ready); EKS User Guide 'Managed node groups'",
        ),
        _c(
            "mysql_flexible_create",
            900,
            "s",
            "create an Azure Database for MySQL Flexible Server",
            "Azure docs, 'Quickstart: Create an instance of Azure Database for MySQL - "
            "Flexible Server' (deployment takes several minutes, up to ~15)",
        ),
        _c(
            "vm_create",
            300,
            "s",
            "create and boot the web/WAS Linux VMs (created in parallel)",
            "Azure docs, 'Quickstart: Create a Linux virtual machine in the Azure portal' "
            "(deployment takes a few minutes)",
        ),
        _c(
            "appgw_create",
            600,
            "s",
            "create an Application Gateway Standard_v2",
            "Azure docs, 'What is Azure Application Gateway v2?' (faster deployment than v1, "
            "typically under 10 minutes) and 'Quickstart: Direct web traffic with Azure "
            "Application Gateway'",
        ),
        _c(
            "app_deploy",
            300,
            "s",
            "install and start PetClinic on the WAS VM (cloud-init, JVM start)",
            "seed 001 phase 3 (deploy-petclinic.sh); replace with a measured drill figure",
        ),
        _c(
            "appgw_update",
            300,
            "s",
            "switch the gateway rule from the maintenance page to PetClinic",
            "Azure docs, 'Application Gateway v2' (configuration updates take minutes)",
        ),
        _c(
            "restore_mb_s",
            35,
            "MB/s",
            "restore throughput of a streamed dump into MySQL (server-bound)",
            "drstack DESIGN.md 'Measured facts' (2 cores, 1 GB MariaDB dump)",
        ),
        _c(
            "dump_mb_s_zstd",
            175,
            "MB/s",
            "dump+compress throughput, zstd level 1 (raw bytes/s): ~70% of the 250 MB/s dump",
            "drstack DESIGN.md 'Measured facts'",
        ),
        _c(
            "dump_mb_s_gzip",
            30,
            "MB/s",
            "dump+compress throughput, gzip level 6 (raw bytes/s): ~12% of the 250 MB/s dump",
            "drstack DESIGN.md 'Measured facts'",
        ),
        _c(
            "compression_ratio",
            2.4,
            "×",
            "raw/compressed size of a MySQL dump (the lower of zstd-1 and gzip-6)",
            "drstack DESIGN.md 'Measured facts' (2.4× vs 2.5×)",
        ),
        _c(
            "binlog_segment_mb",
            16,
            "MB",
            "largest binlog segment drctl binlog-archive uploads in one Put Blob",
            "drctl binlog-archive --max-segment-mb default",
        ),
        _c(
            "binlog_dead_archiver_detection",
            90,
            "s",
            "a stopped archiver's status blob goes stale (3 × its 30 s status interval)",
            "drctl.binlog.archiver status_seconds; the DrstackBinlogArchiverBehind alert",
        ),
        _c(
            "blob_upload_mb_s",
            62.9,
            "MB/s",
            "upload throughput into one block blob (60 MiB/s)",
            "Azure docs, 'Scalability and performance targets for Blob storage' (target "
            "throughput for a single blob)",
        ),
        # Issue 11 terms: Aurora Global Database and the planned switchover (policy/budget_modes.py).
        (
            "aurora_global_failover",
            Constant(
                "aurora_global_failover",
                60,
                "s",
                "FailoverGlobalCluster (AllowDataLoss): promote the Aurora secondary cluster",
                "AWS Well-Architected Labs, DR workshop 'Aurora' failover page and the AWS "
                "Disaster Recovery workshop 'Aurora - Global Database' (a secondary Region takes "
                "full read/write in under a minute)",
                "2026-11-29",
            ),
        ),
        (
            "aurora_global_switchover",
            Constant(
                "aurora_global_switchover",
                120,
                "s",
                "SwitchoverGlobalCluster: synchronise, then swap primary and secondary (RPO 0)",
                "AWS RDS API Reference 'SwitchoverGlobalCluster' (unavailable 'for a short time', "
                "no figure documented): 2 × the failover figure until a drill measures it",
                "2026-11-29",
            ),
        ),
        (
            "fence_writes",
            Constant(
                "fence_writes",
                120,
                "s",
                "make the primary database read-only (planned switchover)",
                "drctl's bound on RDS: read_only=1 through the primary's DB parameter group, "
                "waited for until the instance shows it in-sync and SELECT @@GLOBAL.read_only "
                "returns 1 (RdsParameterGroupFence apply timeout); the sandbox's injected "
                "apply states take under 1 s",
                "2026-11-29",
            ),
        ),
        (
            "drain_timeout",
            Constant(
                "drain_timeout",
                300,
                "s",
                "planned switchover: longest wait for the replica to apply the fenced "
                "primary's last write (past it the run refuses and unfences)",
                "drctl failover --drain-timeout default; on RDS it waits until the replica "
                "executed the fenced primary's binlog position (seconds when replication "
                "keeps up)",
                "2026-11-29",
            ),
        ),
    ]
)

# Whole terms a stack may override with a measured figure (seconds), besides constants.
TERM_NAMES: tuple[str, ...] = (
    "dns_detection",
    "dns_ttl",
    "provisioning",
    "restore",
    "switch_over",
    "backup_upload",
    "binlog_segment_upload",
    "binlog_flush",
    "binlog_dead_archiver",
)
# Sizes a stack may state instead of the worst case its storage allows.
SIZE_NAMES: tuple[str, ...] = ("database_size_gb",)


def known_budget_names() -> tuple[str, ...]:
    return (*CONSTANTS, *TERM_NAMES, *SIZE_NAMES)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Term:
    key: str
    label: str
    seconds: float
    detail: str  # how it is shown, e.g. "10s×3" or "600s"
    source: str = ""

    def render(self) -> str:
        return f"{self.label} {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "seconds": self.seconds,
            "detail": self.detail,
            "source": self.source,
        }


def fmt_seconds(value: float) -> str:
    if abs(value - round(value)) < 0.05 or value >= 100:
        return f"{round(value):d}s"
    return f"{value:.1f}s"


@dataclass(frozen=True)
class Budget:
    stack: str
    strategy: str
    rto_terms: tuple[Term, ...]
    rpo_terms: tuple[Term, ...]
    rto_objective_seconds: float
    rpo_objective_seconds: float
    overrides: Mapping[str, float]

    @property
    def rto_seconds(self) -> float:
        return sum(t.seconds for t in self.rto_terms)

    @property
    def rpo_seconds(self) -> float:
        return sum(t.seconds for t in self.rpo_terms)

    @property
    def rto_fits(self) -> bool:
        return self.rto_seconds <= self.rto_objective_seconds

    @property
    def rpo_fits(self) -> bool:
        return self.rpo_seconds <= self.rpo_objective_seconds

    @property
    def fits(self) -> bool:
        return self.rto_fits and self.rpo_fits

    @staticmethod
    def _line(terms: tuple[Term, ...], total: float, objective: float) -> str:
        ok = total <= objective
        sign, mark = ("≤", "✓") if ok else (">", "✗")
        body = " + ".join(t.render() for t in terms)
        return f"{body} = {fmt_seconds(total)} {sign} objective {fmt_seconds(objective)} {mark}"

    def rto_line(self) -> str:
        return self._line(self.rto_terms, self.rto_seconds, self.rto_objective_seconds)

    def rpo_line(self) -> str:
        return self._line(self.rpo_terms, self.rpo_seconds, self.rpo_objective_seconds)

    def render(self) -> str:
        """Two lines, term by term, e.g.
        ``RTO: DNS 10s×3 + TTL 60s + promote 600s + scale-up 180s = 870s ≤ objective 1800s ✓``
        """
        return f"RTO: {self.rto_line()}\nRPO: {self.rpo_line()}"

    def breaches(self) -> list[str]:
        """One message per breached objective, naming every term and the largest ones."""
        out = []
        for what, terms, total, objective, fits in (
            ("RTO", self.rto_terms, self.rto_seconds, self.rto_objective_seconds, self.rto_fits),
            ("RPO", self.rpo_terms, self.rpo_seconds, self.rpo_objective_seconds, self.rpo_fits),
        ):
            if fits:
                continue
            line = self._line(terms, total, objective)
            biggest = sorted(terms, key=lambda t: t.seconds, reverse=True)[:2]
            names = " and ".join(f"{t.label} ({t.key})" for t in biggest)
            out.append(
                f"{what} budget breached: {line}; the largest terms are {names}"
                f" ({fmt_seconds(total - objective)} over)"
            )
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "strategy": self.strategy,
            "rto": {
                "terms": [t.as_json() for t in self.rto_terms],
                "seconds": self.rto_seconds,
                "objective_seconds": self.rto_objective_seconds,
                "fits": self.rto_fits,
                "line": self.rto_line(),
            },
            "rpo": {
                "terms": [t.as_json() for t in self.rpo_terms],
                "seconds": self.rpo_seconds,
                "objective_seconds": self.rpo_objective_seconds,
                "fits": self.rpo_fits,
                "line": self.rpo_line(),
            },
            "fits": self.fits,
            "overrides": dict(self.overrides),
        }


class _Values:
    """Constants with the stack's ``budget`` overrides applied."""

    def __init__(self, overrides: Mapping[str, float]) -> None:
        self.overrides = dict(overrides)

    def __call__(self, name: str) -> float:
        if name in self.overrides:
            return float(self.overrides[name])
        return CONSTANTS[name].value

    def source(self, name: str) -> str:
        if name in self.overrides:
            return "measured (drstack:budget override)"
        return CONSTANTS[name].source

    def term(
        self, key: str, label: str, seconds: float, detail: str | None = None, source: str = ""
    ) -> Term:
        """A term; a ``budget`` override of the whole term replaces the computed value."""
        if key in self.overrides:
            value = float(self.overrides[key])
            return Term(key, label, value, fmt_seconds(value), "measured (drstack:budget override)")
        return Term(key, label, seconds, detail or fmt_seconds(seconds), source)


def _dns_terms(cfg: StackConfig, v: _Values) -> list[Term]:
    hc = cfg.dns.health_check
    return [
        v.term(
            "dns_detection",
            "DNS",
            float(hc.interval * hc.failure_threshold),
            f"{hc.interval}s×{hc.failure_threshold}",
            "config dns.health_check.interval × dns.health_check.failure_threshold",
        ),
        v.term("dns_ttl", "TTL", float(cfg.dns.ttl), source="config dns.ttl"),
    ]


def _warm_standby(cfg: StackConfig, v: _Values) -> tuple[list[Term], list[Term]]:
    rto = [
        *_dns_terms(cfg, v),
        _promotion_term(cfg, v),
        v.term("eks_scale_up", "scale-up", v("eks_scale_up"), source=v.source("eks_scale_up")),
    ]
    if cfg.standby_scale == "full":
        # The standby already runs at production size: nothing to scale up (its monthly
        # cost is what `drctl cost` shows instead).
        rto = [t for t in rto if t.key != "eks_scale_up"]
    rpo = [
        v.term(
            "replica_lag",
            "global database lag" if cfg.rds.engine == "aurora-mysql" else "replica lag",
            float(cfg.rds.max_lag_seconds),
            source="config rds.max_lag_seconds",
        )
    ]
    return rto, rpo


def _promotion_term(cfg: StackConfig, v: _Values) -> Term:
    """The unplanned promotion of the configured engine (rds.engine)."""
    if cfg.rds.engine == "aurora-mysql":
        # FailoverGlobalCluster with AllowDataLoss: Aurora's managed failover.
        name = "aurora_global_failover"
        return v.term(name, "Aurora failover", v(name), source=v.source(name))
    return v.term("rds_promotion", "promote", v("rds_promotion"), source=v.source("rds_promotion"))


def database_size_gb(cfg: StackConfig, v: _Values) -> float:
    """Worst case: the database fills the Flexible Server storage it must fit into."""
    if "database_size_gb" in v.overrides:
        return float(v.overrides["database_size_gb"])
    return float(cfg.azure.mysql_storage_gb)


def _pilot_light(cfg: StackConfig, v: _Values) -> tuple[list[Term], list[Term]]:
    size_mb = database_size_gb(cfg, v) * MB_PER_GB
    size_txt = f"{database_size_gb(cfg, v):g}GB"
    provisioning_parts = ("mysql_flexible_create", "vm_create", "appgw_create", "app_deploy")
    provisioning = sum(v(p) for p in provisioning_parts)
    restore_rate = v("restore_mb_s")
    hc = cfg.dns.health_check
    switch = hc.interval * hc.failure_threshold + cfg.dns.ttl + v("appgw_update")
    rto = [
        v.term(
            "provisioning",
            "provision",
            provisioning,
            f"({' + '.join(fmt_seconds(v(p)) for p in provisioning_parts)}) {fmt_seconds(provisioning)}",
            "MySQL Flexible Server + VMs + Application Gateway + app deploy: "
            + "; ".join(v.source(p) for p in provisioning_parts),
        ),
        v.term(
            "restore",
            "restore",
            size_mb / restore_rate,
            f"{size_txt}@{restore_rate:g}MB/s {fmt_seconds(size_mb / restore_rate)}",
            v.source("restore_mb_s"),
        ),
        v.term(
            "switch_over",
            "switch-over",
            float(switch),
            f"(DNS {hc.interval}s×{hc.failure_threshold} + TTL {cfg.dns.ttl}s + gateway "
            f"{fmt_seconds(v('appgw_update'))}) {fmt_seconds(switch)}",
            "config dns.* + " + v.source("appgw_update"),
        ),
    ]
    rpo = _binlog_rpo_terms(cfg, v) if cfg.backup.binlog_archive else _dump_rpo_terms(cfg, v)
    return rto, rpo


def _binlog_rpo_terms(cfg: StackConfig, v: _Values) -> list[Term]:
    """Archiving on: the newest archived event is at most one flush interval plus one
    segment upload old; a dead archiver is noticed (alert) within its detection time.
    Dump size no longer enters the RPO (it still bounds the restore, an RTO term)."""
    flush = float(cfg.backup.binlog_flush_seconds)
    upload = v("binlog_segment_mb") / v("blob_upload_mb_s")
    return [
        v.term(
            "binlog_flush",
            "binlog flush",
            flush,
            fmt_seconds(flush),
            source="config backup.binlog_flush_seconds",
        ),
        v.term(
            "binlog_segment_upload",
            "segment upload",
            upload,
            f"{v('binlog_segment_mb'):g}MB@{v('blob_upload_mb_s'):g}MB/s {fmt_seconds(upload)}",
            f"{v.source('binlog_segment_mb')}; {v.source('blob_upload_mb_s')}",
        ),
        v.term(
            "binlog_dead_archiver",
            "dead archiver detected",
            v("binlog_dead_archiver_detection"),
            fmt_seconds(v("binlog_dead_archiver_detection")),
            v.source("binlog_dead_archiver_detection"),
        ),
    ]


def _dump_rpo_terms(cfg: StackConfig, v: _Values) -> list[Term]:
    size_mb = database_size_gb(cfg, v) * MB_PER_GB
    size_txt = f"{database_size_gb(cfg, v):g}GB"
    dump_rate = v(f"dump_mb_s_{cfg.backup.format}")
    upload_raw_rate = v("blob_upload_mb_s") * v("compression_ratio")
    rate = min(dump_rate, upload_raw_rate)
    interval = cfg.backup.interval_minutes * 60.0
    job = size_mb / rate
    # The CronJob forbids overlapping runs, so a dump longer than the interval skips
    # ticks: backups then land every ceil(job / interval) intervals.
    ticks = max(1, math.ceil(job / interval))
    rpo = [
        v.term(
            "backup_interval",
            "backup every",
            interval * ticks,
            fmt_seconds(interval * ticks)
            + (f" ({ticks} ticks: a dump outlasts the interval)" if ticks > 1 else ""),
            source="config backup.interval_minutes (+ skipped ticks while a dump runs)",
        ),
        v.term(
            "backup_upload",
            "dump+upload",
            size_mb / rate,
            f"{size_txt}@{rate:.0f}MB/s {fmt_seconds(size_mb / rate)}",
            f"min({cfg.backup.format} dump {dump_rate:g}MB/s, blob upload "
            f"{v('blob_upload_mb_s'):g}MB/s × ratio {v('compression_ratio'):g})",
        ),
    ]
    return rpo


def compute_budget(cfg: StackConfig) -> Budget | None:
    """The worst-case RTO/RPO of a DR stack's configuration; None for a primary stack
    (a primary declares no objectives: its DR stacks carry them)."""
    if cfg.role != "dr" or cfg.strategy is None:
        return None
    v = _Values(cfg.budget)
    if cfg.strategy == "warm-standby":
        rto, rpo = _warm_standby(cfg, v)
    else:
        rto, rpo = _pilot_light(cfg, v)
    return Budget(
        stack=cfg.stack,
        strategy=cfg.strategy,
        rto_terms=tuple(rto),
        rpo_terms=tuple(rpo),
        rto_objective_seconds=cfg.objectives.rto_minutes * 60.0,
        rpo_objective_seconds=float(cfg.objectives.rpo_seconds),
        overrides=dict(cfg.budget),
    )


def detection_seconds(cfg: StackConfig) -> float:
    """The detection term alone (health-check interval × failure threshold, or its
    override): the `for:` of the primary-down alert rule (observability/)."""
    return _dns_terms(cfg, _Values(cfg.budget))[0].seconds


def backup_rpo_seconds(cfg: StackConfig) -> float:
    """Backup interval + dump/upload time: how old the newest good backup may get
    before the pilot-light RPO assumption breaks (the backup-age alert's threshold)."""
    # The dump terms even with binlog archiving on: the dump age alert watches dumps.
    return sum(term.seconds for term in _dump_rpo_terms(cfg, _Values(cfg.budget)))


def binlog_alert_limits(cfg: StackConfig) -> tuple[float, float]:
    """(lag, stale status) thresholds of the archiver-behind alert: three flush intervals
    behind is no longer a flush in progress; a stale status is a dead archiver."""
    v = _Values(cfg.budget)
    return 3.0 * cfg.backup.binlog_flush_seconds, v("binlog_dead_archiver_detection")


def render_budget(cfg: StackConfig) -> str:
    budget = compute_budget(cfg)
    return (
        "n/a (primary stack: objectives are declared by its DR stacks)"
        if budget is None
        else budget.render()
    )


def constants_table_markdown() -> str:
    rows = ["| name | value | what | source | checked |", "|---|---|---|---|---|"]
    for c in CONSTANTS.values():
        rows.append(f"| `{c.name}` | {c.value:g} {c.unit} | {c.what} | {c.source} | {c.checked} |")
    return "\n".join(rows)
