"""Persisted run state, so that a rerun after a crash resumes where it stopped.

One JSON file per run under the state dir (``.drctl/runs/<name>.json``), rewritten
atomically (temp file + fsync + rename) after every step, so a crash mid-write never
leaves a half file. A sibling ``.lock`` file is flock'ed while a process works on the
run: a second local process on the same run fails fast instead of racing it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from drctl.timeline import Timeline, to_iso, utcnow

DEFAULT_STATE_DIR = Path(".drctl") / "runs"


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


class RunInProgressError(RuntimeError):
    """Another process is executing the same run right now."""


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

    @classmethod
    def load_or_create(
        cls, state_dir: Path, name: str, kind: str, params: dict[str, Any] | None = None
    ) -> RunState:
        path = Path(state_dir) / f"{name}.json"
        if path.exists():
            return cls.load(path)
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

    def unclaim(self) -> None:
        if self._lock_handle is not None:
            fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_UN)
            self._lock_handle.close()
            self._lock_handle = None
