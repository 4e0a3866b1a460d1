"""The Grafana dashboard for drstack's Prometheus metrics, built with grafana-foundation-sdk.

``python -m observability.dashboards.grafana`` rewrites ``drstack.json``; a test fails
when the checked-in file is stale, and checks every metric a panel queries against what
the exporters and rules really expose.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from observability import metrics as m

OUTPUT = Path(__file__).resolve().parent / "drstack.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# (title, unit, [(expr, legend)], kind)
PANELS: tuple[tuple[str, str, tuple[tuple[str, str], ...], str], ...] = (
    (
        "Firing drstack alerts",
        "none",
        (
            (
                'count by (alertname, stack) (ALERTS{alertstate="firing", alertname=~"Drstack.*"})',
                "{{alertname}} {{stack}}",
            ),
        ),
        "stat",
    ),
    (
        "Health probes (1 = up)",
        "none",
        ((f'{m.PROBE_SUCCESS}{{job=~"{m.JOB_PRIMARY}|{m.JOB_STANDBY}"}}', "{{job}} {{instance}}"),),
        "timeseries",
    ),
    (
        "Replica lag",
        "s",
        (
            (m.REPLICA_LAG, "drctl (lag guard) {{stack}}"),
            (m.MYSQL_LAG, "mysqld_exporter {{instance}}"),
        ),
        "timeseries",
    ),
    (
        "Replication threads and lag known (1 = yes)",
        "none",
        (
            (m.MYSQL_IO_RUNNING, "IO thread {{instance}}"),
            (m.MYSQL_SQL_RUNNING, "SQL thread {{instance}}"),
            (m.REPLICA_LAG_KNOWN, "lag known {{stack}}"),
        ),
        "timeseries",
    ),
    (
        "Age of the newest good backup",
        "s",
        ((f"time() - {m.BACKUP_LAST_SUCCESS}", "{{container}}"),),
        "timeseries",
    ),
    (
        "Newest backup size",
        "bytes",
        (
            (m.BACKUP_LAST_SIZE, "compressed {{container}}"),
            (m.BACKUP_LAST_UNCOMPRESSED, "uncompressed {{container}}"),
        ),
        "timeseries",
    ),
    (
        "Backups (count, storage up, checksummed)",
        "none",
        (
            (m.BACKUP_COUNT, "committed backups"),
            (m.BACKUP_UP, "storage readable"),
            (m.BACKUP_LAST_VERIFIABLE, "newest has sha256"),
        ),
        "timeseries",
    ),
    (
        "Binlog archive: lag, age of the newest archived event, last check",
        "s",
        (
            (m.BINLOG_LAG, "archiver behind {{container}}"),
            (f"time() - {m.BINLOG_LAST_EVENT}", "newest archived event age {{container}}"),
            (f"time() - {m.BINLOG_CHECKED}", "since the archiver's last check {{container}}"),
        ),
        "timeseries",
    ),
    (
        "Binlog archive gaps a kept dump needs (drctl status names start and end)",
        "none",
        ((m.BINLOG_GAPS, "gaps {{container}}"),),
        "timeseries",
    ),
    (
        "Failover / failback runs",
        "none",
        (
            (m.FAILOVER_ACTIVE, "active {{kind}}"),
            (f"time() - {m.FAILOVER_LAST_FINISHED}", "seconds since last {{kind}}"),
            (m.FAILOVER_RUNS, "{{status}} {{kind}} run files"),
        ),
        "timeseries",
    ),
    (
        "drctl exporter: sources answering in time, seconds since each last did",
        "none",
        (
            (m.EXPORTER_SOURCE_UP, "{{source}} up"),
            (m.EXPORTER_SOURCE_AGE, "{{source}} last answered (s ago)"),
        ),
        "timeseries",
    ),
)


def _target(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)


def _panel(title: str, unit: str, queries: tuple[tuple[str, str], ...], kind: str) -> object:
    panel = stat.Panel() if kind == "stat" else timeseries.Panel()
    panel = panel.title(title).unit(unit).datasource(DATASOURCE).height(8).span(12)  # type: ignore[arg-type]
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(_target(expr, legend, chr(ord("A") + index)))
    return panel


def build() -> dict:
    board = (
        dashboard.Dashboard("drstack — disaster recovery")
        .uid("drstack-dr")
        .tags(["drstack", "dr"])
        .refresh("30s")
        .time("now-6h", "now")
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
        )
    )
    for title, unit, queries, kind in PANELS:
        board = board.with_panel(_panel(title, unit, queries, kind))  # type: ignore[arg-type]
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def queries(doc: dict) -> list[str]:
    return [t["expr"] for p in doc.get("panels", []) for t in p.get("targets", [])]


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")
