"""The adapter interfaces the failover/failback steps are written against.

Each protocol is small on purpose: one real implementation talks to AWS/Kubernetes,
the local sandbox plugs in MariaDB or a moto server, and tests plug in fakes.
Every mutating method must be idempotent (safe to call again after a crash).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@runtime_checkable
class Database(Protocol):
    """The DR database: a replica that can be promoted, and later replicate back."""

    @property
    def identifier(self) -> str: ...

    def replica_lag_seconds(self) -> float | None:
        """Seconds the replica is behind its source; None when unknown (no data)."""

    def is_promoted(self) -> bool:
        """True once the database is a writable, standalone primary."""

    def promote(self) -> None:
        """Start promotion. Must be a no-op when already promoted or promoting."""

    def wait_promoted(self, timeout_seconds: float) -> None:
        """Block until writable; raise TimeoutError (or a waiter error) otherwise."""

    # Failback: replicate the promoted DR database back to the primary region.
    def start_reverse_replication(self) -> None:
        """Create/attach a replica of this database on the primary side. Idempotent."""

    def reverse_replica(self) -> Database:
        """Handle on the primary-side replica made by ``start_reverse_replication``."""


@runtime_checkable
class DnsSwitch(Protocol):
    """Moves traffic between primary and DR.

    The Route 53 version forces DR by INVERTING the primary's health check. It must
    never disable the check: Route 53 treats a disabled check as healthy, so traffic
    would stay on the dead primary.
    """

    def is_forced_to_dr(self) -> bool: ...

    def force_to_dr(self) -> None: ...

    def revert(self) -> None: ...


@runtime_checkable
class Scaler(Protocol):
    """Sets DR deployment replica counts (deployment name -> replicas)."""

    def current_replicas(self) -> dict[str, int]: ...

    def scale(self, replicas: dict[str, int]) -> None: ...

    def wait_ready(self, replicas: dict[str, int], timeout_seconds: float) -> None:
        """Block until each deployment has that many ready replicas."""


@dataclass(frozen=True)
class HealthResult:
    ok: bool
    detail: str


@runtime_checkable
class HealthProbe(Protocol):
    def check(self) -> HealthResult: ...


@dataclass(frozen=True)
class LockHolder:
    owner: str  # the run id
    expires_at: float  # epoch seconds
    purpose: str = ""
    holder: str = ""  # who runs it: user@host pid N
    acquired_at: float | None = None

    def describe(self) -> str:
        who = f"{self.owner} ({self.holder})" if self.holder else self.owner
        return f"{who}, {self.purpose or 'failover'}, expires at epoch {self.expires_at:.0f}"


@runtime_checkable
class Lock(Protocol):
    """A distributed lock held in the DR region (seed 004: no double failover)."""

    def acquire(self, owner: str, ttl_seconds: int, purpose: str = "", holder: str = "") -> bool:
        """True when acquired, or already held by ``owner`` (a resumed run)."""

    def renew(self, owner: str, ttl_seconds: int) -> bool:
        """Heartbeat: push the expiry out; False when ``owner`` no longer holds it."""

    def take_over(
        self, owner: str, previous_owner: str, ttl_seconds: int, purpose: str = "", holder: str = ""
    ) -> bool:
        """Replace ``previous_owner`` (and only it) as holder; False if someone else holds it."""

    def release(self, owner: str) -> None:
        """Release only if ``owner`` holds it; otherwise do nothing."""

    def holder(self) -> LockHolder | None: ...


@runtime_checkable
class Notifier(Protocol):
    def notify(self, subject: str, message: str) -> None: ...


@runtime_checkable
class PrimaryProbe(Protocol):
    """A best-effort look at the primary region, taken only after failover has acted.

    Region-dark rule: nothing on the failover path may wait on the primary region, so
    the engine calls this under a short deadline and records "unreachable" as a skip.
    """

    def observe(self) -> str:
        """One line on what the primary region shows; raise when it cannot be reached."""


@runtime_checkable
class WriteFence(Protocol):
    """Planned switchover: stops writes at a LIVE primary and tells when the replica has
    applied everything the primary committed (GTID / zero lag). Needs the primary region
    reachable, which a planned event has; the unplanned path never uses it."""

    def fence(self) -> None:
        """Make the primary refuse writes (read-only). Idempotent."""

    def unfence(self) -> None:
        """Let the primary accept writes again. Idempotent."""

    def drained(self) -> tuple[bool, str]:
        """(True, detail) once the replica holds every write the fenced primary committed."""
