"""One source of ``drctl exporter``, read in its own thread so a scrape can stop waiting.

A storage account that hangs (accepts, never answers) or refuses while its SDK retries
would hold a scrape past Prometheus' scrape_timeout, and the scrape's "down" would
never be stored. The read runs in a daemon thread; the scrape waits for it until its
budget ends and otherwise reports the source down. Only a read started by this scrape
counts: one still running from an earlier scrape is not waited on again nor doubled
(no pile of listings on a slow storage account), and its late answer is dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client.core import Metric


def _nothing() -> Iterable[Metric]:
    return ()


@dataclass
class Source:
    name: str
    read: Callable[[], Iterable[Metric]]  # raises when the source failed
    down: Callable[[], Iterable[Metric]] = _nothing  # what to say when it did not answer
    last_success: float | None = None  # wall clock, for the age metric
    _started: float | None = field(default=None, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _metrics: list[Metric] | None = field(default=None, repr=False)

    def start(self, scrape: float) -> None:
        """Start a fresh read for this scrape, unless the previous one still hangs."""
        if self._started is not None and not self._done.is_set():
            return
        self._started, self._metrics, self._done = scrape, None, threading.Event()
        done = self._done
        threading.Thread(
            target=self._run, args=(done,), name=f"exporter-{self.name}", daemon=True
        ).start()

    def _run(self, done: threading.Event) -> None:
        try:
            metrics = list(self.read())
        except Exception:
            metrics = None
        if done is self._done:
            self._metrics = metrics
        done.set()

    def result(self, scrape: float, deadline: float) -> list[Metric] | None:
        """This scrape's metrics, or None: failed, too slow, or still an older read."""
        if self._started != scrape:
            return None
        if not self._done.wait(max(0.0, deadline - time.monotonic())):
            return None
        if self._metrics is not None:
            self.last_success = time.time()
        return self._metrics
