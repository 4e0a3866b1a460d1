"""Alertmanager's webhook payload → drctl's inbox → the failover guard's decision."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime

from drctl.alert_webhook import AlertInbox, AlertWebhook, ReceivedAlert, decide_on_alert
from drctl.failover.guards import FAILOVER, IGNORE, REFUSE


def _payload(starts_at: str) -> dict:
    # The shape Alertmanager's webhook_configs POSTs (version 4).
    return {
        "version": "4",
        "status": "firing",
        "receiver": "drctl",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DrstackPrimaryDown", "stack": "tokyo"},
                "annotations": {"detection_seconds": "30", "probe_interval_seconds": "10"},
                "startsAt": starts_at,
                "endsAt": "0001-01-01T00:00:00Z",
            }
        ],
    }


def test_webhook_receives_alertmanager_payloads() -> None:
    inbox = AlertInbox()
    hook = AlertWebhook(inbox)
    hook.start()
    try:
        body = json.dumps(_payload("2026-11-29T10:00:00.123456789Z")).encode()
        request = urllib.request.Request(hook.url, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        alert = inbox.wait_for(lambda a: a.name == "DrstackPrimaryDown", timeout=5)
    finally:
        hook.stop()
    assert alert is not None and alert.labels["stack"] == "tokyo"
    expected = datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=UTC).timestamp()
    assert abs(alert.starts_at - expected) < 1e-6  # nanoseconds cut to microseconds


def _alert(age: float) -> ReceivedAlert:
    now = time.time()
    return ReceivedAlert(
        name="DrstackPrimaryDown",
        status="firing",
        labels={},
        annotations={"detection_seconds": "30", "probe_interval_seconds": "10"},
        starts_at=now - age,
        received_at=now,
    )


def test_guard_counts_failures_from_the_rule_window_and_the_alert_age() -> None:
    facts = {"lag_seconds": 1.0, "max_lag_seconds": 5.0, "auto_promote": True}
    # just fired: 30s of failures < the Lambda-style 60s threshold -> wait
    assert decide_on_alert(_alert(0), threshold_seconds=60, **facts).action == IGNORE
    # still firing 30s later: 6 failures x 10s = 60s -> fail over
    assert decide_on_alert(_alert(30), threshold_seconds=60, **facts).action == FAILOVER
    too_far_behind = {**facts, "lag_seconds": 9.0}
    assert decide_on_alert(_alert(30), threshold_seconds=60, **too_far_behind).action == REFUSE
