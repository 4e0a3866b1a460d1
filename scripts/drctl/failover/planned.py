"""Planned switchover (seed 000's quarterly test, seed 004's planned failover test).

Unlike the unplanned failover (DNS first, then promote whatever the replica has), a
planned switchover loses nothing: fence writes at the live primary, wait until the
replica has applied everything the primary committed, promote, then move DNS. When the
replica cannot catch up within ``drain_timeout_seconds`` it refuses: the primary is
unfenced, the lock released, and nothing else was changed.

This path needs the primary region reachable (it is a planned event). The unplanned
path (``failover_steps``) never touches the primary before acting; the Lambda only
ever runs that one.
"""

from __future__ import annotations

import time
from typing import NoReturn

from drctl.failover.runner import SkipStep, Step
from drctl.failover.state import RunState
from drctl.failover.steps import (
    FINAL_STEP,
    OBSERVE_PRIMARY,
    FailoverContext,
    PreflightError,
    _release_lock,
    _still_holding_lock,
    _wait_until,
    acquire_lock,
    force_dns,
    observe_primary,
    preflight,
    print_failover_config,
    promote_database,
    scale_deployments,
    verify_health,
)
from drctl.timeline import FORCE_DNS, PROMOTE_DATABASE, SCALE_DEPLOYMENTS, VERIFY_HEALTH

FENCE_WRITES = "fence_writes"
WAIT_DRAINED = "wait_drained"
MODE_PLANNED = "planned"
MODE_UNPLANNED = "unplanned"
MODES = (MODE_PLANNED, MODE_UNPLANNED)


class SwitchoverRefusedError(RuntimeError):
    """The replica did not apply everything in time: RPO 0 cannot be promised."""


def fences_itself(ctx: FailoverContext) -> bool:
    """Aurora's SwitchoverGlobalCluster stops writes and syncs every secondary before
    the roles change: drctl adds no fence of its own there."""
    return bool(getattr(ctx.database, "fences_itself", False))


def planned_preflight(ctx: FailoverContext, state: RunState) -> str:
    state.timeline.meta["mode"] = MODE_PLANNED
    if ctx.fence is None and not fences_itself(ctx):
        raise PreflightError(
            "planned mode needs a write fence for the primary database; none is configured"
        )
    check = getattr(ctx.fence, "check", None)
    if check is not None:
        check()  # e.g. a primary on a default parameter group cannot be fenced: refuse
    switchover_check = getattr(ctx.database, "check_switchover", None)
    if fences_itself(ctx) and switchover_check is not None:
        switchover_check()  # Aurora: refuse what SwitchoverGlobalCluster would refuse
    detail = preflight(ctx, state)
    if ctx.database.is_promoted() and not state.is_done(PROMOTE_DATABASE):
        raise PreflightError(
            f"{ctx.database.identifier} is already promoted: there is no replica to switch over to"
        )
    return detail


_MANAGED = "Aurora's switchover fences writes and syncs every secondary itself (RPO 0)"


def fence_writes(ctx: FailoverContext, state: RunState) -> str:
    _still_holding_lock(ctx)
    if fences_itself(ctx):
        raise SkipStep(_MANAGED)
    fence = ctx.fence
    assert fence is not None
    # Writes may start failing as soon as the change is asked for: the drill's RTO
    # counts from here.
    state.data.setdefault("fence_requested_at", time.time())
    try:
        fence.fence()
    except Exception as exc:
        _refuse(ctx, state, f"the primary's write fence did not take effect ({_one_line(exc)})")
    state.data.setdefault("fenced_at", time.time())
    position = getattr(fence, "position", None)
    if position is not None:
        state.data["fenced_position"] = str(position)
    detail = getattr(fence, "detail", "")
    return f"primary fenced: {detail}" if detail else "primary fenced: it refuses writes"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _unfence(ctx: FailoverContext, state: RunState, why: str) -> None:
    """Undo the fence, and its step with it: a resume must fence again before it may
    drain and promote (a fence counted as done but undone promoted a replica while the
    primary took writes)."""
    assert ctx.fence is not None
    # Before the call: a failed unfence may have left the fence on, and fencing twice
    # is harmless, while a fence counted as done that is not there is a split brain.
    state.undo(FENCE_WRITES, f"unfenced: {why}")
    for key in ("fence_requested_at", "fenced_at", "fenced_position"):
        state.data.pop(key, None)
    ctx.fence.unfence()


