"""Route 53 implementation of ``DnsSwitch``: invert the failover switch health check.

The switch is the always-healthy child of the calculated check that gates the PRIMARY
record (see ``components/route53_failover.py``); inverting it fails the gate whatever
the primary's own probe says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def observed_healthy_fraction(route53: Any, health_check_id: str) -> float | None:
    """Share of Route 53 checkers whose last observation was a success."""
    observations = route53.get_health_check_status(HealthCheckId=health_check_id)[
        "HealthCheckObservations"
    ]
    if not observations:
        return None
    ok = sum(
        1
        for item in observations
        if item.get("StatusReport", {}).get("Status", "").startswith("Success")
    )
    return ok / len(observations)


class Route53DnsSwitch:
    def __init__(
        self,
        route53: Any,
        health_check_id: str,
        status_reader: Callable[[], float | None] | None = None,
    ) -> None:
        self._route53 = route53
        self._health_check_id = health_check_id
        # Injected in tests: moto always reports checks healthy.
        self._status_reader = status_reader or (
            lambda: observed_healthy_fraction(route53, health_check_id)
        )

    @property
    def health_check_id(self) -> str:
        return self._health_check_id

    def _config(self) -> dict[str, Any]:
        response = self._route53.get_health_check(HealthCheckId=self._health_check_id)
        config: dict[str, Any] = response["HealthCheck"]["HealthCheckConfig"]
        return config

    def is_forced_to_dr(self) -> bool:
        config = self._config()
        return bool(config.get("Inverted")) and not config.get("Disabled")

    def force_to_dr(self) -> None:
        if self.is_forced_to_dr():
            return
        # Disabled=False explicitly: a disabled check counts as healthy, which would keep
        # traffic on the primary no matter what we invert.
        self._route53.update_health_check(
            HealthCheckId=self._health_check_id, Inverted=True, Disabled=False
        )

    def revert(self) -> None:
        config = self._config()
        if not config.get("Inverted") and not config.get("Disabled"):
            return
        self._route53.update_health_check(
            HealthCheckId=self._health_check_id, Inverted=False, Disabled=False
        )

    def primary_observed_healthy(self) -> float | None:
        """Fraction of checkers seeing the primary healthy, as Route 53 reports it."""
        return self._status_reader()
