"""The ``planned-switchover`` drill scenario: Seoul is healthy, the operator moves to Tokyo.

Same write load as the fault scenarios. The engine's planned steps fence Seoul
(read-only), wait until Tokyo applied Seoul's last GTID, promote Tokyo and move DNS.
RTO here is fence-to-first-write (there is no fault to detect); every acknowledged
write must be on Tokyo afterwards (RPO 0).
"""

from __future__ import annotations

import time
from typing import Any

from drctl.failover.planned import MODE_PLANNED, planned_steps
from drctl.failover.state import RunState
from drctl.failover.steps import FailoverContext
from drctl.sandbox import scenarios as sc
from drctl.sandbox.app_adapters import FailoverRouting
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.environment import SandboxEnvironment, WarmStandby
from drctl.sandbox.loadgen import WriteLoad
from drctl.sandbox.mariadb_fence import MariaDbWriteFence

KEY = "planned-switchover"
DRAIN_TIMEOUT = 10.0


def planned_context(
    env: SandboxEnvironment, ws: WarmStandby, lines: list[str], build: Any
) -> FailoverContext:
    """The fault scenarios' context (``build``), plus Seoul's write fence; no data loss
    is ever accepted on this path."""
    ctx: FailoverContext = build(env, ws, lines)
    ctx.fence = MariaDbWriteFence(ws.seoul_db, ws.tokyo_db)
    ctx.drain_timeout_seconds = DRAIN_TIMEOUT
    ctx.accept_data_loss = False
    return ctx


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
        state = sc._run_engine(planned_steps(), ctx, settings, KEY, "failover")
        timeline = state.timeline
        timeline.name = f"sandbox {KEY}"
        fenced_at = _fenced_at(state)
        timeline.meta.update(
            incident_started_at=sc.to_iso(sc._at(fenced_at)), sandbox=True, mode=MODE_PLANNED
        )
        rto, loss = sc._measure(
            load, ws.tokyo_db.app_dsn(DATABASE), "tokyo", fenced_at, fenced_at, timeline
        )
    finally:
        load.stop()
    return sc.ScenarioResult(
        KEY,
        settings.run,
        rto,
        None,
        loss,
        sc._sorted(timeline),
        notes=[
            "planned steps: drctl.failover.planned.planned_steps() (fence, drain, promote, DNS)",
            "RTO counts from the fence (Seoul read-only) to the first write Tokyo acknowledged",
            f"drain: {state.steps.get('wait_drained', {}).get('detail', '?')}",
        ],
        extra={"mode": MODE_PLANNED},
        load=load,
    )


def _fenced_at(state: RunState) -> float:
    value = state.data.get("fenced_at")
    return float(value) if value is not None else time.time()
