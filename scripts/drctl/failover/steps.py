"""Failover (seed 000 §5) and failback (§6) as named, idempotent steps.

Failback ends on the database Seoul's app already uses, and never has two writable
primaries: see the ordered list above ``failback_preflight`` for the order and why.

Each step function takes the context and the run state, does its work through the
adapter protocols only, and returns a one-line detail for the timeline. Reading the
state before acting is what makes each of them safe to run twice.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from drctl.failover.bounded import call_with_deadline
from drctl.failover.heartbeat import LockHeartbeat
from drctl.failover.lag import LagReading, known_lag, lag_reading
from drctl.failover.positions import executed_position, wait_executed
from drctl.failover.protocols import (
    Database,
    DnsSwitch,
    HealthProbe,
    Lock,
    LockHolder,
    Notifier,
    PrimaryProbe,
    Scaler,
    WriteFence,
)
from drctl.failover.runner import SkipStep, Step
from drctl.failover.state import RunState
from drctl.mysql_dsn import MySQLDsn
from drctl.timeline import (
    FORCE_DNS,
    PROMOTE_DATABASE,
    SCALE_DEPLOYMENTS,
    VERIFY_HEALTH,
    to_iso,
    utcnow,
)


class LockHeldError(RuntimeError):
    """Another run (an operator or the Lambda) holds the failover lock."""


class LagGuardError(RuntimeError):
    """Replica lag is over the limit (or unknown) and data loss was not accepted."""


class NotCaughtUpError(RuntimeError):
    """Reverse replication has not caught up: failing back now would lose writes."""


class PreflightError(RuntimeError):
    """An adapter is unreachable or the topology is not what the run expects."""


def this_process() -> str:
    """Names the lock holder, so a refused operator knows whom to call."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers, Lambda)
        user = "?"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


@dataclass
class FailoverContext:
    database: Database
    dns: DnsSwitch
    lock: Lock
    scaler: Scaler | None = None
    health: HealthProbe | None = None
    notifier: Notifier | None = None
    dr_stack: str = "tokyo"
    primary_stack: str = "seoul"
    # Decides which toggles make IaC match reality afterwards.
    strategy: str = "warm-standby"
    full_replicas: dict[str, int] = field(default_factory=dict)
    standby_replicas: dict[str, int] = field(default_factory=dict)
    max_lag_seconds: float = 60.0
    accept_data_loss: bool = False
    # Short, and renewed by a heartbeat while the run is alive: a killed run's lock
    # expires in about a minute (well inside the RTO), a live one never does.
    lock_ttl_seconds: int = 60
    holder_info: str = field(default_factory=this_process)
    take_over_from: str | None = None  # --take-over-lock RUN: displace exactly that run
    heartbeat: LockHeartbeat | None = field(default=None, repr=False)
    # Best-effort look at the primary region, only after the acting steps.
    primary: PrimaryProbe | None = None
    primary_timeout_seconds: float = 5.0
    # Planned switchover only (drctl.failover.planned): the primary's write fence, and
    # how long the replica may take to apply everything the fenced primary committed.
    fence: WriteFence | None = None
    drain_timeout_seconds: float = 60.0
    promote_timeout_seconds: float = 1800.0
    scale_timeout_seconds: float = 600.0
    health_timeout_seconds: float = 300.0
    sync_timeout_seconds: float = 1800.0
    poll_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    say: Callable[[str], None] = print


def data_at_risk(lag: float | LagReading | None) -> str:
    reading = lag if isinstance(lag, LagReading) else LagReading(lag, last_good=known_lag(lag))
    lag_seconds = reading.seconds
    if lag_seconds is None:
        return (
            f"replica lag is UNKNOWN ({reading.describe()}): any write the primary "
            "committed since replication last reported could be lost on promotion"
        )
    since = utcnow() - timedelta(seconds=lag_seconds)
    return (
        f"the replica is {lag_seconds:.1f}s behind the primary: writes committed on the "
        f"primary after about {to_iso(since)} are not on the replica and are lost once "
        f"it is promoted (RPO of this failover ≈ {lag_seconds:.1f}s)"
    )


