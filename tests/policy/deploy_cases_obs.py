"""Bad cases for policy/deploy_obs.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.policy.conftest import caught, mutate, run_policies, synth

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


def _dashboard_valid() -> None:
    syn = synth("tokyo")
    assert not [v for v in run_policies(syn) if v.policy == "cloudwatch-dashboard-valid"]

    def bad_name(inputs: dict[str, Any]) -> None:
        inputs["dashboardName"] = "portforge tokyo/dr"

    def no_region(inputs: dict[str, Any]) -> None:
        body = json.loads(inputs["dashboardBody"])
        del body["widgets"][0]["properties"]["region"]
        inputs["dashboardBody"] = json.dumps(body)

    records, _ = mutate(syn, DASHBOARD, "", bad_name)
    caught("cloudwatch-dashboard-valid", run_policies(syn, records), "portforge tokyo/dr")
    records, _ = mutate(syn, DASHBOARD, "", no_region)
    caught("cloudwatch-dashboard-valid", run_policies(syn, records), "has no region")


CASES: dict[str, Callable[[], None]] = {"cloudwatch-dashboard-valid": _dashboard_valid}
