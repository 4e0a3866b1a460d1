"""One overall deadline per command, enforced on every remote call.

botocore's connect/read timeouts bound one attempt and its retry budget bounds the
attempts, but a command makes dozens of calls: without an overall deadline an endpoint
that accepts connections and never answers cost minutes per call. So a command runs
inside ``limit(seconds)``, and every remote call checks the active deadline:

* AWS: ``ClientFactory`` caps each client's timeouts at the deadline and registers
  ``before-send`` (fired once per attempt, retries included) to refuse an attempt once
  the deadline has passed, and ``after-call-error`` to remember which endpoint gave up.
* Kubernetes: ``BoundedApi`` passes ``_request_timeout`` on every call (the client has
  no default timeout at all) and checks the deadline first; ``kube_api_client`` turns
  off urllib3's own retries.

Only botocore and the standard library are imported: the Lambda bundle uses this too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError


class GaveUp(RuntimeError):
    """A remote endpoint did not answer in time (or at all)."""

    def __init__(self, endpoint: str, seconds: float | None = None) -> None:
        within = f" within {seconds:g}s" if seconds is not None else ""
        super().__init__(f"{endpoint} did not answer{within}")
        self.endpoint = endpoint
        self.seconds = seconds


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError(f"--timeout must be a positive number of seconds, got {seconds:g}")
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds
        self._lock = threading.Lock()
        self.gave_up_on: str | None = None  # the first endpoint that did not answer
        self.flag = "--timeout"  # the flag whose limit was hit, for the one line
        # Phase name -> (seconds, flag): a phase gives up on its own, sooner (see phase()).
        self.budgets: dict[str, tuple[float, str]] = {}

    def restart(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = self._clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def cap(self, seconds: float) -> float:
        """A per-attempt timeout that cannot outlive the deadline (never below 0.1 s)."""
        return max(0.1, min(seconds, self.remaining()))

    def record(self, endpoint: str) -> None:
        with self._lock:
            if self.gave_up_on is None:
                self.gave_up_on = endpoint

    def check(self, endpoint: str) -> None:
        if self.expired():
            self.record(endpoint)
            raise GaveUp(endpoint, self.seconds)


_active: Deadline | None = None

# How often a wait says again what it waits for (the runbook contract: at least every 15 s).
SAY_EVERY_SECONDS = 15.0


def active() -> Deadline | None:
    return _active


@contextmanager
def limit(seconds: float) -> Iterator[Deadline]:
    """Run the block under one deadline (process-wide: checks run in worker threads)."""
    global _active
    previous, _active = _active, Deadline(seconds)
    try:
        yield _active
    finally:
        _active = previous


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Run the phase ``name`` under its own budget, if the active deadline has one.

    E.g. failover's preflight: with the DR region's API unreachable it must give up in
    ``--preflight-timeout``, not spend the whole RTO budget on botocore retries. The
    phase shortens the active deadline (never lengthens it); if an endpoint gave up
    inside it, the deadline keeps the phase's flag and seconds for the one line.
    """
    limit = _active
    budget = limit.budgets.get(name) if limit is not None else None
    if limit is None or budget is None:
        yield
        return
    seconds, flag = budget
    saved = (limit._end, limit.seconds, limit.flag)
    if limit._clock() + seconds < limit._end:
        limit._end, limit.seconds, limit.flag = limit._clock() + seconds, seconds, flag
    try:
        yield
    finally:
        limit._end = saved[0]
        if limit.gave_up_on is None:
            limit.seconds, limit.flag = saved[1], saved[2]


@contextmanager
def waiting(what: str, say: Callable[[str], None], every: float | None = None) -> Iterator[None]:
    """While the block runs, say every ``every`` seconds (default SAY_EVERY_SECONDS)
    that it still waits for ``what``, how long so far, and when the run gives up.

    One implementation for every kind of wait: a polling loop, a botocore waiter, a
    subprocess, a blocking call. The caller says what it starts waiting for itself.
    """
    interval = SAY_EVERY_SECONDS if every is None else every
    started = time.monotonic()
    stop = threading.Event()

    def remind() -> None:
        while not stop.wait(interval):
            limit = _active
            bound = f"; gives up in {max(0.0, limit.remaining()):.0f}s" if limit else ""
            say(f"[wait] {what}: still waiting ({time.monotonic() - started:.0f}s so far{bound})")

    reminder = threading.Thread(target=remind, daemon=True, name="drctl-waiting")
    reminder.start()
    try:
        yield
    finally:
        stop.set()
        reminder.join(timeout=1.0)


