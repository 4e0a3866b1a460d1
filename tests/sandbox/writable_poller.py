"""Polls several databases and records every moment two of them accept writes.

"Accepts writes" is what the app's account sees: the server answers and its
``read_only`` is 0 (the app's grants have no READ_ONLY ADMIN/SUPER, so read_only binds it).
Polled as root, the test's observer, never by a production step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drctl.sandbox.mariadb import MariaDBServer


def accepts_writes(server: MariaDBServer) -> bool:
    if not server.alive():
        return False
    try:
        return str(server.execute("SELECT @@GLOBAL.read_only")[0][0]) == "0"
    except Exception:
        return False  # down or restarting: it accepts nothing


def _label(server: MariaDBServer) -> str:
    return f"{server.name}#{server.server_id}"


def _still_all_writable(first_pass: list[MariaDBServer]) -> bool:
    """Read again in reverse order: a server read writable in both passes was writable
    across the other servers' reads, so the overlap was simultaneous. One pass alone can
    span seconds on a loaded machine (a thread descheduled between two reads), and would
    pair a primary read just before its crash with the replica promoted after it."""
    return all(accepts_writes(server) for server in reversed(first_pass))


class WritablePoller:
    def __init__(self, servers: Callable[[], list[MariaDBServer]], every: float = 0.02) -> None:
        self._servers = servers
        self._every = every
        self._stop = threading.Event()
        self.samples = 0
        self.overlaps: list[tuple[float, list[str]]] = []
        self.seen_writable: set[str] = set()
        self._thread = threading.Thread(target=self._run, daemon=True, name="writable-poller")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            found = [s for s in self._servers() if accepts_writes(s)]
            self.samples += 1
            self.seen_writable.update(_label(s) for s in found)
            if len(found) > 1 and _still_all_writable(found):
                self.overlaps.append((time.time(), [_label(s) for s in found]))
            self._stop.wait(self._every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
