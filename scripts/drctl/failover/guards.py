"""Guard rules for automated failover (seed 004 FailoverManager).

Pure functions, so the rules are easy to read and to test:
* fail over only after consecutive failures × check interval ≥ threshold;
* refuse when the standby's lag is too high, or unknown (none, or negative: RDS
  reports ReplicaLag -1 when replication is not running);
* default to notify-only: promotion is automatic only when explicitly enabled.
"""

from __future__ import annotations

from dataclasses import dataclass

from drctl.failover.lag import known_lag

IGNORE = "ignore"  # not down long enough
REFUSE = "refuse"  # down, but failing over now would lose too much data
NOTIFY_ONLY = "notify_only"  # down, failover advisable, humans decide
FAILOVER = "failover"


@dataclass(frozen=True)
class GuardInput:
    consecutive_failures: int
    interval_seconds: float
    threshold_seconds: float
    lag_seconds: float | None
    max_lag_seconds: float
    auto_promote: bool


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str


def down_long_enough(facts: GuardInput) -> bool:
    return facts.consecutive_failures * facts.interval_seconds >= facts.threshold_seconds


def decide(facts: GuardInput) -> Decision:
    down_for = facts.consecutive_failures * facts.interval_seconds
    if not down_long_enough(facts):
        return Decision(
            IGNORE,
            f"{facts.consecutive_failures} consecutive failures × {facts.interval_seconds:g}s "
            f"= {down_for:g}s < threshold {facts.threshold_seconds:g}s",
        )
    # ReplicaLag -1 means replication is not running (RDS User Guide): unknown.
    lag = known_lag(facts.lag_seconds)
    if lag is None:
        shown = "" if facts.lag_seconds is None else f" (reported {facts.lag_seconds:g})"
        return Decision(REFUSE, f"standby lag unknown{shown}: cannot bound the data loss")
    if lag > facts.max_lag_seconds:
        return Decision(
            REFUSE,
            f"standby lag {lag:.1f}s > limit {facts.max_lag_seconds:g}s: "
            "promoting now would lose that much data",
        )
    detail = f"primary down {down_for:g}s, standby lag {lag:.1f}s"
    if not facts.auto_promote:
        return Decision(NOTIFY_ONLY, f"{detail}; automatic promotion disabled (notify only)")
    return Decision(FAILOVER, detail)
