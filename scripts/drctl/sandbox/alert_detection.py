"""The drill's detection through Prometheus and Alertmanager, and its alert checks.

Detection: the primary-down alert reaches drctl's webhook; the failover guard
(``drctl.failover.guards.decide``, as in the Lambda) decides on it; the detection line in
the report runs from the fault to the alert's firing time. Two more checks show the
replica-lag alert when replication stops and the backup-age alert when backups stop.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drctl.alert_webhook import PrometheusLagReader, ReceivedAlert, decide_on_alert
from drctl.failover.guards import FAILOVER
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.environment import SandboxEnvironment, backup_source_dsn
from drctl.sandbox.monitoring import Monitoring, sandbox_timing, timing_statement
from drctl.sandbox.processes import ProcessSupervisor
from drctl.timeline import DETECTION, Timeline
from observability import metrics as m
from observability.rules import BACKUP_TOO_OLD, PRIMARY_DOWN, REPLICA_LAG

WAIT_SECONDS = 30.0
# What the guard reads as "lag" per DR stack (the Lambda reads the lag alarm's datapoints).
LAG_QUERIES = {
    "tokyo": f"max_over_time({m.REPLICA_LAG}[10s])",
    "azure-pilot": f"time() - max({m.BACKUP_LAST_SUCCESS})",
}
MAX_LAG = {"tokyo": 5.0, "azure-pilot": 300.0}


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class AlertDetection:
    """Owns the Monitoring for one drill; ``detect`` is the scenarios' detector."""

    def __init__(
        self,
        env: SandboxEnvironment,
        supervisor: ProcessSupervisor,
        workdir: Path,
        backup_interval: float,
    ) -> None:
        self.timing = sandbox_timing(backup_interval)
        self.backup_interval = backup_interval
        self.monitoring = Monitoring(env, supervisor, workdir, self.timing)
        self.env = env
        self.decisions: list[dict[str, Any]] = []
        self.metrics_seen: list[str] = []  # what Prometheus really stored (checked by tests)

    @property
    def statement(self) -> str:
        return timing_statement(self.timing)

    def start(self) -> None:
        self.monitoring.start()

    def stop(self) -> None:
        self.monitoring.stop()

    def wait_armed(self, stack: str) -> None:
        """Until Prometheus holds the standby's lag: the guard decides from it right after
        the alert, and a fault before the first scrape (Prometheus still starting on a
        busy machine) would leave it blind and refuse (lag unknown)."""
        reader = PrometheusLagReader(self.monitoring.prometheus_url, LAG_QUERIES[stack])
        deadline = time.monotonic() + WAIT_SECONDS
        while reader() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Prometheus had no lag for {stack} within {WAIT_SECONDS:g}s: "
                    "the drctl exporter is not being scraped"
                )
            time.sleep(0.1)

    def detect(self, stack: str, fault_at: float, timeline: Timeline, *, failover: bool) -> float:
        alert = self.monitoring.wait_for_alert(PRIMARY_DOWN, stack, fault_at, WAIT_SECONDS)
        if alert is None:
            raise RuntimeError(
                f"{PRIMARY_DOWN} ({stack}) never reached drctl's Alertmanager webhook "
                f"within {WAIT_SECONDS:g}s of the fault"
            )
        detail = (
            f"Prometheus alert {PRIMARY_DOWN} fired {alert.starts_at - fault_at:.2f}s after the "
            f"fault (blackbox probe every {self.timing.probe_interval_seconds:g}s, for: "
            f"{self.timing.detection_seconds:g}s); Alertmanager webhook reached drctl at "
            f"+{alert.received_at - fault_at:.2f}s"
        )
        if failover:
            detail += "; " + self._decide(alert, stack)
        timeline.record(DETECTION, _at(fault_at), _at(alert.starts_at), detail=detail)
        return alert.starts_at

    def _decide(self, alert: ReceivedAlert, stack: str) -> str:
        lag = PrometheusLagReader(self.monitoring.prometheus_url, LAG_QUERIES[stack])()
        decision = decide_on_alert(
            alert,
            threshold_seconds=self.timing.detection_seconds,
            lag_seconds=lag,
            max_lag_seconds=MAX_LAG[stack],
            auto_promote=True,  # the drill rehearses automatic failover
        )
        self.decisions.append(
            {"stack": stack, "action": decision.action, "reason": decision.reason}
        )
        if decision.action != FAILOVER:
            raise RuntimeError(f"failover guard said {decision.action}: {decision.reason}")
        return f"guard (drctl.failover.guards): {decision.action} ({decision.reason})"

    # --- the alert checks ----------------------------------------------------------

    def run_checks(self, say: Callable[[str], None]) -> list[dict[str, Any]]:
        results = []
        for check in (self._lag_check, self._backup_check):
            try:
                results.append(check())
            except Exception as exc:  # one broken check must not hide the other
                results.append({"check": check.__name__.strip("_"), "error": f"{exc}"})
            finally:
                with contextlib.suppress(Exception):
                    self.env.teardown_regions()
            say(f"  alert check: {_one_line(results[-1])}")
        with contextlib.suppress(OSError, ValueError, KeyError):
            self.metrics_seen = self.monitoring.metric_names()
        return results

    def _lag_check(self) -> dict[str, Any]:
        ws = self.env.warm_standby()
        self._wait_for(f"{m.MYSQL_IO_RUNNING} == 1", "mysqld_exporter sees the replica running")
        self.monitoring.wait_until_quiet(REPLICA_LAG, "tokyo")
        stopped_at = time.time()
        ws.tokyo_db.execute("STOP SLAVE")
        alert = self.monitoring.wait_for_alert(REPLICA_LAG, "tokyo", stopped_at, WAIT_SECONDS)
        return _check_result("replication stopped", REPLICA_LAG, stopped_at, alert)

    def _backup_check(self) -> dict[str, Any]:
        from drctl.sandbox.scenarios import BackupLoop

        seoul_db, _app = self.env.pilot_primary()
        container = self.env.backup_container()
        for blob in list(container.list_blobs()):
            container.delete_blob(blob.name)
        loop = BackupLoop(
            lambda: run_backup(
                backup_source_dsn(seoul_db),
                container,
                BackupOptions(DATABASE, retention=timedelta(hours=1)),
            ),
            self.backup_interval,
        )
        loop.start()
        try:
            self._wait_for(
                f"time() - {m.BACKUP_LAST_SUCCESS} < {self.backup_interval * 2:g}",
                "Prometheus sees a fresh backup",
            )
            self.monitoring.wait_until_quiet(BACKUP_TOO_OLD, "azure-pilot", WAIT_SECONDS)
        finally:
            loop.stop()
        stopped_at = time.time()
        alert = self.monitoring.wait_for_alert(
            BACKUP_TOO_OLD, "azure-pilot", stopped_at, WAIT_SECONDS
        )
        result = _check_result("backups stopped", BACKUP_TOO_OLD, stopped_at, alert)
        result["backups_committed"] = len(loop.completed)
        return result

    def _wait_for(self, query: str, what: str) -> None:
        reader = PrometheusLagReader(self.monitoring.prometheus_url, query)
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if reader() is not None:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"timed out waiting until {what} ({query})")


def _check_result(
    fault: str, name: str, fault_at: float, alert: ReceivedAlert | None
) -> dict[str, Any]:
    return {
        "check": fault,
        "alert": name,
        "fired": alert is not None,
        "fired_after_s": None if alert is None else round(alert.starts_at - fault_at, 3),
        "webhook_after_s": None if alert is None else round(alert.received_at - fault_at, 3),
        "error": None if alert is not None else f"{name} did not reach the webhook",
    }


def _one_line(result: dict[str, Any]) -> str:
    if result.get("error"):
        return f"{result['check']}: FAILED: {result['error']}"
    return (
        f"{result['check']} → {result['alert']} fired after {result['fired_after_s']:.2f}s, "
        f"webhook at +{result['webhook_after_s']:.2f}s"
    )
