"""Persisted run state, so that a rerun after a crash resumes where it stopped.

One JSON file per run under the state dir (``.drctl/runs/<run_id>.json``), rewritten
atomically (temp file + fsync + rename) after every step, so a crash mid-write never
leaves a half file. A sibling ``.lock`` file is flock'ed while a process works on the
run: a second local process on the same run fails fast instead of racing it.

Run identity: every new event gets a new run id (``RunState.create``); only an explicit
resume (``RunState.resume``, ``drctl failover --resume RUN``) continues an existing run,
and a completed run can never be resumed. Reusing a finished run would report an old
drill's success for a new disaster while nothing was switched.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from drctl.atomic_file import atomic_write_text
from drctl.timeline import Timeline, to_iso, utcnow

DEFAULT_STATE_DIR = Path(".drctl") / "runs"


class RunInProgressError(RuntimeError):
    """Another process is executing the same run right now."""


class RunNotResumableError(RuntimeError):
    """``--resume`` named a run that does not exist, is finished, or is of another kind."""


def new_run_id(prefix: str) -> str:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return f"{prefix}-{stamp}-{uuid.uuid4().hex[:6]}"


@dataclass
class RunState:
    path: Path
    name: str
    kind: str
    run_id: str
    created_at: str
    params: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    timeline: Timeline = field(default_factory=Timeline)
    finished: bool = False
    _lock_handle: IO[str] | None = field(default=None, repr=False, compare=False)
    _release_hooks: list[Callable[[], None]] = field(
        default_factory=list, repr=False, compare=False
    )

    @classmethod
    def create(
        cls, state_dir: Path, prefix: str, kind: str, params: dict[str, Any] | None = None
    ) -> RunState:
        """A new run for a new event: its own id and state file, nothing done yet."""
        run_id = new_run_id(prefix)
        return cls(
            path=Path(state_dir) / f"{run_id}.json",
            name=run_id,
            kind=kind,
            run_id=run_id,
            created_at=to_iso(utcnow()),
            params=dict(params or {}),
            timeline=Timeline(name=run_id, meta={"kind": kind, "run_id": run_id}),
        )

    @classmethod
    def resume(cls, state_dir: Path, run_id: str, kind: str) -> RunState:
        """Continue an unfinished run by its id; refuse anything else by name."""
        path = Path(state_dir) / f"{run_id}.json"
        if not path.exists():
            waiting = ", ".join(r.run_id for r in unfinished_runs(state_dir, kind)) or "none"
            raise RunNotResumableError(
                f"--resume {run_id}: no such run in {state_dir} (unfinished {kind} runs: {waiting})"
            )
        state = cls.load(path)
        if state.kind != kind:
            raise RunNotResumableError(
                f"--resume {run_id}: that run is a {state.kind}, not a {kind}"
            )
        if state.finished:
            raise RunNotResumableError(
                f"--resume {run_id}: that run already completed; a completed run is never "
                "this event's success. Omit --resume to start a new run."
            )
        return state

    @classmethod
    def load_or_create(
        cls, state_dir: Path, name: str, kind: str, params: dict[str, Any] | None = None
    ) -> RunState:
        """Resume the unfinished run called ``name``, or start a new one.

        A finished run under that name is kept as ``<name>.<run_id>.json`` and a new
        run starts: a later event must act again, not replay the earlier success.
        """
        path = Path(state_dir) / f"{name}.json"
        if path.exists():
            previous = cls.load(path)
            if not previous.finished:
                return previous
            os.replace(path, path.with_name(f"{name}.{previous.run_id}.json"))
        return cls(
            path=path,
            name=name,
            kind=kind,
            run_id=f"{name}-{uuid.uuid4().hex[:12]}",
            created_at=to_iso(utcnow()),
            params=dict(params or {}),
            timeline=Timeline(name=name, meta={"kind": kind}),
        )

    @classmethod
    def load(cls, path: Path) -> RunState:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            path=Path(path),
            name=raw["name"],
            kind=raw["kind"],
            run_id=raw["run_id"],
            created_at=raw["created_at"],
            params=raw.get("params", {}),
            steps=raw.get("steps", {}),
            data=raw.get("data", {}),
            timeline=Timeline.from_dict(raw.get("timeline", {})),
            finished=raw.get("finished", False),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "params": self.params,
            "steps": self.steps,
            "data": self.data,
            "finished": self.finished,
            "timeline": self.timeline.to_dict(),
        }

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False))

    def is_done(self, step: str) -> bool:
        return self.steps.get(step, {}).get("status") == "done"

    def undo(self, step: str, why: str) -> None:
        """The step's effect was reverted (the planned fence after a refusal): it is no
        longer done, so a resume runs it again instead of building on an effect that
        is gone."""
        if step in self.steps:
            self.mark(step, "undone", why)

    def mark(self, step: str, status: str, detail: str = "") -> None:
        entry = self.steps.setdefault(step, {})
        entry["status"] = status
        entry["detail"] = detail
        entry["updated_at"] = to_iso(utcnow())
        self.save()

    # Local exclusivity: one process per run file at a time.
    def claim(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path.with_suffix(".lock"), "a+", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise RunInProgressError(
                f"run '{self.name}' is already being executed by another process "
                f"(state file {self.path})"
            ) from exc
        self._lock_handle = handle

    @property
    def claimed(self) -> bool:
        return self._lock_handle is not None

    def on_release(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when this process stops working on the run (e.g. stop a heartbeat)."""
        self._release_hooks.append(hook)

    def unclaim(self) -> None:
        hooks, self._release_hooks = self._release_hooks, []
        for hook in hooks:
            hook()
        if self._lock_handle is not None:
            fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_UN)
            self._lock_handle.close()
            self._lock_handle = None


def unfinished_runs(state_dir: Path, kind: str) -> list[RunState]:
    """Runs of ``kind`` that stopped before their last step (candidates for --resume)."""
    found = []
    for path in sorted(Path(state_dir).glob("*.json")):
        try:
            state = RunState.load(path)
        except (ValueError, KeyError, OSError):
            continue  # not a run file
        if state.kind == kind and not state.finished and state.path.stem == state.run_id:
            found.append(state)
    return found
