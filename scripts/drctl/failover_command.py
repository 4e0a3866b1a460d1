"""`drctl failover` and `drctl failback` (seed 000 §5 and §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from drctl import command_support as support
from drctl import deadline
from drctl.failover import run_plan
from drctl.failover.aurora import SwitchoverBlockedError
from drctl.failover.build import FailoverOptions, build_context, kubernetes_scaler, plan_lines
from drctl.failover.planned import (
    MODE_PLANNED,
    MODES,
    SwitchoverRefusedError,
    fences_itself,
    planned_steps,
)
from drctl.failover.protocols import Scaler
from drctl.failover.rds_fence import FenceUnavailableError
from drctl.failover.runner import StepFailed, run_steps
from drctl.failover.state import (
    DEFAULT_STATE_DIR,
    RunInProgressError,
    RunNotResumableError,
    RunState,
    unfinished_runs,
)
from drctl.failover.steps import (
    LagGuardError,
    LockHeldError,
    NotCaughtUpError,
    failback_config_commands,
    failback_steps,
    failover_config_commands,
    failover_steps,
)
from drctl.stack_outputs import OutputsError, StackOutputs

# Refusals are a decision, not a crash: a distinct exit code lets scripts tell them apart.
EXIT_FAILED = 1
EXIT_REFUSED = 3
EXIT_GAVE_UP = 4  # an endpoint did not answer within --timeout
_REFUSALS = (
    LagGuardError,
    LockHeldError,
    NotCaughtUpError,
    SwitchoverRefusedError,
    FenceUnavailableError,
    SwitchoverBlockedError,
)


def make_scaler(outputs: StackOutputs, options: FailoverOptions) -> Scaler | None:
    """Tests replace this with an in-memory scaler."""
    return kubernetes_scaler(outputs, options)


OutputsOpt = Annotated[Path | None, typer.Option("--outputs", help=support.OUTPUTS_HELP)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the plan; call no API.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Give up after this many seconds overall (failover: the RTO objective, else "
        f"{support.FAILOVER_TIMEOUT_SECONDS:g}; failback: {support.FAILBACK_TIMEOUT_SECONDS:g}).",
    ),
]
# Steps that only read: a run that gave up before any other step changed nothing.
_READ_ONLY_STEPS = {"preflight", "replica_lag_guard"}
StateDirOpt = Annotated[
    Path, typer.Option("--state-dir", help="Where run state is kept (resume after a crash).")
]
ResumeOpt = Annotated[
    str | None,
    typer.Option(
        "--resume",
        metavar="RUN",
        help="Continue this unfinished run (its id is printed when a run stops). "
        "Without it, every invocation is a new run.",
    ),
]
PreflightOpt = Annotated[
    float,
    typer.Option(
        "--preflight-timeout",
        help="Give up the read-only preflight after this many seconds, naming the endpoint "
        "that did not answer (within --timeout).",
    ),
]
TakeOverOpt = Annotated[
    str | None,
    typer.Option(
        "--take-over-lock",
        metavar="RUN",
        help="Displace this (dead) run as lock holder; asks for confirmation unless --yes.",
    ),
]


def _open_run(
    kind: str, state_dir: Path, prefix: str, resume: str | None, options: FailoverOptions
) -> RunState:
    """A new run per event, recording its plan; an existing one only when --resume
    names it, continuing with the plan it recorded. Refused before anything is asked
    or called."""
    try:
        if not resume:
            return RunState.create(state_dir, prefix, kind, params=run_plan.record(kind, options))
        state = RunState.resume(state_dir, resume, kind)
        recorded = run_plan.recorded_plan(state.params, state.steps)
        run_plan.adopt(kind, resume, recorded, options, options.extra.get("given", set()))
    except (RunNotResumableError, run_plan.PlanConflictError) as exc:
        support.fail(str(exc))
    except (ValueError, KeyError, OSError) as exc:  # truncated state file, read-only dir
        from drctl.failures import describe

        what = f"--resume {resume}: its run state" if resume else "--state-dir: the new run state"
        support.fail(f"{what} in {state_dir} cannot be used: {describe(exc)[1]}")
    return state


def _point_at_unfinished(kind: str, state_dir: Path, current: RunState, say: Any) -> None:
    for other in unfinished_runs(state_dir, kind):
        if other.run_id == current.run_id:
            continue
        stopped = next((n for n, e in other.steps.items() if e.get("status") != "done"), "?")
        say(
            f"note: unfinished {kind} run {other.run_id} (stopped at '{stopped}') is left "
            f"as it is; this is a new run. To continue that one instead: --resume {other.run_id}"
        )


def _execute(
    kind: str,
    options: FailoverOptions,
    outputs_path: Path | None,
    as_json: bool,
    dry_run: bool,
    yes: bool,
    state_dir: Path,
    run_name: str | None,
    timeout: float | None = None,
    resume: str | None = None,
    mode: str = "unplanned",
) -> None:
    if mode not in MODES:
        support.fail(f"--mode {mode!r}: choose planned or unplanned")
    options.extra["mode"] = mode
    with support.time_limit(support.FAILOVER_TIMEOUT_SECONDS if timeout is None else timeout):
        _execute_in_time(
            kind, options, outputs_path, as_json, dry_run, yes, state_dir, run_name, timeout, resume
        )


def _execute_in_time(
    kind: str,
    options: FailoverOptions,
    outputs_path: Path | None,
    as_json: bool,
    dry_run: bool,
    yes: bool,
    state_dir: Path,
    run_name: str | None,
    timeout: float | None,
    resume: str | None,
) -> None:
    out, progress = support.consoles(as_json)
    name = run_name or f"{kind}-{options.dr_stack}"
    state = _open_run(kind, state_dir, name, resume, options)
    primary, dr = options.primary_stack, options.dr_stack
    outputs = support.read_outputs(
        outputs_path, [primary, dr], kind, {primary: "primary", dr: "dr"}
    )
    try:
        plan = plan_lines(kind, outputs, options)
    except OutputsError as exc:
        support.fail(str(exc))
    if dry_run:
        _show_dry_run(kind, name, plan, as_json, out)
        return
    if not yes:
        _confirm(kind, plan, options.take_over_lock_from, progress)

    def say(message: str) -> None:
        progress.print(escape(message), highlight=False)

    # The clock starts now, not while the operator read the plan and confirmed.
    seconds = _default_timeout(kind, outputs, options) if timeout is None else timeout
    preflight = float(options.extra.get("preflight_timeout", support.PREFLIGHT_TIMEOUT_SECONDS))
    limit = support.restart_time_limit(seconds, preflight=preflight)
    _cap_step_timeouts(options, limit.seconds)
    try:
        context = build_context(
            outputs,
            support.make_client_factory(),
            options,
            say=say,
            scaler=make_scaler(outputs, options),
        )
    except (OutputsError, ValueError) as exc:
        support.fail(str(exc))
    planned = options.extra.get("mode") == MODE_PLANNED
    if planned and context.fence is None and not fences_itself(context):
        support.fail(
            f"--mode planned: no write fence for the primary database: {primary}.rds_instance_id "
            "and region are needed to fence it; use --mode unplanned",
            code=EXIT_REFUSED,
        )
    if not resume:
        _point_at_unfinished(kind, state_dir, state, say)
    steps = (
        failback_steps()
        if kind == "failback"
        else (planned_steps() if planned else failover_steps())
    )
    error: StepFailed | None = None
    try:
        with progress.status(f"{kind} {state.run_id} in progress…"):
            run_steps(steps, context, state, progress=say)
    except RunInProgressError as exc:
        support.fail(str(exc), code=EXIT_REFUSED)
    except StepFailed as exc:
        error = exc
    result = _result(kind, options, context.strategy, state, error)
    _report(kind, result, state, error, limit, as_json, out)


def _show_dry_run(kind: str, name: str, plan: list[str], as_json: bool, out: Console) -> None:
    if as_json:
        support.print_json({"run": name, "kind": kind, "dry_run": True, "plan": plan})
        return
    out.print(f"[bold]{kind} plan[/] (dry run, no API called):", highlight=False)
    for line in plan:
        out.print(f"  {escape(line)}", highlight=False)


def _confirm(kind: str, plan: list[str], holder: str | None, progress: Console) -> None:
    for line in plan:
        progress.print(f"  {escape(line)}", highlight=False)
    if not typer.confirm(f"Run {kind} now?", default=False):
        support.fail("aborted by user", code=1)
    if holder:
        question = (
            f"Take over the failover lock from run {holder}? Only if that run is certainly "
            "dead: a live holder would keep changing things"
        )
        if not typer.confirm(question, default=False):
            support.fail("lock takeover not confirmed", code=1)


def _result(
    kind: str, options: FailoverOptions, strategy: str, state: RunState, error: StepFailed | None
) -> dict[str, Any]:
    commands = (
        failback_config_commands(options.dr_stack, strategy)
        if kind == "failback"
        else failover_config_commands(options.dr_stack, strategy)
    )
    result: dict[str, Any] = {
        "run": state.name,
        "run_id": state.run_id,
        "kind": kind,
        "status": "completed" if error is None else "failed",
        "failed_step": error.step if error else None,
        "error": str(error.cause) if error else None,
        "state_file": str(state.path),
        "steps": state.steps,
        "timeline": state.timeline.to_dict(),
        "config_commands": commands if error is None else [],
    }
    return result


def _report(
    kind: str,
    result: dict[str, Any],
    state: RunState,
    error: StepFailed | None,
    limit: deadline.Deadline,
    as_json: bool,
    out: Console,
) -> None:
    if error is not None and limit.gave_up_on is not None:
        changed = _changes_so_far(state)
        result.update(status="gave_up", endpoint=limit.gave_up_on, changed=changed)
        if as_json:
            support.print_json(result)
        else:
            support.say_gave_up(f"{kind} (step '{error.step}')", limit, changed)
        raise typer.Exit(EXIT_GAVE_UP)
    if as_json:
        support.print_json(result)
    elif error is None:
        out.print(
            f"[green]{kind} completed[/] — run {state.run_id}, state {state.path}",
            highlight=False,
        )
    else:
        out.print(
            f"[bold red]{kind} stopped at step '{error.step}':[/] {escape(str(error.cause))}\n"
            f"Fix the cause and rerun with --resume {state.run_id}: it continues from "
            f"'{error.step}'.",
            highlight=False,
        )
    if error is not None:
        raise typer.Exit(EXIT_REFUSED if isinstance(error.cause, _REFUSALS) else EXIT_FAILED)


def _default_timeout(kind: str, outputs: StackOutputs, options: FailoverOptions) -> float:
    if kind == "failback":
        return support.FAILBACK_TIMEOUT_SECONDS
    objectives = outputs.optional(options.dr_stack, "objectives") or {}
    rto_minutes = objectives.get("rto_minutes") if isinstance(objectives, dict) else None
    return float(rto_minutes) * 60 if rto_minutes else support.FAILOVER_TIMEOUT_SECONDS


def _cap_step_timeouts(options: FailoverOptions, seconds: float) -> None:
    """No single wait inside the run may outlast the run's own deadline."""
    for name in (
        "promote_timeout_seconds",
        "health_timeout_seconds",
        "sync_timeout_seconds",
        "scale_timeout_seconds",
        "drain_timeout_seconds",
    ):
        setattr(options, name, min(getattr(options, name), seconds))


