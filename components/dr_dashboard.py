"""A CloudWatch dashboard for the warm-standby DR site (seed 004's monitoring view).

Widgets: the replica's ``ReplicaLag`` (RDS) or the secondary cluster's
``AuroraGlobalDBReplicationLag`` (Aurora, in milliseconds) against its limit, the primary probe's and the
failover switch's ``HealthCheckStatus`` (Route 53 publishes them in us-east-1 only, so
those widgets name that region), and the failover Lambda's invocations, errors and
throttles. AWS publishes no metric for the age of the last good backup: that lives in
Prometheus (``drstack_backup_last_success_timestamp_seconds`` from ``drctl exporter``),
which a text widget says instead of showing an empty graph.

Dashboards are global per account, but the API is regional: the dashboard is written
through the DR region's provider, so nothing here needs the primary region.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

ROUTE53_METRICS_REGION = "us-east-1"


@dataclass(kw_only=True)
class DrDashboardArgs:
    provider: aws.Provider
    dr_region: str
    dashboard_name: str  # 1-255 characters of A-Z a-z 0-9 - _ (PutDashboard)
    health_check_id: pulumi.Input[str]
    switch_health_check_id: pulumi.Input[str]
    function_name: pulumi.Input[str]
    max_lag_seconds: float
    # "mysql": the RDS read replica's lag; "aurora-mysql": the secondary cluster's.
    replica_instance_id: pulumi.Input[str] | None = None
    db_engine: str = "mysql"
    replica_cluster_id: pulumi.Input[str] | None = None
    # Aurora: the primary's region, the SourceRegion dimension of the lag metric.
    source_region: str | None = None
    runbook: str = "README.md#detection-and-alerting"
    extra: dict[str, Any] = field(default_factory=dict)


def _metric_widget(
    title: str, region: str, metrics: list[list[Any]], y: int, x: int, **props: Any
) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "metrics": metrics,
            "view": "timeSeries",
            "period": 60,
            **props,
        },
    }


AURORA_LAG_METRICS = ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBProgressLag")


def _lag_metrics(replica: str, engine: str, source_region: str | None) -> list[list[Any]]:
    if engine != "aurora-mysql":
        return [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", replica, {"stat": "Maximum"}]]
    # Published on the secondary cluster, in its region, in milliseconds, under the
    # {DBClusterIdentifier, SourceRegion} set (drctl.failover.aurora says why), and
    # ProgressLag for Aurora MySQL 3.09+. A line with no data shows as missing, never 0.
    dims = ["DBClusterIdentifier", replica]
    if source_region:
        dims += ["SourceRegion", source_region]
    return [["AWS/RDS", metric, *dims, {"stat": "Maximum"}] for metric in AURORA_LAG_METRICS]


def _lag_widget(
    dr_region: str,
    replica: str,
    max_lag_seconds: float,
    engine: str,
    source_region: str | None = None,
) -> dict:
    aurora = engine == "aurora-mysql"
    title = "Global database lag (ms)" if aurora else "Replica lag (s)"
    limit = max_lag_seconds * 1000 if aurora else max_lag_seconds
    return _metric_widget(
        title,
        dr_region,
        _lag_metrics(replica, engine, source_region),
        0,
        0,
        annotations={"horizontal": [{"label": "max_lag_seconds", "value": limit}]},
    )


def dashboard_body(
    dr_region: str,
    replica: str,
    probe: str,
    switch: str,
    function: str,
    max_lag_seconds: float,
    runbook: str,
    engine: str = "mysql",
    source_region: str | None = None,
) -> str:
    widgets = [
        _lag_widget(dr_region, replica, max_lag_seconds, engine, source_region),
        _metric_widget(
            "Health checks (1 = healthy)",
            ROUTE53_METRICS_REGION,
            [
                [
                    "AWS/Route53",
                    "HealthCheckStatus",
                    "HealthCheckId",
                    probe,
                    {"stat": "Minimum", "label": "primary probe"},
                ],
                [
                    "AWS/Route53",
                    "HealthCheckStatus",
                    "HealthCheckId",
                    switch,
                    {"stat": "Minimum", "label": "failover switch"},
                ],
            ],
            0,
            12,
            yAxis={"left": {"min": 0, "max": 1}},
        ),
        _metric_widget(
            "Failover Lambda",
            dr_region,
            [
                ["AWS/Lambda", metric, "FunctionName", function, {"stat": "Sum"}]
                for metric in ("Invocations", "Errors", "Throttles")
            ],
            6,
            0,
        ),
        {
            "type": "text",
            "x": 12,
            "y": 6,
            "width": 12,
            "height": 6,
            "properties": {
                "markdown": "## Backup age\nAWS publishes no metric for the age of the last "
                "good backup. It is `drstack_backup_last_success_timestamp_seconds` in "
                "Prometheus (`drctl exporter`), alerted on by `DrstackBackupTooOld`. "
                f"Runbooks: {runbook}"
            },
        },
    ]
    return json.dumps({"widgets": widgets}, sort_keys=True)


class DrDashboard(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: DrDashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:dr_dashboard:DrDashboard", name, None, opts)
        replica = (
            args.replica_cluster_id
            if args.db_engine == "aurora-mysql"
            else args.replica_instance_id
        )
        if replica is None:
            raise ValueError(f"db_engine {args.db_engine!r} needs the standby's identifier")
        body = pulumi.Output.all(
            replica,
            args.health_check_id,
            args.switch_health_check_id,
            args.function_name,
        ).apply(
            lambda ids: dashboard_body(
                args.dr_region,
                ids[0],
                ids[1],
                ids[2],
                ids[3],
                args.max_lag_seconds,
                args.runbook,
                args.db_engine,
                args.source_region,
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"dashboard_name": self.dashboard_name})
