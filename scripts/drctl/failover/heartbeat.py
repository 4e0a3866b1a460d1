"""Keep a short-TTL lock alive while its holder works, and only while it works.

The failover lock expires after ``ttl`` seconds unless renewed. A live run renews it
every ``ttl / 3`` seconds from a daemon thread, so a long promotion (RDS takes minutes)
never loses the lock, while a killed run stops renewing and its lock expires within
one TTL. A renewal that is refused means someone took the lock over: the run must stop
changing things, which the steps check through ``lost``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from drctl.failover.protocols import Lock


class LockHeartbeat:
    def __init__(
        self,
        lock: Lock,
        owner: str,
        ttl_seconds: int,
        *,
        interval_seconds: float | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self._lock = lock
        self._owner = owner
        self._ttl = ttl_seconds
        self.interval_seconds = interval_seconds or max(ttl_seconds / 3, 0.05)
        self._say = say
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"lock-{owner}")
        self.renewals = 0
        self.lost: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                renewed = self._lock.renew(self._owner, self._ttl)
            except Exception as exc:  # transient: two more beats fit in one TTL
                self._say(f"WARNING lock heartbeat failed, retrying: {exc}")
                continue
            if not renewed:
                holder = self._lock.holder()
                now_held_by = holder.describe() if holder else "nobody"
                self.lost = f"lock of {self._owner} was taken over (now: {now_held_by})"
                self._say(f"WARNING {self.lost}")
                return
            self.renewals += 1
