"""One drill run whose detection goes through the real Prometheus and Alertmanager.

Fails if the primary-down alert does not fire, if Alertmanager's webhook does not
reach drctl, or if the lag and backup-age alerts do not fire when replication and
backups stop.
"""

from __future__ import annotations

from pathlib import Path

from drctl.sandbox.azurite import azurite_available
from drctl.sandbox.drill import DrillOptions, run_drill
from drctl.sandbox.mariadb import mariadb_available
from drctl.sandbox.monitoring import BINARIES
from drctl.timeline import DETECTION, from_iso
from tests.observability.conftest import require, require_binary


def test_db_failure_is_detected_by_the_primary_down_alert(tmp_path: Path) -> None:
    require(mariadb_available(), "MariaDB")
    require(azurite_available(), "Azurite")
    for binary in BINARIES.values():
        require_binary(binary)
    result = run_drill(
        DrillOptions(
            report_dir=tmp_path / "reports",
            outputs_path=tmp_path / "outputs.json",
            scenarios=["db-failure"],
            monitoring=True,
            write_reports=False,
        ),
        say=lambda line: None,
    )
    [run] = result.results
    assert run.error is None and run.rto_seconds is not None
    detection = run.timeline.last(DETECTION)
    assert detection is not None and detection.finished_at is not None
    assert run.detection_seconds is not None
    assert "DrstackPrimaryDown" in detection.detail and "webhook reached drctl" in detection.detail
    assert "guard (drctl.failover.guards): failover" in detection.detail
    # The detection line ends at the alert's firing time: never before `for:` (1.5 s).
    took = (from_iso(detection.finished_at) - from_iso(detection.started_at)).total_seconds()
    assert took >= 1.5 and abs(took - run.detection_seconds) < 0.01
    checks = {c["alert"]: c for c in result.alert_checks if "alert" in c}
    assert [c for c in result.alert_checks if c.get("error")] == []
    assert checks["DrstackReplicaLagHigh"]["fired_after_s"] >= 1.5
    assert checks["DrstackBackupTooOld"]["fired"]
    # Every metric the shipped rules and the Grafana dashboard read was really exposed
    # by blackbox_exporter, mysqld_exporter or drctl exporter during the run.
    wanted = _rule_and_dashboard_metrics() - {"ALERTS"}  # ALERTS is Prometheus' own
    assert wanted - set(result.metrics_seen) == set()


def _rule_and_dashboard_metrics() -> set[str]:
    from observability.dashboards.grafana import build, queries
    from observability.promql import metric_names
    from observability.rules import build_rules
    from observability.stack_config import DR_STACKS, load_stack_config

    exprs = queries(build())
    for stack in DR_STACKS:
        exprs += [r["expr"] for r in build_rules(load_stack_config(stack))["groups"][0]["rules"]]
    return {name for expr in exprs for name in metric_names(expr)}


def test_region_dark_is_detected_by_the_primary_down_alert(tmp_path: Path) -> None:
    """Seoul's app, database and AWS APIs die together: detection still goes through
    Prometheus and Alertmanager (the probes run outside the dark region), and the guard
    decides from Prometheus' lag, never from Seoul."""
    require(mariadb_available(), "MariaDB")
    require(azurite_available(), "Azurite")
    for binary in BINARIES.values():
        require_binary(binary)
    result = run_drill(
        DrillOptions(
            report_dir=tmp_path / "reports",
            outputs_path=tmp_path / "outputs.json",
            scenarios=["region-dark"],
            monitoring=True,
            write_reports=False,
        ),
        say=lambda line: None,
    )
    [run] = result.results
    assert run.error is None and run.rto_seconds is not None, run.error
    detection = run.timeline.last(DETECTION)
    assert detection is not None and detection.finished_at is not None
    assert "DrstackPrimaryDown" in detection.detail and "webhook reached drctl" in detection.detail
    assert "guard (drctl.failover.guards): failover" in detection.detail
    assert "sandbox probe" not in detection.detail
    assert any("Seoul's AWS APIs" in note for note in run.notes)