def _wait_until(
    ctx: FailoverContext, timeout: float, check: Callable[[], tuple[bool, str]]
) -> tuple[bool, str]:
    """Poll a condition (not a retry of a failing call) until true or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        ok, detail = check()
        if ok or time.monotonic() >= deadline:
            return ok, detail
        ctx.sleep(ctx.poll_seconds)


def _notify(ctx: FailoverContext, subject: str, message: str) -> None:
    if ctx.notifier is not None:
        ctx.notifier.notify(subject, message)


# --- failover -------------------------------------------------------------------


def preflight(ctx: FailoverContext, state: RunState) -> str:
    # The report names the database step after the strategy (promotion or restore).
    state.timeline.meta.setdefault("strategy", ctx.strategy)
    problems: list[str] = []
    facts: list[str] = []
    try:
        facts.append("database promoted" if ctx.database.is_promoted() else "database is replica")
    except Exception as exc:
        problems.append(f"database {ctx.database.identifier}: {exc}")
    try:
        facts.append("DNS forced to DR" if ctx.dns.is_forced_to_dr() else "DNS on primary")
    except Exception as exc:
        problems.append(f"DNS switch: {exc}")
    try:
        holder = ctx.lock.holder()
        if holder and holder.owner != state.run_id:
            facts.append(f"lock held by {holder.owner}")
    except Exception as exc:
        problems.append(f"lock table: {exc}")
    if ctx.scaler is not None:
        try:
            current = ctx.scaler.current_replicas()
            # Remember the standby sizes once, for failback's "restore topology".
            state.data.setdefault("standby_replicas", current)
        except Exception as exc:
            problems.append(f"kubernetes: {exc}")
    if problems:
        raise PreflightError("; ".join(problems))
    return ", ".join(facts)


FINAL_STEP = "print_config"
OBSERVE_PRIMARY = "observe_primary"


def acquire_lock(ctx: FailoverContext, state: RunState) -> str:
    if state.is_done(FINAL_STEP):
        return "run already complete: lock not needed"
    ttl = ctx.lock_ttl_seconds
    if ctx.lock.acquire(state.run_id, ttl, purpose=state.kind, holder=ctx.holder_info):
        detail = f"lock held by {state.run_id} ({ctx.holder_info})"
    else:
        holder = ctx.lock.holder()
        if holder is None and ctx.lock.acquire(
            state.run_id, ttl, purpose=state.kind, holder=ctx.holder_info
        ):
            detail = f"lock held by {state.run_id} ({ctx.holder_info}; it expired meanwhile)"
        elif holder is not None and ctx.take_over_from is not None:
            detail = _take_over_lock(ctx, state, holder)
        else:
            raise LockHeldError(_lock_refusal(ctx, state, holder))
    state.data["lock_owner"] = state.run_id
    _start_heartbeat(ctx, state)
    assert ctx.heartbeat is not None
    return f"{detail}, TTL {ttl}s renewed every {ctx.heartbeat.interval_seconds:g}s"


def _lock_refusal(ctx: FailoverContext, state: RunState, holder: LockHolder | None) -> str:
    if holder is None:
        return f"another {state.kind} is in progress: the lock could not be taken"
    return (
        f"another {state.kind} is in progress: lock held by {holder.describe()}. "
        f"A live holder renews it every ~{ctx.lock_ttl_seconds // 3}s; a dead one's lock "
        f"expires within {ctx.lock_ttl_seconds}s. If that run is certainly dead, rerun "
        f"with --take-over-lock {holder.owner}"
    )


def _take_over_lock(ctx: FailoverContext, state: RunState, holder: LockHolder) -> str:
    wanted = ctx.take_over_from
    if holder.owner != wanted:
        raise LockHeldError(
            f"--take-over-lock {wanted}: the lock is held by {holder.describe()}, not by "
            f"{wanted}; nothing was taken over"
        )
    if not ctx.lock.take_over(
        state.run_id, holder.owner, ctx.lock_ttl_seconds, purpose=state.kind,
        holder=ctx.holder_info,
    ):  # fmt: skip
        raise LockHeldError(f"the lock changed hands while taking it over from {wanted}")
    # Both owners on the timeline: the report must show who displaced whom.
    state.timeline.meta["lock_takeover"] = {
        "from": holder.owner,
        "from_holder": holder.holder,
        "to": state.run_id,
        "to_holder": ctx.holder_info,
        "at": to_iso(utcnow()),
    }
    ctx.say(f"WARNING lock taken over from {holder.describe()}")
    return (
        f"lock TAKEN OVER from {holder.owner} ({holder.holder or '?'}) by "
        f"{state.run_id} ({ctx.holder_info})"
    )


def _start_heartbeat(ctx: FailoverContext, state: RunState) -> None:
    if ctx.heartbeat is not None:
        ctx.heartbeat.stop()
    beat = LockHeartbeat(ctx.lock, state.run_id, ctx.lock_ttl_seconds, say=ctx.say)
    ctx.heartbeat = beat
    beat.start()
    # The heartbeat lives exactly as long as this process works on the run: a crash or
    # a failed step stops it, and the lock then expires within one TTL.
    state.on_release(beat.stop)


def _release_lock(ctx: FailoverContext, state: RunState) -> None:
    if ctx.heartbeat is not None:
        ctx.heartbeat.stop()
        ctx.heartbeat = None
    ctx.lock.release(state.run_id)


def _still_holding_lock(ctx: FailoverContext) -> None:
    """Before a change: a run whose lock was taken over must not act any more."""
    if ctx.heartbeat is not None and ctx.heartbeat.lost:
        raise LockHeldError(f"{ctx.heartbeat.lost}: stopping before changing anything else")


def replica_lag_guard(ctx: FailoverContext, state: RunState) -> str:
    if ctx.database.is_promoted():
        return "already promoted: nothing left to lose"
    reading = lag_reading(ctx.database)
    lag = reading.seconds  # None while replication is not running (ReplicaLag -1)
    state.data["lag_at_promotion_seconds"] = lag
    state.data["lag_reported_seconds"] = reading.reported
    # Unplanned mode: the report's data-loss bound is the lag at promotion, or, with
    # the lag unknown, now - t_last + lag_last from the last good datapoint.
    state.data["data_loss_bound_seconds"] = reading.loss_bound_seconds()
    risk = data_at_risk(reading)
    over = lag is None or lag > ctx.max_lag_seconds
    if over and not ctx.accept_data_loss:
        # Nothing has been changed yet: release the lock so that a later attempt (by
        # anyone) is not blocked until the TTL expires.
        _release_lock(ctx, state)
        limit = f"limit {ctx.max_lag_seconds:g}s"
        raise LagGuardError(
            f"refusing to promote {ctx.database.identifier}: {risk} ({limit}). "
            "Nothing was changed and the lock is released. Wait for the replica to catch "
            "up, or rerun with --accept-data-loss."
        )
    if over:
        ctx.say(f"WARNING --accept-data-loss given: {risk}")
        return f"accepted data loss: {risk}"
    return risk


def force_dns(ctx: FailoverContext, state: RunState) -> str:
    _still_holding_lock(ctx)
    ctx.dns.force_to_dr()
    return f"failover switch inverted: DNS fails over to {ctx.dr_stack}"


def promote_database(ctx: FailoverContext, state: RunState) -> str:
    _still_holding_lock(ctx)
    ctx.database.promote()
    ctx.database.wait_promoted(ctx.promote_timeout_seconds)
    return f"{ctx.database.identifier} is a standalone, writable primary"


def scale_deployments(ctx: FailoverContext, state: RunState) -> str:
    if ctx.scaler is None:
        raise SkipStep("no Kubernetes access configured (kubeconfig); scale separately")
    if not ctx.full_replicas:
        raise SkipStep("no deployment sizes known (output 'deployments')")
    ctx.scaler.scale(ctx.full_replicas)
    ctx.scaler.wait_ready(ctx.full_replicas, ctx.scale_timeout_seconds)
    return ", ".join(f"{name}={count}" for name, count in sorted(ctx.full_replicas.items()))


def verify_health(ctx: FailoverContext, state: RunState) -> str:
    probe = ctx.health
    if probe is None:
        raise SkipStep("no app_url to probe")
    ok, detail = _wait_until(
        ctx, ctx.health_timeout_seconds, lambda: (lambda r: (r.ok, r.detail))(probe.check())
    )
    if not ok:
        raise RuntimeError(f"service not healthy after {ctx.health_timeout_seconds:.0f}s: {detail}")
    return detail


def observe_primary(ctx: FailoverContext, state: RunState) -> str:
    """Static stability: the failover has already acted; the primary region is only
    looked at now, under a short deadline, and an unreachable region is a skip."""
    probe = ctx.primary
    if probe is None:
        raise SkipStep("no primary-region endpoint known; not looked at")
    limit = ctx.primary_timeout_seconds
    try:
        seen = call_with_deadline(probe.observe, limit, f"{ctx.primary_stack} region")
    except Exception as exc:
        raise SkipStep(
            f"{ctx.primary_stack} region unreachable (looked for at most {limit:g}s): {exc}; "
            "best effort after the failover acted, nothing waited on it"
        ) from exc
    return (
        f"{ctx.primary_stack} region answers: {seen}. The old primary may come back: keep "
        "its writers stopped until failback"
    )


# The toggles a DR stack's config must show once it serves traffic (seed 001's phase
# order for pilot light), and the order to turn them off after failback: a promoted
# replica is refused while DNS is not forced, and the pilot light first stops writes on
# Azure (maintenance page), then moves DNS back, then removes the emergency site.
_FAILOVER_TOGGLES = {
    "warm-standby": ("force_failover", "promote_replica"),
    "pilot-light": ("force_failover", "emergency", "enable_petclinic"),
}
_FAILBACK_TOGGLES = {
    "warm-standby": ("promote_replica", "force_failover"),
    "pilot-light": ("enable_petclinic", "force_failover", "emergency"),
}


class UnknownStrategyError(ValueError):
    """A DR stack whose `strategy` drctl has no failover/failback toggles for."""


def known_strategy(strategy: str, stack: str = "") -> str:
    """The strategy itself, or one clear error: checked before a run changes anything."""
    if strategy not in _FAILOVER_TOGGLES:
        where = f"{stack}.strategy" if stack else "strategy"
        raise UnknownStrategyError(
            f"{where} = {strategy!r} is unknown to drctl (known: {', '.join(_FAILOVER_TOGGLES)})"
        )
    return strategy


def config_toggles(kind: str, strategy: str = "warm-standby") -> list[tuple[str, str]]:
    """The ``drstack:`` toggles (in order) that make IaC match a completed failover/failback."""
    if kind == "failover":
        return [(f"drstack:{key}", "true") for key in _FAILOVER_TOGGLES[known_strategy(strategy)]]
    return [(f"drstack:{key}", "false") for key in _FAILBACK_TOGGLES[known_strategy(strategy)]]


def failover_config_commands(dr_stack: str, strategy: str = "warm-standby") -> list[str]:
    return [
        f"pulumi config set drstack:{key} true -s {dr_stack}"
        for key in _FAILOVER_TOGGLES[known_strategy(strategy)]
    ]


def print_failover_config(ctx: FailoverContext, state: RunState) -> str:
    commands = failover_config_commands(ctx.dr_stack, ctx.strategy)
    ctx.say(
        "Failover done. Make the next `pulumi up` match reality (otherwise it would "
        "revert DNS and try to turn the promoted database back into a replica):\n  "
        + "\n  ".join(commands)
    )
    _release_lock(ctx, state)
    _notify(
        ctx,
        f"drstack failover to {ctx.dr_stack} completed",
        f"run {state.run_id} completed. Set:\n" + "\n".join(commands),
    )
    return "; ".join(commands) + " (lock released)"


def failover_steps() -> list[Step[FailoverContext]]:
    return [
        Step(
            "preflight", "check database, DNS, lock table and Kubernetes are reachable", preflight
        ),
        Step(
            "acquire_lock",
            "take the failover lock in the DR region (no double failover)",
            acquire_lock,
            always_rerun=True,
        ),
        Step(
            "replica_lag_guard",
            "refuse if replica lag is over the limit",
            replica_lag_guard,
            recheck_until_done=PROMOTE_DATABASE,
        ),
        Step(FORCE_DNS, "invert the Route 53 failover switch (never disable a check)", force_dns),
        Step(
            PROMOTE_DATABASE, "promote the read replica and wait until available", promote_database
        ),
        Step(
            SCALE_DEPLOYMENTS,
            "scale DR deployments to full size and wait for ready",
            scale_deployments,
        ),
        Step(VERIFY_HEALTH, "GET the app's /health until it answers 200", verify_health),
        Step(
            OBSERVE_PRIMARY,
            "best effort, bounded: look at the primary region (never waited on before acting)",
            observe_primary,
        ),
        Step(
            FINAL_STEP,
            "print the Pulumi config that makes IaC match reality",
            print_failover_config,
        ),
    ]


# --- failback -------------------------------------------------------------------
#
# The order, and why (README "drctl failback"):
#  1-2. preflight, lock.
#  3. start_reverse_replication: a replica of the DR database in the primary region.
#  4. wait_reverse_sync: the bulk of the catch-up, while the DR site still serves.
#  5. retire_old_primary: the old primary leaves the primary's name (renamed aside),
#     moves to a read_only=1 parameter group of its own and is stopped. From here on
#     it can never take a write, so the shared group may be reset later.
#  6. take_primary_endpoint: the reverse replica takes the primary's identifier, so
#     the endpoint Seoul's app already uses resolves to it. Done while it is still a
#     read-only replica and the DR site serves: RDS makes a new name effective in about
#     10 minutes, and those minutes must not be outage.
#  7. fence_dr_writes: the outage window opens. The DR app is scaled to 0 and the DR
#     database fenced (read_only=1): no write lands in the DR region any more.
#  8. promote_primary: wait until the reverse replica has EXECUTED every transaction
#     the fenced DR database committed (binlog position; ReplicaLag >= 0 only without a login),
#     then promote it. Only now is there a writable primary again: exactly one.
#  9. revert_dns: only once the primary is writable, DNS returns to it.
# 10-11. restore_topology (DR app at standby size, against a read-only database), and
#     the config that makes the IaC match (iac-sync).


def failback_preflight(ctx: FailoverContext, state: RunState) -> str:
    if not ctx.database.is_promoted():
        raise PreflightError(
            f"{ctx.database.identifier} is not promoted: there is nothing to fail back"
        )
    forced = ctx.dns.is_forced_to_dr()
    return "DR database promoted; " + ("DNS forced to DR" if forced else "DNS not forced")


def start_reverse_replication(ctx: FailoverContext, state: RunState) -> str:
    ctx.database.start_reverse_replication()
    reverse = ctx.database.reverse_replica()
    return f"{reverse.identifier} replicates from {ctx.database.identifier}"


def _dsn_of(database: object) -> MySQLDsn | None:
    dsn = getattr(database, "dsn", None)
    return dsn() if callable(dsn) else None


def _caught_up(ctx: FailoverContext, wait_seconds: float = 0.0) -> tuple[bool, str]:
    """Executed binlog positions where both databases can be read; otherwise a non-negative
    ReplicaLag within the limit. RDS reports -1 while replication is not running: a
    negative lag, like a missing one, is unknown, never "caught up"."""
    reverse = ctx.database.reverse_replica()
    source_dsn, replica_dsn = _dsn_of(ctx.database), _dsn_of(reverse)
    if source_dsn is not None and replica_dsn is not None:
        position = executed_position(source_dsn)
        if wait_executed(replica_dsn, position, wait_seconds):
            return (
                True,
                f"{reverse.identifier} executed {ctx.database.identifier}'s binlog up to {position}",
            )
        return (
            False,
            f"{reverse.identifier} has not executed {ctx.database.identifier}'s binlog up to {position} yet",
        )
    # -1 (replication not running) is unknown, never caught up.
    lag = known_lag(reverse.replica_lag_seconds())
    if lag is None:
        return False, "reverse replication lag unknown (replica not reporting yet)"
    return lag <= ctx.max_lag_seconds, f"reverse replication lag {lag:.1f}s"


def wait_reverse_sync(ctx: FailoverContext, state: RunState) -> str:
    ok, detail = _wait_until(ctx, ctx.sync_timeout_seconds, lambda: _caught_up(ctx))
    if not ok:
        raise NotCaughtUpError(
            f"refusing to fail back: {detail}, limit {ctx.max_lag_seconds:.0f}s "
            f"(waited {ctx.sync_timeout_seconds:.0f}s). Rerun when it has caught up."
        )
    return detail


def _swap_step(ctx: FailoverContext, name: str, target: object) -> Callable[[float], str]:
    action = getattr(target, name, None)
    if not callable(action):
        raise SkipStep(
            f"{type(target).__name__} keeps its endpoints through failback (no rename needed)"
        )
    return action


def retire_old_primary(ctx: FailoverContext, state: RunState) -> str:
    _still_holding_lock(ctx)
    return _swap_step(ctx, "retire_old_primary", ctx.database)(ctx.promote_timeout_seconds)


def take_primary_endpoint(ctx: FailoverContext, state: RunState) -> str:
    _still_holding_lock(ctx)
    return _swap_step(ctx, "take_primary_endpoint", ctx.database)(ctx.promote_timeout_seconds)


def fence_dr_writes(ctx: FailoverContext, state: RunState) -> str:
    """Clients that still resolve the DR site (record TTL, resolver caches) would keep
    writing to the DR database after the primary-region copy is promoted: split brain.
    The DR app is stopped AND the DR database refuses writes, so every write either
    drained into the reverse replica or failed visibly."""
    _still_holding_lock(ctx)
    details: list[str] = []
    names = sorted(ctx.standby_replicas or ctx.full_replicas)
    if ctx.scaler is not None and names:
        ctx.scaler.scale(dict.fromkeys(names, 0))
        details.append("DR deployments scaled to 0: " + ", ".join(names))
    fence = getattr(ctx.database, "fence_writes", None)
    if callable(fence):
        details.append(fence(ctx.promote_timeout_seconds))
    if not details:
        raise SkipStep(
            "no Kubernetes access and no database fence: stop writes to the DR database by "
            "hand before the primary is promoted"
        )
    return "; ".join(details)


def promote_primary(ctx: FailoverContext, state: RunState) -> str:
    _still_holding_lock(ctx)
    reverse = ctx.database.reverse_replica()
    if not reverse.is_promoted():
        # The DR database is fenced: what it executed is final. Promote only once the
        # reverse replica has executed all of it.
        ok, detail = _wait_until(
            ctx, ctx.sync_timeout_seconds, lambda: _caught_up(ctx, min(ctx.poll_seconds, 5.0))
        )
        if not ok:
            raise NotCaughtUpError(f"refusing to promote {reverse.identifier}: {detail}")
        state.data["failback_drained"] = detail
    reverse.promote()
    reverse.wait_promoted(ctx.promote_timeout_seconds)
    return f"{reverse.identifier} is the writable primary again"


def revert_dns(ctx: FailoverContext, state: RunState) -> str:
    _still_holding_lock(ctx)
    reverse = ctx.database.reverse_replica()
    if not reverse.is_promoted():
        raise NotCaughtUpError(
            f"refusing to move DNS back: {reverse.identifier} is not a writable primary yet"
        )
    ctx.dns.revert()
    return f"failover switch un-inverted: DNS returns to {ctx.primary_stack} ({reverse.identifier})"


def restore_topology(ctx: FailoverContext, state: RunState) -> str:
    if ctx.scaler is None:
        raise SkipStep("no Kubernetes access configured (kubeconfig); scale separately")
    if not ctx.standby_replicas:
        raise SkipStep("no standby sizes known (output 'standby_deployments')")
    ctx.scaler.scale(ctx.standby_replicas)
    return ", ".join(f"{name}={count}" for name, count in sorted(ctx.standby_replicas.items()))


def failback_config_commands(dr_stack: str, strategy: str = "warm-standby") -> list[str]:
    return [
        f"pulumi config set drstack:{key} false -s {dr_stack}"
        for key in _FAILBACK_TOGGLES[known_strategy(strategy)]
    ]


def _failback_iac_note(ctx: FailoverContext) -> str:
    reverse = ctx.database.reverse_replica().identifier
    # Aurora switches the roles back inside the global database: same clusters, nothing
    # to rebuild or import.
    if getattr(ctx.database, "fences_itself", False):
        return f"\n'{reverse}' is the writer of the global database again (same clusters)."
    return (
        f"\nThe {ctx.primary_stack} primary is now the promoted replica under the same "
        f"identifier '{reverse}' (same endpoint). It is a new instance: `drctl iac-sync "
        f"--after failback --stack {ctx.dr_stack}` prints the commands that re-import it "
        f"into the {ctx.primary_stack} stack and replace the DR replica."
    )


def print_failback_config(ctx: FailoverContext, state: RunState) -> str:
    commands = failback_config_commands(ctx.dr_stack, ctx.strategy)
    ctx.say(
        "Failback done. Reset the toggles; the next `pulumi up -s "
        f"{ctx.dr_stack}` makes the DR database a replica of the primary again:\n  "
        + "\n  ".join(commands)
        + _failback_iac_note(ctx)
    )
    _release_lock(ctx, state)
    _notify(ctx, f"drstack failback to {ctx.primary_stack} completed", "\n".join(commands))
    return "; ".join(commands) + " (lock released)"


def failback_steps() -> list[Step[FailoverContext]]:
    return [
        Step(
            "preflight",
            "check the DR database is promoted and adapters are reachable",
            failback_preflight,
        ),
        Step(
            "acquire_lock",
            "take the failover lock in the DR region",
            acquire_lock,
            always_rerun=True,
        ),
        Step(
            "start_reverse_replication",
            "create a replica of the DR database in the primary region",
            start_reverse_replication,
        ),
        Step(
            "wait_reverse_sync",
            "wait until the reverse replica executed the DR database's binlog position; refuse otherwise",
            wait_reverse_sync,
        ),
        Step(
            "retire_old_primary",
            "rename the old primary aside, fence it in its own read_only=1 group, stop it",
            retire_old_primary,
        ),
        Step(
            "take_primary_endpoint",
            "rename the reverse replica to the primary's identifier (the app's endpoint)",
            take_primary_endpoint,
        ),
        Step(
            "fence_dr_writes",
            "stop the DR deployments and fence the DR database (read_only=1)",
            fence_dr_writes,
        ),
        Step(
            "promote_primary",
            "once it executed every DR write, promote the primary-region replica",
            promote_primary,
        ),
        Step("revert_dns", "un-invert the Route 53 failover switch (primary writable)", revert_dns),
        Step("restore_topology", "scale DR deployments back to standby size", restore_topology),
        Step(FINAL_STEP, "print the Pulumi config to reset", print_failback_config),
    ]
