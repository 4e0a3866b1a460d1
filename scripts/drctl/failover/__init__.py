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
* ``Lock`` — ``acquire(owner, ttl)``/``renew``/``take_over``/``release(owner)``/
  ``holder()``. ``DynamoDbLock`` (conditional writes in the DR region, a 60 s TTL that
  ``LockHeartbeat`` renews while the run is alive, same-owner re-acquire for resume,
  takeover conditional on naming the holder).
* ``PrimaryProbe`` — ``observe()``: a best-effort look at the primary region, called
  only after failover has acted and under a deadline (``bounded.call_with_deadline``).
  ``PrimaryRegionProbe`` (RDS status + the primary app's /health).
* ``Notifier`` — ``notify(subject, message)``. ``SnsNotifier``.

The steps (``drctl.failover.steps``) take a ``FailoverContext`` holding adapters and
limits; ``run_steps`` (``drctl.failover.runner``) executes them against a ``RunState``
(``.drctl/runs/<run id>.json``, atomically rewritten) and records each on its
``Timeline``. A new event is a new run (``RunState.create``); only
``RunState.resume(run_id)`` continues one, and never a finished one. To plug in another backend (the sandbox's MariaDB pair, a fake in a
test), write a class with the protocol's methods — no inheritance needed — and put it
in the context::

    ctx = FailoverContext(database=MariaDbDatabase(...), dns=..., lock=...)
    state = RunState.create(Path(".drctl/runs"), "failover-tokyo", "failover")
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
    PrimaryProbe,
    Scaler,
)
from drctl.failover.runner import RunResult, SkipStep, Step, StepFailed, run_steps
from drctl.failover.state import RunInProgressError, RunNotResumableError, RunState
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
    "PrimaryProbe",
    "RunInProgressError",
    "RunNotResumableError",
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
