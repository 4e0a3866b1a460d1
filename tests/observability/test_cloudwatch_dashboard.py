"""The tokyo stack's CloudWatch dashboard watches the stack's own resources."""

from __future__ import annotations

import json

from drctl.preview import cached_synthesize


def test_dashboard_widgets_point_at_the_stacks_resources() -> None:
    syn = cached_synthesize("tokyo")
    dashboard = syn.one("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.region == "ap-northeast-1"  # written through the DR region
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    metrics = {
        (w["properties"]["region"], m[0], m[1], m[3])
        for w in widgets
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
    }
    replica = syn.one("aws:rds/instance:Instance").inputs["identifier"]
    function = syn.one("aws:lambda/function:Function").inputs["name"]
    assert ("ap-northeast-1", "AWS/RDS", "ReplicaLag", replica) in metrics
    assert {
        ("ap-northeast-1", "AWS/Lambda", m, function) for m in ("Invocations", "Errors")
    } <= metrics
    health = {m for m in metrics if m[2] == "HealthCheckStatus"}
    assert len(health) == 2 and {m[0] for m in health} == {"us-east-1"}
    assert syn.outputs["dashboard_name"] == dashboard.inputs["dashboardName"]
    texts = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert any("drstack_backup_last_success_timestamp_seconds" in t for t in texts)
