"""Bad cases of the Lambda deploy-time constraints (policy/deploy_lambda.py): one per policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.policy.conftest import caught, mutate, run_policies, synth, without

FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def case_lambda_no_reserved_concurrency() -> None:
    s = synth("tokyo")
    rs, _ = mutate(s, FUNCTION, "", lambda i: i.update(reservedConcurrentExecutions=1))
    caught(
        "lambda-no-reserved-concurrency",
        run_policies(s, rs),
        "reserves 1 concurrent executions",
        "configuration-concurrency.html",
    )
    rs, _ = mutate(s, FUNCTION, "", lambda i: i.update(reservedConcurrentExecutions=0))
    caught("lambda-no-reserved-concurrency", run_policies(s, rs), "never runs")


def _without_send(inputs: dict[str, Any]) -> None:
    doc = json.loads(inputs["policy"])
    doc["Statement"] = [st for st in doc["Statement"] if st.get("Sid") != "RecordFailedEvents"]
    inputs["policy"] = json.dumps(doc)


def case_lambda_async_on_failure_destination() -> None:
    s = synth("tokyo")
    rs = without(s, lambda r: r.type == INVOKE_CONFIG)
    caught(
        "lambda-async-on-failure-destination",
        run_policies(s, rs),
        "invoked asynchronously by",
        "sns.amazonaws.com",
        "dropped silently",
    )
    rs, _ = mutate(
        s,
        INVOKE_CONFIG,
        "",
        lambda i: i["destinationConfig"]["onFailure"].update(
            destination="arn:aws:sqs:ap-northeast-1:123456789012:failed.fifo"
        ),
    )
    caught("lambda-async-on-failure-destination", run_policies(s, rs), "is FIFO")
    rs, _ = mutate(s, ROLE_POLICY, "auto-policy", _without_send)
    caught("lambda-async-on-failure-destination", run_policies(s, rs), "may not send")


CASES: dict[str, Callable[[], None]] = {
    "lambda-no-reserved-concurrency": case_lambda_no_reserved_concurrency,
    "lambda-async-on-failure-destination": case_lambda_async_on_failure_destination,
}
