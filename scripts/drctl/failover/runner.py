"""A small step runner: persisted, resumable, timestamped.

A step is done once its state entry says so; a rerun skips done steps and starts at
the first unfinished one. Every executed step is recorded on the run's timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from drctl import deadline
from drctl.failover.state import RunState
from drctl.timeline import STATUS_FAILED, STATUS_OK, STATUS_SKIPPED

C = TypeVar("C")


class SkipStep(Exception):
    """Raised by a step that does not apply (e.g. no scaler configured)."""


class StepFailed(RuntimeError):
    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"step '{step}' failed: {cause}")
        self.step = step
        self.cause = cause


@dataclass(frozen=True)
class Step(Generic[C]):
    name: str
    summary: str  # one line for --dry-run plans
    run: Callable[[C, RunState], str]
    # Guards must be re-evaluated on resume until the step they protect has run:
    # a lag check that passed before a crash says nothing about the lag now.
    recheck_until_done: str | None = None
    # Steps that must hold on every attempt (the lock: a refusal may have released it).
    always_rerun: bool = False


@dataclass
class RunResult:
    state: RunState
    executed: list[str]
    skipped_done: list[str]


def run_steps(
    steps: list[Step[C]],
    context: C,
    state: RunState,
    *,
    progress: Callable[[str], None] = print,
    after_step: Callable[[str], Any] | None = None,
) -> RunResult:
    executed: list[str] = []
    skipped: list[str] = []
    state.claim()
    try:
        state.save()
        for step in steps:
            recheck = step.always_rerun or (
                step.recheck_until_done is not None and not state.is_done(step.recheck_until_done)
            )
            if state.is_done(step.name) and not recheck:
                skipped.append(step.name)
                progress(f"[skip] {step.name}: done in an earlier attempt")
                continue
            progress(f"[....] {step.name}: {step.summary}")
            event = state.timeline.start(step.name)
            state.mark(step.name, "running")
            try:
                # A step that waits says so every 15 s; a phase with a budget (preflight's
                # --preflight-timeout) gives up on its own, inside the run's --timeout.
                with deadline.phase(step.name), deadline.waiting(step.name, progress):
                    detail = step.run(context, state)
            except SkipStep as why:
                state.timeline.finish(event, STATUS_SKIPPED, str(why))
                state.mark(step.name, "done", f"skipped: {why}")
                progress(f"[skip] {step.name}: {why}")
            except Exception as exc:
                state.timeline.finish(event, STATUS_FAILED, f"{exc}")
                state.mark(step.name, "failed", str(exc))
                raise StepFailed(step.name, exc) from exc
            else:
                state.timeline.finish(event, STATUS_OK, detail)
                state.mark(step.name, "done", detail)
                progress(f"[ ok ] {step.name}: {detail}")
            executed.append(step.name)
            if after_step is not None:
                after_step(step.name)
        state.finished = True
        state.save()
    finally:
        state.unclaim()
    return RunResult(state=state, executed=executed, skipped_done=skipped)