def _changes_so_far(state: RunState) -> str:
    changed = [s for s in state.steps if s not in _READ_ONLY_STEPS and state.is_done(s)]
    if not changed:
        return "nothing was changed"
    return f"done so far: {', '.join(changed)}; rerun with --resume {state.run_id} to continue"


def register(app: typer.Typer) -> None:
    _register_failover(app)
    _register_failback(app)


def _register_failover(app: typer.Typer) -> None:
    @app.command("failover")
    def failover(
        ctx: typer.Context,
        to: Annotated[str, typer.Option("--to", help="DR stack to fail over to.")] = "tokyo",
        primary: Annotated[str, typer.Option("--from", help="Primary stack.")] = "seoul",
        outputs: OutputsOpt = None,
        as_json: JsonOpt = False,
        dry_run: DryRunOpt = False,
        yes: YesOpt = False,
        accept_data_loss: Annotated[
            bool,
            typer.Option("--accept-data-loss", help="Promote even when lag is over the limit."),
        ] = False,
        max_lag: Annotated[
            float | None,
            typer.Option("--max-lag", help="Lag limit in seconds (default: output or 60)."),
        ] = None,
        promote_timeout: Annotated[float, typer.Option(help="Seconds.")] = 1800.0,
        health_timeout: Annotated[float, typer.Option(help="Seconds.")] = 300.0,
        state_dir: StateDirOpt = DEFAULT_STATE_DIR,
        run_name: Annotated[
            str | None, typer.Option(help="Prefix of the new run's id (state file).")
        ] = None,
        timeout: TimeoutOpt = None,
        resume: ResumeOpt = None,
        take_over_lock: TakeOverOpt = None,
        primary_timeout: Annotated[
            float,
            typer.Option(help="Seconds to look at the primary region, after acting only."),
        ] = 5.0,
        mode: Annotated[
            str,
            typer.Option(
                "--mode",
                help="unplanned: promote what the replica has (lag = data-loss bound); "
                "planned: fence the primary, wait for zero lag, promote, move DNS (RPO 0).",
            ),
        ] = "unplanned",
        drain_timeout: Annotated[
            float,
            typer.Option(help="Planned: seconds the replica may take to apply every write."),
        ] = 300.0,
        preflight_timeout: PreflightOpt = support.PREFLIGHT_TIMEOUT_SECONDS,
    ) -> None:
        """Fail over to the DR stack: lock, lag guard, DNS, promote, scale, verify."""
        options = FailoverOptions(
            dr_stack=to,
            primary_stack=primary,
            max_lag_seconds=max_lag,
            accept_data_loss=accept_data_loss,
            promote_timeout_seconds=promote_timeout,
            health_timeout_seconds=health_timeout,
            primary_timeout_seconds=primary_timeout,
            take_over_lock_from=take_over_lock,
            drain_timeout_seconds=drain_timeout,
        )
        options.extra["preflight_timeout"] = preflight_timeout
        options.extra["given"] = run_plan.given_flags(ctx, "failover")
        _execute(
            "failover",
            options,
            outputs,
            as_json,
            dry_run,
            yes,
            state_dir,
            run_name,
            timeout,
            resume,
            mode,
        )


