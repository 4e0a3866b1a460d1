"""Alertmanager → drctl: the webhook receiver and the failover decision it drives.

The decision is ``drctl.failover.guards.decide``, the one the CloudWatch-alarm Lambda
(``drctl.lambda_handler``) uses: only the facts come from a different monitor. An
Alertmanager notification says the primary-down rule fired; the rule's annotations say
how long the probe had been failing (``detection_seconds``) and how often it probes
(``probe_interval_seconds``), which give the guard its consecutive-failure count.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from drctl.failover.guards import Decision, GuardInput, decide


@dataclass(frozen=True)
class ReceivedAlert:
    name: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float  # when Prometheus says the alert started firing (epoch seconds)
    received_at: float  # when the webhook got it

    @classmethod
    def from_payload(cls, alert: dict[str, Any], received_at: float) -> ReceivedAlert:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        starts = str(alert.get("startsAt") or "")
        return cls(
            name=labels.get("alertname", "?"),
            status=str(alert.get("status", "")),
            labels=labels,
            annotations={str(k): str(v) for k, v in (alert.get("annotations") or {}).items()},
            starts_at=_epoch(starts) if starts else received_at,
            received_at=received_at,
        )


def _epoch(stamp: str) -> float:
    # Alertmanager sends RFC 3339 with nanoseconds; Python parses microseconds at most.
    head, dot, rest = stamp.replace("Z", "+00:00").partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        stamp = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(stamp).timestamp()


def guard_input(
    alert: ReceivedAlert,
    *,
    threshold_seconds: float,
    lag_seconds: float | None,
    max_lag_seconds: float,
    auto_promote: bool,
    now: float | None = None,
) -> GuardInput:
    interval = float(alert.annotations.get("probe_interval_seconds", "0") or 0)
    failing_for = float(alert.annotations.get("detection_seconds", "0") or 0)
    failing_for += max(0.0, (now if now is not None else time.time()) - alert.starts_at)
    count = math.floor(failing_for / interval + 1e-9) if interval > 0 else 0
    return GuardInput(
        consecutive_failures=count,
        interval_seconds=interval,
        threshold_seconds=threshold_seconds,
        lag_seconds=lag_seconds,
        max_lag_seconds=max_lag_seconds,
        auto_promote=auto_promote,
    )


def decide_on_alert(alert: ReceivedAlert, **facts: Any) -> Decision:
    return decide(guard_input(alert, **facts))


class PrometheusLagReader:
    """The replica lag Prometheus saw recently (max over a window), like the Lambda's
    lag reader reads current CloudWatch datapoints. None when there is no data."""

    def __init__(self, prometheus_url: str, query: str, timeout: float = 2.0) -> None:
        self._url = prometheus_url.rstrip("/")
        self._query = query
        self._timeout = timeout

    def __call__(self) -> float | None:
        url = f"{self._url}/api/v1/query?{urllib.parse.urlencode({'query': self._query})}"
        with urllib.request.urlopen(url, timeout=self._timeout) as response:
            body = json.loads(response.read())
        values = [float(item["value"][1]) for item in body.get("data", {}).get("result", [])]
        values = [v for v in values if not math.isnan(v)]
        return max(values) if values else None


@dataclass
class AlertInbox:
    """Every notification the webhook received, for whoever waits on one."""

    alerts: list[ReceivedAlert] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, alerts: list[ReceivedAlert]) -> None:
        with self._cond:
            self.alerts.extend(alerts)
            self._cond.notify_all()

    def wait_for(
        self, match: Callable[[ReceivedAlert], bool], timeout: float
    ) -> ReceivedAlert | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = next((a for a in self.alerts if match(a)), None)
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                self._cond.wait(remaining)


class AlertWebhook:
    """A threaded HTTP server for Alertmanager's ``webhook_configs`` (POST JSON)."""

    def __init__(self, inbox: AlertInbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.inbox = inbox
        handler = _handler_for(inbox)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="alert-webhook"
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/alerts"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(inbox: AlertInbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
                now = time.time()
                inbox.add([ReceivedAlert.from_payload(a, now) for a in payload.get("alerts", [])])
            except (ValueError, TypeError, AttributeError):
                self.send_response(400)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the drill prints
            return

    return Handler
