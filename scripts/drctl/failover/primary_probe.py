"""``PrimaryProbe`` for AWS: the primary database's status and the primary app's /health.

Used only after a failover has acted, under the engine's deadline (``bounded.py``); a
dark region shows up as a skipped step on the timeline, never as a stuck failover.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any


class PrimaryRegionProbe:
    def __init__(
        self,
        rds: Any | None,
        instance_id: str | None,
        app_url: str | None,
        http_timeout_seconds: float = 3.0,
    ) -> None:
        self._rds = rds
        self._instance_id = instance_id
        self._app_url = app_url
        self._http_timeout = http_timeout_seconds

    def _database(self) -> str:
        rds: Any = self._rds
        instance = rds.describe_db_instances(DBInstanceIdentifier=self._instance_id)
        return f"database {self._instance_id} {instance['DBInstances'][0]['DBInstanceStatus']}"

    def _app(self) -> str:
        url = f"{str(self._app_url).rstrip('/')}/health"
        try:
            with urllib.request.urlopen(url, timeout=self._http_timeout) as response:
                return f"app /health {response.status}"
        except urllib.error.HTTPError as exc:
            return f"app /health {exc.code}"

    def observe(self) -> str:
        seen: list[str] = []
        unreachable: list[str] = []
        checks = []
        if self._rds is not None and self._instance_id:
            checks.append((f"database {self._instance_id}", self._database))
        if self._app_url:
            checks.append(("app", self._app))
        for label, check in checks:
            try:
                seen.append(check())
            except Exception as exc:
                unreachable.append(f"{label}: {type(exc).__name__}: {exc}")
        if not seen:
            raise ConnectionError("; ".join(unreachable) or "nothing to look at")
        return "; ".join(seen + [f"unreachable {item}" for item in unreachable])