def _register_failback(app: typer.Typer) -> None:
    @app.command("failback")
    def failback(
        ctx: typer.Context,
        dr: Annotated[str, typer.Option("--dr", help="DR stack currently serving.")] = "tokyo",
        to: Annotated[str, typer.Option("--to", help="Primary stack to return to.")] = "seoul",
        outputs: OutputsOpt = None,
        as_json: JsonOpt = False,
        dry_run: DryRunOpt = False,
        yes: YesOpt = False,
        max_lag: Annotated[
            float | None,
            typer.Option("--max-lag", help="Reverse lag counted as caught up (seconds)."),
        ] = None,
        reverse_replica_id: Annotated[
            str | None, typer.Option(help="Primary-side replica id (default <id>-failback).")
        ] = None,
        sync_timeout: Annotated[float, typer.Option(help="Seconds to wait for sync.")] = 1800.0,
        state_dir: StateDirOpt = DEFAULT_STATE_DIR,
        run_name: Annotated[
            str | None, typer.Option(help="Prefix of the new run's id (state file).")
        ] = None,
        timeout: TimeoutOpt = None,
        resume: ResumeOpt = None,
        take_over_lock: TakeOverOpt = None,
        lag_only: Annotated[
            bool,
            typer.Option(
                "--lag-only",
                help="Prove catch-up with ReplicaLag (>= 0, within --max-lag) instead of "
                "executed binlog positions read as the master user (when drctl cannot reach the DBs).",
            ),
        ] = False,
        preflight_timeout: PreflightOpt = support.PREFLIGHT_TIMEOUT_SECONDS,
    ) -> None:
        """Fail back: reverse replica, retire the old primary, the replica takes its
        endpoint, fence the DR site, promote once every DR write executed, DNS back."""
        options = FailoverOptions(
            dr_stack=dr,
            primary_stack=to,
            max_lag_seconds=max_lag,
            reverse_replica_id=reverse_replica_id,
            sync_timeout_seconds=sync_timeout,
            take_over_lock_from=take_over_lock,
            gtid_proof=not lag_only,
        )
        options.extra["preflight_timeout"] = preflight_timeout
        options.extra["given"] = run_plan.given_flags(ctx, "failback")
        _execute(
            "failback",
            options,
            outputs,
            as_json,
            dry_run,
            yes,
            state_dir,
            run_name,
            timeout,
            resume,
        )