def _refuse(ctx: FailoverContext, state: RunState, why: str) -> NoReturn:
    """RPO 0 cannot be promised: undo the only change made (the fence), so the primary
    keeps serving, and release the lock so a later attempt is not blocked."""
    assert ctx.fence is not None
    try:
        _unfence(ctx, state, why)
    except Exception as exc:
        _release_lock(ctx, state)
        raise SwitchoverRefusedError(
            f"refusing the planned switchover to {ctx.database.identifier}: {why}; and "
            f"unfencing the primary FAILED ({_one_line(exc)}): it may still refuse writes, "
            "set read_only back to {TrueIfReplica} in its parameter group. The lock is "
            "released, nothing else was changed."
        ) from None
    _release_lock(ctx, state)
    raise SwitchoverRefusedError(
        f"refusing the planned switchover to {ctx.database.identifier}: {why}. Writes are "
        "unfenced on the primary, the lock is released, nothing else was changed. Fix "
        "replication and rerun, or use --mode unplanned to accept data loss."
    )


def wait_drained(ctx: FailoverContext, state: RunState) -> str:
    if fences_itself(ctx):
        # The bound holds once the switchover completes; a refused one changes nothing.
        state.data["lag_at_promotion_seconds"] = 0.0
        state.data["data_loss_bound_seconds"] = 0.0
        raise SkipStep(_MANAGED)
    if ctx.database.is_promoted():
        return "already promoted after the drain"
    fence = ctx.fence
    assert fence is not None
    try:
        ok, detail = _wait_until(ctx, ctx.drain_timeout_seconds, fence.drained)
    except Exception as exc:
        # The check itself failed (the run's deadline, a lost connection): nothing was
        # promoted, so the primary must not stay fenced.
        _unfence(ctx, state, f"the drain check failed ({_one_line(exc)})")
        raise
    if not ok:
        _refuse(
            ctx,
            state,
            f"the replica did not apply everything within {ctx.drain_timeout_seconds:g}s "
            f"({detail})",
        )
    # Everything the primary acknowledged is on the replica: the data-loss bound is 0.
    state.data["lag_at_promotion_seconds"] = 0.0
    state.data["data_loss_bound_seconds"] = 0.0
    return f"replica caught up: {detail} (RPO 0)"


def planned_steps() -> list[Step[FailoverContext]]:
    return [
        Step(
            "preflight",
            "check database, DNS, lock table, Kubernetes and the primary's write fence",
            planned_preflight,
        ),
        Step(
            "acquire_lock",
            "take the failover lock in the DR region (no double failover)",
            acquire_lock,
            always_rerun=True,
        ),
        Step(FENCE_WRITES, "make the primary database read-only", fence_writes),
        Step(
            WAIT_DRAINED,
            "wait until the replica applied every committed write; else unfence and refuse",
            wait_drained,
            recheck_until_done=PROMOTE_DATABASE,
        ),
        Step(PROMOTE_DATABASE, "promote the caught-up replica", promote_database),
        Step(FORCE_DNS, "invert the Route 53 failover switch", force_dns),
        Step(
            SCALE_DEPLOYMENTS,
            "scale DR deployments to full size and wait for ready",
            scale_deployments,
        ),
        Step(VERIFY_HEALTH, "GET the app's /health until it answers 200", verify_health),
        Step(OBSERVE_PRIMARY, "look at the old primary (it stays fenced)", observe_primary),
        Step(
            FINAL_STEP,
            "print the Pulumi config that makes IaC match reality",
            print_failover_config,
        ),
    ]
