"""The Grafana dashboard: generated, current, and querying only metrics that exist."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from drctl.exporter import ExporterSources, make_registry
from observability import metrics as m
from observability.dashboards.grafana import OUTPUT, build, queries, render
from observability.promql import metric_names
from observability.rules import build_rules
from observability.stack_config import RULE_STACKS, load_stack_config

# Exposed by the Debian exporters the sandbox runs (the drill test checks them live).
EXTERNAL = {
    m.SCRAPE_UP,
    m.PROBE_SUCCESS,
    m.MYSQL_LAG,
    m.MYSQL_IO_RUNNING,
    m.MYSQL_SQL_RUNNING,
    "ALERTS",
}


def test_checked_in_dashboard_is_current() -> None:
    assert OUTPUT.read_text(encoding="utf-8") == render(), (
        "observability/dashboards/drstack.json is stale: run "
        "`python -m observability.dashboards.grafana`"
    )


def _exporter_names(tmp_path) -> set[str]:
    (tmp_path / "run.json").write_text(
        '{"kind": "failover", "finished": true, "steps": {"a": {"updated_at": "2026-01-01T00:00:00Z"}}}'
    )
    sources = ExporterSources(stack="t", lag_reader=lambda: 1.0, state_dir=tmp_path)
    text = generate_latest(make_registry(sources)).decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_every_panel_and_rule_reads_an_exposed_metric(tmp_path, container) -> None:
    from datetime import UTC, datetime

    from drctl.pilotlight.catalog import backup_name
    from drctl.pilotlight.formats import BackupFormat

    container.upload_blob(backup_name(datetime.now(UTC), BackupFormat("zstd")), b"x")
    exposed = _exporter_names(tmp_path) | EXTERNAL
    text = generate_latest(make_registry(ExporterSources(stack="t", container=container)))
    exposed |= {s.name for f in text_string_to_metric_families(text.decode()) for s in f.samples}
    doc = build()
    used = {name for expr in queries(doc) for name in metric_names(expr)}
    for stack in RULE_STACKS:
        rules = build_rules(load_stack_config(stack))["groups"][0]["rules"]
        used |= {name for r in rules for name in metric_names(r["expr"])}
    assert used - exposed == set()
    # and the dashboard shows every metric drctl exporter has
    assert set(m.EXPORTER_METRICS) - {n for e in queries(doc) for n in metric_names(e)} == set()
