"""Timestamped step events, shared by failover/failback, the drill and `drctl report`.

A timeline is a list of events ``{name, started_at, finished_at, status, detail}`` with
ISO-8601 UTC timestamps. Names of the failover steps are constants here so that the
report's Step 7 table (seed 000 §5.3) and the engine agree on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drctl.atomic_file import atomic_write_text

# Event names the report understands (seed 000 §5.3 Step 7 rows).
DETECTION = "detection"  # primary health check failure detected (drill/alarm records it)
FORCE_DNS = "force_dns"
PROMOTE_DATABASE = "promote_database"
SCALE_DEPLOYMENTS = "scale_deployments"
VERIFY_HEALTH = "verify_health"

STATUS_RUNNING = "running"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class TimelineEvent:
    name: str
    started_at: str
    finished_at: str | None = None
    status: str = STATUS_RUNNING
    detail: str = ""

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (from_iso(self.finished_at) - from_iso(self.started_at)).total_seconds()


@dataclass
class Timeline:
    name: str = "failover"
    events: list[TimelineEvent] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def start(self, name: str, at: datetime | None = None) -> TimelineEvent:
        event = TimelineEvent(name=name, started_at=to_iso(at or utcnow()))
        self.events.append(event)
        return event

    def finish(
        self,
        event: TimelineEvent,
        status: str = STATUS_OK,
        detail: str = "",
        at: datetime | None = None,
    ) -> None:
        event.finished_at = to_iso(at or utcnow())
        event.status = status
        if detail:
            event.detail = detail

    def record(
        self,
        name: str,
        started_at: datetime,
        finished_at: datetime,
        status: str = STATUS_OK,
        detail: str = "",
    ) -> TimelineEvent:
        """Add an event measured elsewhere (e.g. detection time taken from an alarm)."""
        event = TimelineEvent(name, to_iso(started_at), to_iso(finished_at), status, detail)
        self.events.append(event)
        return event

    @contextmanager
    def step(self, name: str) -> Iterator[TimelineEvent]:
        event = self.start(name)
        try:
            yield event
        except BaseException as exc:
            self.finish(event, STATUS_FAILED, f"{type(exc).__name__}: {exc}")
            raise
        if event.finished_at is None:
            self.finish(event)

    def last(self, name: str) -> TimelineEvent | None:
        """The most recent event of that name (a resumed step may appear twice)."""
        for event in reversed(self.events):
            if event.name == name:
                return event
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "meta": self.meta,
            "events": [asdict(event) for event in self.events],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        # A run-state file embeds its timeline under "timeline"; accept either shape.
        if "timeline" in data and "events" not in data:
            data = data["timeline"]
        events = [TimelineEvent(**event) for event in data.get("events", [])]
        return cls(name=data.get("name", "failover"), events=events, meta=data.get("meta", {}))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def save(self, path: Path) -> None:
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> Timeline:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
