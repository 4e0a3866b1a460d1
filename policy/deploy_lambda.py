"""Deploy-time constraints of Lambda functions: what AWS refuses at `pulumi up`, or what
silently loses an event, caught at preview.

* Reserved concurrency is refused when it would leave the account fewer than 100
  unreserved concurrent executions, and new accounts start with a quota as low as 10:
  any reservation can fail `up` on such an account (drstack cannot see the quota at
  preview). The failover function needs none: its DynamoDB lock serialises runs.
* A function invoked asynchronously (SNS, EventBridge, S3) drops an event that still
  fails after Lambda's retries, unless it has an on-failure destination or a
  dead-letter queue. The destination must be a standard queue/topic (FIFO is refused)
  and the function's role must be allowed to send to it.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from policy.common import (
    T_ROLE_POLICY,
    _get,
    _items,
    _of,
    _plain,
    _policy_documents,
    _resource_policy,
    _stack_policy,
)

T_FUNCTION = "aws:lambda/function:Function"
T_PERMISSION = "aws:lambda/permission:Permission"
T_INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
T_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
# Services that invoke a function asynchronously (the event is queued by Lambda).
ASYNC_PRINCIPALS = ("sns.amazonaws.com", "events.amazonaws.com", "s3.amazonaws.com")
UNRESERVED_MINIMUM = 100

RESERVED_CONCURRENCY_DOC = (
    "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
)
ASYNC_DESTINATION_DOC = (
    "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"
)


def _reserved_concurrency(args: ResourceValidationArgs, report: ReportViolation) -> None:
    reserved = args.props.get("reservedConcurrentExecutions")
    if reserved is None or reserved == -1:  # -1: no reservation (the provider's default)
        return
    if int(reserved) == 0:
        report(
            f"Lambda {args.name} reserves 0 concurrent executions: every invocation is "
            "throttled, the function never runs",
            None,
        )
        return
    report(
        f"Lambda {args.name} reserves {reserved} concurrent executions: AWS refuses a "
        f"reservation that leaves the account under {UNRESERVED_MINIMUM} unreserved, and "
        f"new accounts have a quota as low as 10 ({RESERVED_CONCURRENCY_DOC})",
        None,
    )


def _names_of(function: Any) -> set[str]:
    """The ways other resources refer to a function: its name and its ARN."""
    return {str(v) for v in (function.props.get("name"), function.props.get("arn")) if v}


def _refers_to(value: Any, names: set[str]) -> bool:
    text = str(value or "")
    return bool(text) and (text in names or any(text.endswith(f":function:{n}") for n in names))


def _async_sources(function: Any, resources: list[Any]) -> list[str]:
    names = _names_of(function)
    sources = [
        f"{p.name} ({p.props.get('principal')})"
        for p in _of(resources, T_PERMISSION)
        if p.props.get("principal") in ASYNC_PRINCIPALS
        and _refers_to(p.props.get("function"), names)
    ]
    sources += [
        f"SNS subscription {s.name}"
        for s in _of(resources, T_SUBSCRIPTION)
        if s.props.get("protocol") == "lambda" and _refers_to(s.props.get("endpoint"), names)
    ]
    return sources


def _failure_destination(function: Any, resources: list[Any]) -> str | None:
    names = _names_of(function)
    for config in _of(resources, T_INVOKE_CONFIG):
        if _refers_to(config.props.get("functionName"), names):
            target = _get(config.props, "destinationConfig", "onFailure", "destination")
            if target:
                return str(target)
    target = _get(function.props, "deadLetterConfig", "targetArn")
    return str(target) if target else None


def _role_may_send(destination: str, resources: list[Any]) -> bool:
    action = "sns:Publish" if destination.startswith("arn:aws:sns:") else "sqs:SendMessage"
    for role_policy in _of(resources, T_ROLE_POLICY):
        for doc in _policy_documents(role_policy.props.get("policy")):
            for statement in _items(doc.get("Statement")):
                actions = _plain(statement.get("Action"))
                targets = _plain(statement.get("Resource"))
                actions = actions if isinstance(actions, list) else [actions]
                targets = targets if isinstance(targets, list) else [targets]
                if action in actions and destination in targets:
                    return True
    return False


def _async_on_failure_destination(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    for function in _of(resources, T_FUNCTION):
        sources = _async_sources(function, resources)
        if not sources:
            continue
        destination = _failure_destination(function, resources)
        if destination is None:
            report(
                f"Lambda {function.name} is invoked asynchronously by {', '.join(sources)} "
                "but has no on-failure destination or dead-letter queue: an event that "
                f"fails every retry is dropped silently ({ASYNC_DESTINATION_DOC})",
                function.urn,
            )
        elif destination.endswith(".fifo"):
            report(
                f"Lambda {function.name}'s on-failure destination {destination} is FIFO: "
                f"Lambda can only send to a standard queue or topic ({ASYNC_DESTINATION_DOC})",
                function.urn,
            )
        elif not _role_may_send(destination, resources):
            report(
                f"Lambda {function.name}'s role may not send to its on-failure destination "
                f"{destination} (no role policy allows it): the record would be lost "
                f"({ASYNC_DESTINATION_DOC})",
                function.urn,
            )


POLICIES = [
    _resource_policy(
        "lambda-no-reserved-concurrency",
        "A Lambda function reserves no concurrency: AWS refuses a reservation that leaves "
        f"the account under {UNRESERVED_MINIMUM} unreserved executions, and new accounts have "
        f"a quota as low as 10 ({RESERVED_CONCURRENCY_DOC})",
        (T_FUNCTION,),
        _reserved_concurrency,
        "Drop reserved_concurrent_executions from the aws.lambda_.Function; serialise runs "
        "with a lock (the failover function uses its DynamoDB lock) instead.",
    ),
    _stack_policy(
        "lambda-async-on-failure-destination",
        "A Lambda function invoked asynchronously (SNS, EventBridge, S3) has an on-failure "
        "destination or DLQ, standard (not FIFO), that its role may send to (Checkov "
        f"CKV_AWS_116; {ASYNC_DESTINATION_DOC})",
        _async_on_failure_destination,
        "Add an aws.lambda_.FunctionEventInvokeConfig with destination_config.on_failure "
        "pointing at an encrypted standard aws.sqs.Queue, and allow sqs:SendMessage on that "
        "queue in the function's role policy (components/failover_automation.py).",
    ),
]
