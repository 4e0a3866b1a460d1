"""The engine's ``Scaler`` and ``HealthProbe`` for app processes, and the sandbox "DNS".

``SandboxScaler`` plays Kubernetes: a deployment is one app process, replicas 0 or 1.
``FailoverRouting`` plays the resolver behind the Route 53 failover record: it answers
with the DR region exactly when the primary's health check is inverted in moto.
It does not model health-check-driven failover, TTL expiry across resolvers or
propagation; the drill reports those as not covered.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from drctl.failover.health import HttpHealthProbe
from drctl.failover.protocols import DnsSwitch, HealthResult
from drctl.sandbox.app_process import AppProcess

AppFactory = Callable[[], AppProcess]


class SandboxScaler:
    def __init__(self, deployments: dict[str, AppProcess | AppFactory]) -> None:
        self._apps: dict[str, AppProcess] = {}
        self._factories: dict[str, AppFactory] = {}
        for name, app in deployments.items():
            if isinstance(app, AppProcess):
                self._apps[name] = app
            else:
                self._factories[name] = app

    def app(self, name: str) -> AppProcess | None:
        return self._apps.get(name)

    def current_replicas(self) -> dict[str, int]:
        names = set(self._apps) | set(self._factories)
        return {
            name: int(bool(self._apps.get(name) and self._apps[name].alive())) for name in names
        }

    def scale(self, replicas: dict[str, int]) -> None:
        for name, count in replicas.items():
            app = self._apps.get(name)
            if count > 0 and (app is None or not app.alive()):
                if app is None:
                    app = self._apps[name] = self._factories[name]()
                app.start()
            elif count == 0 and app is not None and app.alive():
                app.stop()

    def wait_ready(self, replicas: dict[str, int], timeout_seconds: float) -> None:
        for name, count in replicas.items():
            app = self._apps.get(name)
            if count > 0 and (app is None or not app.wait_healthy(timeout_seconds)):
                raise TimeoutError(f"deployment {name} not ready after {timeout_seconds}s")


class AppHealthProbe:
    """Production's probe (``HttpHealthProbe``: the DR region, a *writable* database) on
    whatever process currently serves ``region``: only the URL is the sandbox's, because
    an app process gets a new port when it restarts."""

    def __init__(self, locate: Callable[[], AppProcess | None], expect_region: str) -> None:
        self._locate = locate
        self._expect_region = expect_region

    def check(self) -> HealthResult:
        app = self._locate()
        if app is None or not app.alive():
            return HealthResult(False, f"{self._expect_region} app not running")
        return HttpHealthProbe(app.url, expect_region=self._expect_region).check()


class FailoverRouting:
    """Which app a client reaches: primary, or DR while the health check is inverted."""

    def __init__(
        self,
        switch: DnsSwitch,
        primary: Callable[[], AppProcess | None],
        secondary: Callable[[], AppProcess | None],
        cache_seconds: float = 0.2,
    ) -> None:
        self._switch = switch
        self._primary = primary
        self._secondary = secondary
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._forced = False
        self._checked_at = 0.0

    def forced(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked_at > self._cache_seconds:
                # On error keep the last answer, as a resolver keeps its cache.
                with contextlib.suppress(Exception):
                    self._forced = self._switch.is_forced_to_dr()
                self._checked_at = time.monotonic()
            return self._forced

    def __call__(self) -> str | None:
        app = self._secondary() if self.forced() else self._primary()
        return app.url if app is not None and app.alive() else None
