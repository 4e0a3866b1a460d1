"""Wait for a call at most N seconds, whatever the call itself does.

botocore's own timeouts apply per attempt and are multiplied by its retries, and a
silent listener (a dark region's endpoint that accepts TCP and never answers) holds a
read until the read timeout. For a call that must never block a failover, the caller
stops waiting at the deadline; the call is left to finish (or fail) on a daemon thread
that cannot keep the process alive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """The call did not return within its deadline (it may still be running)."""


def call_with_deadline(call: Callable[[], T], seconds: float, what: str = "call") -> T:
    outcome: dict[str, object] = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, daemon=True, name=f"deadline-{what}").start()
    if not done.wait(seconds):
        raise DeadlineExceeded(f"{what}: no answer within {seconds:g}s, gave up waiting")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
