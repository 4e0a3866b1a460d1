"""Bounded remote calls: one deadline per command, per-call timeouts, one-line failures.

Every call to MySQL or Azure Blob gets a connect timeout, a read timeout and (Blob) a
small bounded retry; the whole command gets a deadline (``--timeout``). The deadline is
enforced with SIGALRM in the main thread: it interrupts a blocking socket read, a pipe
write to a stalled ``mysql`` client, or a wait on a worker thread, wherever the command
is, and the clean-up (kill the client, drop staging) runs on the way out.
"""

from __future__ import annotations

import contextlib
import contextvars
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from drctl.mysql_dsn import MySQLDsn

CONNECT_SECONDS = 5.0
DEFAULT_READ_SECONDS = 300.0  # one statement (CHECKSUM TABLE of a big table) without a deadline


class DeadlineExceeded(BaseException):
    """The command's deadline passed. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way (best-effort look-ups, retries) can swallow it."""


@dataclass
class Deadline:
    seconds: float
    endpoint: str = ""  # what the command was waiting for most recently
    mysql_endpoint: str = ""
    blob_endpoint: str = ""
    committed: str = ""  # set once the command has changed something (then it says so)

    def __post_init__(self) -> None:
        self._end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def call_timeout(self, cap: float) -> float:
        """A per-call timeout: ``cap``, or less when the deadline is nearer."""
        return max(0.5, min(cap, self.remaining()))

    def waiting_for(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def on_blob(self) -> None:
        self.endpoint = self.blob_endpoint

    def on_mysql(self, dsn: MySQLDsn, role: str) -> None:
        self.mysql_endpoint = self.endpoint = f"MySQL {role} {dsn.endpoint()}"


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("deadline", default=None)


def current() -> Deadline | None:
    return _current.get()


@contextlib.contextmanager
def enforced(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` current, and raise DeadlineExceeded in this thread when it passes."""

    def expire(_signum: int, _frame: Any) -> None:
        raise DeadlineExceeded()

    token = _current.set(deadline)
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline.seconds))
    try:
        yield deadline
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _current.reset(token)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (Kubernetes stopping the pod, ``kill``) unwinds like Ctrl-C: clients are
    killed, staging is dropped, nothing is committed."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt()

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


CONNECT_ATTEMPTS = 3
_RETRYABLE = (2003, 2013)  # can't connect; lost connection (greeting never came)


def connect(dsn: MySQLDsn, role: str, *, database: str = "") -> Any:
    """A pymysql connection bounded by the current deadline (if any).

    A refused or unanswered connection is tried again (``CONNECT_ATTEMPTS`` in all, a
    second apart: a failover's DNS flip or a restarting proxy), never beyond the
    deadline; wrong credentials are not retried.
    """
    import pymysql

    deadline = current()
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            return _connect_once(dsn, role, database, deadline)
        except pymysql.err.OperationalError as exc:
            retry = _mysql_code(exc) in _RETRYABLE and attempt < CONNECT_ATTEMPTS
            if not retry or (deadline is not None and deadline.remaining() < 2.0):
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _connect_once(dsn: MySQLDsn, role: str, database: str, deadline: Deadline | None) -> Any:
    if deadline is None:
        return dsn.connect(
            timeout=CONNECT_SECONDS, read_timeout=DEFAULT_READ_SECONDS, database=database
        )
    deadline.on_mysql(dsn, role)
    return dsn.connect(
        timeout=deadline.call_timeout(CONNECT_SECONDS),
        read_timeout=deadline.call_timeout(DEFAULT_READ_SECONDS),
        database=database,
    )


def blob_label(container: Any) -> str:
    """The container's address without credentials (a SAS token would be in ``url``)."""
    return (
        f"Azure Blob {container.scheme}://{container.primary_hostname}/{container.container_name}"
    )


def _mysql_code(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def failure_reason(exc: BaseException, deadline: Deadline) -> str | None:
    """``"<endpoint> did not answer"`` and friends; None if ``exc`` is not a remote failure."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    blob = deadline.blob_endpoint or "Azure Blob"
    mysql = deadline.mysql_endpoint or "MySQL"
    if isinstance(exc, DeadlineExceeded):
        return (
            f"{deadline.endpoint or 'the remote end'} did not answer within the "
            f"{deadline.seconds:g} s deadline (--timeout)"
        )
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return f"{blob} did not answer ({type(exc).__name__}: {first_line(exc)})"
    if isinstance(exc, ClientAuthenticationError) or (
        isinstance(exc, HttpResponseError) and exc.status_code in (401, 403)
    ):
        code = getattr(exc, "error_code", None) or exc.status_code
        return f"{blob} refused the credentials ({getattr(code, 'value', code)})"
    if isinstance(exc, HttpResponseError):
        return f"{blob} answered {exc.status_code} ({getattr(exc, 'error_code', '') or exc.reason})"
    code = _mysql_code(exc)
    if type(exc).__module__.startswith("pymysql"):
        if code in (1044, 1045, 1698):
            return f"{mysql} refused the credentials ({code})"
        if code in (2003, 2006, 2013) or code is None:
            return f"{mysql} did not answer ({first_line(exc)})"
        return f"{mysql} failed: {first_line(exc)}"
    if isinstance(exc, socket.timeout | TimeoutError | ConnectionError):
        return f"{deadline.endpoint or 'the remote end'} did not answer ({first_line(exc)})"
    return None


def first_line(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) == 2 and isinstance(args[0], int):  # pymysql: (code, message)
        return f"{args[0]} {args[1]}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