def endpoint_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def gave_up(exc: BaseException) -> GaveUp | None:
    """The ``GaveUp`` behind a remote-call failure, or None if it was not a timeout
    (a refused connection fails fast and is reported as unreachable instead)."""
    if isinstance(exc, GaveUp):
        return exc
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return GaveUp(endpoint_of(str(exc.kwargs.get("endpoint_url", "?"))))
    return _urllib3_gave_up(exc)


def _urllib3_gave_up(exc: BaseException) -> GaveUp | None:
    from urllib3.exceptions import MaxRetryError, TimeoutError

    if isinstance(exc, MaxRetryError):
        if isinstance(exc.reason, TimeoutError):
            return GaveUp(_pool_endpoint(exc.pool) or endpoint_of(exc.url or "?"))
    elif isinstance(exc, TimeoutError):
        return GaveUp(_pool_endpoint(getattr(exc, "pool", None)) or "?")
    return None


def _pool_endpoint(pool: Any) -> str | None:
    if pool is None or not getattr(pool, "host", None):
        return None
    return f"{pool.scheme}://{pool.host}:{pool.port}"


# --- botocore hooks ----------------------------------------------------------------


def _before_send(request: Any, **_: Any) -> None:
    deadline = _active
    if deadline is not None:
        deadline.check(endpoint_of(request.url))


def _after_call_error(exception: BaseException, **_: Any) -> None:
    deadline = _active
    found = gave_up(exception)
    if deadline is not None and found is not None:
        deadline.record(found.endpoint)


def bind_client(client: Any) -> Any:
    """Make a boto3 client honour the active deadline (on every attempt)."""
    client.meta.events.register("before-send", _before_send)
    client.meta.events.register("after-call-error", _after_call_error)
    return client


# --- Kubernetes ----------------------------------------------------------------------


class BoundedApi:
    """Wraps a Kubernetes API object: every call gets ``_request_timeout=(connect,
    read)`` capped at the deadline, and is refused once the deadline has passed."""

    def __init__(self, api: Any, endpoint: str, connect: float = 5.0, read: float = 20.0) -> None:
        self._api = api
        self._endpoint = endpoint
        self._connect = connect
        self._read = read

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._api, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            deadline = _active
            connect, read = self._connect, self._read
            if deadline is not None:
                deadline.check(self._endpoint)
                connect, read = deadline.cap(connect), deadline.cap(read)
            kwargs.setdefault("_request_timeout", (connect, read))
            try:
                return target(*args, **kwargs)
            except Exception as exc:
                found = gave_up(exc)
                if found is None:
                    raise
                if deadline is not None:
                    deadline.record(self._endpoint)
                raise GaveUp(self._endpoint, read) from exc

        return call


def kube_endpoint(api_client: Any) -> str:
    host = getattr(getattr(api_client, "configuration", None), "host", None)
    return endpoint_of(host) if host else "the Kubernetes API"


def kube_api_client(config_dict: dict[str, Any]) -> Any:
    """An ApiClient from a kubeconfig held in memory, with no urllib3 retries: urllib3
    would otherwise retry a timed-out GET three times, each with the full timeout."""
    from kubernetes import client, config

    configuration = client.Configuration()
    configuration.retries = 0
    try:
        return config.new_client_from_config_dict(config_dict, client_configuration=configuration)
    except Exception as exc:
        # The message could quote the kubeconfig, a secret: name the failure only.
        raise ValueError(
            f"the kubeconfig output cannot be loaded by the Kubernetes client "
            f"({type(exc).__name__}); check its current-context, cluster and user"
        ) from None
