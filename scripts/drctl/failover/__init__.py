"""The failover/failback engine, built on small adapter protocols.

Protocols (``drctl.failover.protocols``), each with one production adapter:

* ``Database`` — replica lag, ``promote``/``wait_promoted``/``is_promoted``, and for
  failback ``start_reverse_replication``/``reverse_replica`` (a ``Database`` for the
  primary-side replica). ``RdsDatabase`` (promote_read_replica + botocore waiters, lag
  from CloudWatch ``ReplicaLag``).
* ``DnsSwitch`` — ``force_to_dr``/``revert``/``is_forced_to_dr``. ``Route53DnsSwitch``
  inverts the primary's health check; it never disables it (disabled = healthy).
* ``Scaler`` — ``current_replicas``/``scale``/``wait_ready``. ``KubernetesScaler``.
* ``HealthProbe`` — ``check() -> HealthResult``. ``HttpHealthProbe`` (GET /health).
* ``Lock`` — ``acquire(owner, ttl)``/``release(owner)``/``holder()``. ``DynamoDbLock``
  (conditional put in the DR region, expiry, same-owner re-acquire for resume).
* ``Notifier`` — ``notify(subject, message)``. ``SnsNotifier``.

The steps (``drctl.failover.steps``) take a ``FailoverContext`` holding adapters and
limits; ``run_steps`` (``drctl.failover.runner``) executes them against a ``RunState``
(``.drctl/runs/<name>.json``, atomically rewritten) and records each on its
``Timeline``. To plug in another backend (the sandbox's MariaDB pair, a fake in a
test), write a class with the protocol's methods — no inheritance needed — and put it
in the context::

    ctx = FailoverContext(database=MariaDbDatabase(...), dns=..., lock=...)
    state = RunState.load_or_create(Path(".drctl/runs"), "failover-tokyo", "failover")
    run_steps(failover_steps(), ctx, state)

Every adapter method that changes something must be idempotent: a rerun after a
crash calls it again.
"""

from drctl.failover.protocols import (
    Database,
    DnsSwitch,
    HealthProbe,
    HealthResult,
    Lock,
    LockHolder,
    Notifier,
    Scaler,
)
from drctl.failover.runner import RunResult, SkipStep, Step, StepFailed, run_steps
from drctl.failover.state import RunInProgressError, RunState
from drctl.failover.steps import (
    FailoverContext,
    LagGuardError,
    LockHeldError,
    NotCaughtUpError,
    PreflightError,
    failback_steps,
    failover_steps,
)

__all__ = [
    "Database",
    "DnsSwitch",
    "FailoverContext",
    "HealthProbe",
    "HealthResult",
    "LagGuardError",
    "Lock",
    "LockHeldError",
    "LockHolder",
    "NotCaughtUpError",
    "Notifier",
    "PreflightError",
    "RunInProgressError",
    "RunResult",
    "RunState",
    "Scaler",
    "SkipStep",
    "Step",
    "StepFailed",
    "failback_steps",
    "failover_steps",
    "run_steps",
]
