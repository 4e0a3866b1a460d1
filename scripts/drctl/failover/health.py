"""HTTP implementation of ``HealthProbe``: GET <app_url>/health."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from drctl.failover.protocols import HealthResult


class HttpHealthProbe:
    def __init__(
        self, app_url: str, path: str = "/health", timeout: float = 5.0, expect_region: str = ""
    ) -> None:
        self.url = app_url.rstrip("/") + path
        self._timeout = timeout
        # When the app reports which region serves it, insist on the DR region: a 200
        # from the old primary would otherwise look like a successful failover.
        self._expect_region = expect_region

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
        if self._expect_region:
            try:
                region = json.loads(body).get("region", "")
            except (ValueError, AttributeError):
                region = ""
            if region and region != self._expect_region:
                return HealthResult(
                    False, f"{self.url} is served by {region}, expected {self._expect_region}"
                )
        return HealthResult(True, f"{self.url} answered HTTP 200")
