"""Deploy-time constraints of the observability resources (CloudWatch dashboards)."""

from __future__ import annotations

import json
import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policy.common import _resource_policy

PUT_DASHBOARD_DOC = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"
)
BODY_DOC = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/"
    "CloudWatch-Dashboard-Body-Structure.html"
)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def _dashboard_valid(args: ResourceValidationArgs, report: ReportViolation) -> None:
    name = args.props.get("dashboardName")
    if isinstance(name, str) and not _NAME.match(name):
        report(
            f"dashboard {args.name}: name {name!r} must be 1-255 characters of A-Z a-z 0-9 - _ "
            f"({PUT_DASHBOARD_DOC})",
            None,
        )
    body = args.props.get("dashboardBody")
    if not isinstance(body, str):
        return  # unknown at preview time: nothing to check yet
    try:
        widgets = json.loads(body).get("widgets")
    except (ValueError, AttributeError):
        widgets = None
    if not isinstance(widgets, list) or not widgets:
        report(f"dashboard {args.name}: body is not JSON with a 'widgets' list ({BODY_DOC})", None)
        return
    for index, widget in enumerate(widgets):
        props = widget.get("properties") if isinstance(widget, dict) else None
        if widget.get("type") == "metric" and not (props or {}).get("region"):
            # PutDashboard refuses a metric widget without a region.
            report(f"dashboard {args.name}: metric widget {index} has no region ({BODY_DOC})", None)


POLICIES = [
    _resource_policy(
        "cloudwatch-dashboard-valid",
        "A CloudWatch dashboard's name is 1-255 of A-Z a-z 0-9 - _, and its body is JSON with "
        f"widgets, each metric widget naming its region; PutDashboard refuses anything else at "
        f"`pulumi up` ({PUT_DASHBOARD_DOC}, {BODY_DOC}).",
        ("aws:cloudwatch/dashboard:Dashboard",),
        _dashboard_valid,
        "Use a dashboard name of letters, digits, '-' and '_' and build the body with "
        "components.dr_dashboard.dashboard_body.",
    )
]
