"""The ``planned-switchover`` drill scenario: Seoul is healthy, the operator moves to Tokyo.

Same write load as the fault scenarios, and production's fence: ``RdsParameterGroupFence``
against Seoul's moto (a custom parameter group on ``seoul-db``, with RDS's apply states
injected) and the sandbox's MariaDB as the RDS master user. Two runs:

1. the group was just attached and the instance not rebooted (``pending-reboot``): the
   preflight refuses, nothing changes; the operator reboots, as the refusal says;
2. the switchover: the fence waits through a stale ``in-sync`` and ``applying`` until
   ``SELECT @@GLOBAL.read_only`` returns 1, records Seoul's binlog position, waits until
   Tokyo executed it, promotes Tokyo and moves DNS.

RTO here is fence request to first write on Tokyo (there is no fault to detect); every
acknowledged write must be on Tokyo afterwards (RPO 0).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from drctl.failover.planned import MODE_PLANNED, planned_steps
from drctl.failover.rds_fence import FenceDsns, FenceUnavailableError, RdsParameterGroupFence
from drctl.failover.runner import StepFailed
from drctl.failover.state import RunState
from drctl.failover.steps import FailoverContext
from drctl.sandbox import scenarios as sc
from drctl.sandbox.app_adapters import FailoverRouting
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.environment import PRIMARY_DB_ID, REGIONS, SandboxEnvironment, WarmStandby
from drctl.sandbox.loadgen import WriteLoad
from drctl.sandbox.mariadb_fence import MariaDbParameterEngine, master_user_dsns
from drctl.sandbox.rds_apply_states import ParameterApplyStates
from drctl.timeline import STATUS_FAILED, Timeline

KEY = "planned-switchover"
DRAIN_TIMEOUT = 10.0
APPLY_TIMEOUT = 10.0
PARAMETER_GROUP = "seoul-db-mysql8-0"  # the custom group the seoul stack attaches


def seoul_parameter_group(env: SandboxEnvironment, ws: WarmStandby) -> ParameterApplyStates:
    """Seoul's moto with ``seoul-db`` on a custom group, behind RDS's apply states."""
    if env.primary_moto is None:
        env.start_primary_aws()
    assert env.aws is not None
    rds = env.aws.client("rds", REGIONS["seoul"])
    with contextlib.suppress(rds.exceptions.DBParameterGroupAlreadyExistsFault):
        rds.create_db_parameter_group(
            DBParameterGroupName=PARAMETER_GROUP,
            DBParameterGroupFamily="mysql8.0",
            Description="seoul: binlog settings and the planned fence",
        )
    rds.modify_db_instance(
        DBInstanceIdentifier=PRIMARY_DB_ID,
        DBParameterGroupName=PARAMETER_GROUP,
        ApplyImmediately=True,
    )
    return ParameterApplyStates(rds, MariaDbParameterEngine({PRIMARY_DB_ID: ws.seoul_db}))


def planned_context(
    env: SandboxEnvironment, ws: WarmStandby, lines: list[str], build: Any
) -> FailoverContext:
    """The fault scenarios' context (``build``), plus production's fence of Seoul; no
    data loss is ever accepted on this path. ``ctx.fence.primary_rds`` is the
    apply-state injection, for a scenario that needs ``pending-reboot``."""
    ctx: FailoverContext = build(env, ws, lines)
    primary, replica = master_user_dsns(ws.seoul_db, ws.tokyo_db)
    ctx.fence = RdsParameterGroupFence(
        seoul_parameter_group(env, ws),
        PRIMARY_DB_ID,
        lambda: FenceDsns(primary=primary, replica=replica),
        apply_timeout_seconds=APPLY_TIMEOUT,
        poll_seconds=0.1,
    )
    ctx.drain_timeout_seconds = DRAIN_TIMEOUT
    ctx.accept_data_loss = False
    return ctx


def refused_while_pending_reboot(
    ctx: FailoverContext, settings: Any, timeline: Timeline | None = None
) -> str:
    """Run 1: the group attached without a reboot must be refused before any change."""
    fence = ctx.fence
    assert isinstance(fence, RdsParameterGroupFence)
    states = fence.primary_rds
    assert isinstance(states, ParameterApplyStates)
    states.associate_without_reboot(PRIMARY_DB_ID)
    started = time.time()
    try:
        sc._run_engine(planned_steps(), ctx, settings, f"{KEY}-pending-reboot", "failover")
    except StepFailed as failed:
        if not isinstance(failed.cause, FenceUnavailableError) or failed.step != "preflight":
            raise
        refusal = str(failed.cause)
    else:
        raise RuntimeError("a pending-reboot parameter group was not refused at preflight")
    if timeline is not None:
        timeline.record(
            "refused_pending_reboot", sc._at(started), sc._at(time.time()), STATUS_FAILED, refusal
        )
    # What the refusal tells the operator to do.
    states.reboot_db_instance(DBInstanceIdentifier=PRIMARY_DB_ID)
    return refusal


def planned_switchover(env: SandboxEnvironment, settings: Any) -> Any:
    ws = env.warm_standby()
    env.write_outputs(settings.outputs_path)
    routing = FailoverRouting(
        env.dns_switch("tokyo"), lambda: env.apps.get("seoul"), lambda: env.apps.get("tokyo")
    )
    load = WriteLoad(routing)
    lines: list[str] = []
    ctx = planned_context(env, ws, lines, sc._failover_context)
    load.start()
    try:
        sc._warm_up(load, settings.warmup_seconds)
        refused = Timeline(name="refused")
        refusal = refused_while_pending_reboot(ctx, settings, refused)
        state = sc._run_engine(planned_steps(), ctx, settings, KEY, "failover")
        timeline = state.timeline
        timeline.events[:0] = refused.events
        timeline.name = f"sandbox {KEY}"
        fenced_at = _fence_requested_at(state)
        timeline.meta.update(
            incident_started_at=sc.to_iso(sc._at(fenced_at)), sandbox=True, mode=MODE_PLANNED
        )
        rto, loss = sc._measure(
            load, ws.tokyo_db.app_dsn(DATABASE), "tokyo", fenced_at, fenced_at, timeline
        )
    finally:
        load.stop()
        _close_states(ctx)
    return sc.ScenarioResult(
        KEY,
        settings.run,
        rto,
        None,
        loss,
        sc._sorted(timeline),
        notes=_notes(state, refusal),
        extra={"mode": MODE_PLANNED},
        load=load,
    )


def _notes(state: RunState, refusal: str) -> list[str]:
    steps = state.steps
    return [
        "planned steps: drctl.failover.planned.planned_steps() (fence, drain, promote, DNS)",
        "fence: RdsParameterGroupFence (production's) on Seoul's moto + MariaDB as the "
        "RDS master user; RDS's apply states injected (stale in-sync, applying, "
        "pending-reboot: RDS API Reference DBParameterGroupStatus)",
        f"pending-reboot run: {refusal}",
        f"fence: {steps.get('fence_writes', {}).get('detail', '?')}",
        f"drain: {steps.get('wait_drained', {}).get('detail', '?')}",
        "RTO counts from the fence request (Seoul read_only=1 asked) to the first write "
        "Tokyo acknowledged",
    ]


def _close_states(ctx: FailoverContext) -> None:
    states = getattr(ctx.fence, "primary_rds", None)
    if isinstance(states, ParameterApplyStates):
        states.close()


def _fence_requested_at(state: RunState) -> float:
    for key in ("fence_requested_at", "fenced_at"):
        value = state.data.get(key)
        if value is not None:
            return float(value)
    return time.time()
