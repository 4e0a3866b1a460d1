"""HTTP implementation of ``HealthProbe``: GET <app_url>/health.

The drstack app answers ``/health`` with ``{"region": <cloud region>, "stack": ...,
"db": <reachable>, "db_writable": <connected and not read_only>}``. After a failover
the DR app is only healthy when it is served from the DR region AND writes to a
writable (promoted) database: "process up" alone is what a standby already is.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from drctl.failover.protocols import HealthResult


class HttpHealthProbe:
    def __init__(
        self,
        app_url: str,
        path: str = "/health",
        timeout: float = 5.0,
        expect_region: str = "",
        require_writable: bool = True,
    ) -> None:
        self.url = app_url.rstrip("/") + path
        self._timeout = timeout
        # When the app reports which region serves it, insist on the DR region: a 200
        # from the old primary would otherwise look like a successful failover.
        self._expect_region = expect_region
        self._require_writable = require_writable

    def check(self) -> HealthResult:
        try:
            with urllib.request.urlopen(self.url, timeout=self._timeout) as response:
                body = response.read(65536).decode("utf-8", "replace")
                status = response.status
        except urllib.error.HTTPError as exc:
            return HealthResult(False, f"{self.url} answered HTTP {exc.code}")
        except (urllib.error.URLError, OSError) as exc:
            return HealthResult(False, f"{self.url} unreachable: {exc}")
        if status != 200:
            return HealthResult(False, f"{self.url} answered HTTP {status}")
        return self._judge(_document(body))

    def _judge(self, doc: dict[str, Any]) -> HealthResult:
        region = doc.get("region", "")
        if self._expect_region and region and region != self._expect_region:
            return HealthResult(
                False, f"{self.url} is served by {region}, expected {self._expect_region}"
            )
        # Apps that do not report the field (older builds, other stacks' pages) are
        # judged on HTTP 200 alone; the drstack app always reports it.
        if self._require_writable and doc.get("db_writable") is False:
            reason = doc.get("db_error") or "not writable"
            return HealthResult(False, f"{self.url}: app up, database not writable ({reason})")
        writable = ", database writable" if doc.get("db_writable") else ""
        return HealthResult(True, f"{self.url} answered HTTP 200{writable}")


def _document(body: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
