"""FailoverAutomation under Pulumi mocks: wiring, regions, least privilege."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

ACCOUNT = "123456789012"


class Mocks(pulumi.runtime.Mocks):
    """Gives each resource the ARN AWS would, in the region of its explicit provider."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.provider_regions: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ == "pulumi:providers:aws":
            self.provider_regions[args.name] = inputs["region"]
            return f"{args.name}-id", inputs
        provider_name = (args.provider or "").split("::")[-2] if args.provider else ""
        region = self.provider_regions.get(provider_name, "default-region")
        name = inputs.get("name") or args.name
        service_arn = {
            "aws:dynamodb/table:Table": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}",
            "aws:sns/topic:Topic": f"arn:aws:sns:{region}:{ACCOUNT}:{name}",
            "aws:cloudwatch/metricAlarm:MetricAlarm": f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}",
            "aws:lambda/function:Function": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
            "aws:kms/key:Key": f"arn:aws:kms:{region}:{ACCOUNT}:key/{args.name}",
            "aws:iam/role:Role": f"arn:aws:iam::{ACCOUNT}:role/{args.name}",
        }.get(args.typ, f"arn:aws:mock:{region}:{ACCOUNT}:{args.name}")
        state = {**inputs, "arn": service_arn, "name": name}
        self.resources[args.name] = {
            "type": args.typ,
            "region": region,
            "inputs": inputs,
            "parent": args.parent if hasattr(args, "parent") else None,
        }
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:root",
                "userId": "mock",
                "id": ACCOUNT,
            }, []
        return {}, []


@pytest.fixture
def mocks() -> Mocks:
    instance = Mocks()
    pulumi.runtime.set_mocks(instance, preview=False)
    return instance


def build(**overrides: Any) -> Any:
    import pulumi_aws as aws

    from components.failover_automation import FailoverAutomation, FailoverAutomationArgs

    tokyo = aws.Provider("tokyo", region="ap-northeast-1")
    us_east = aws.Provider("us-east-1", region="us-east-1")
    args = FailoverAutomationArgs(
        provider=tokyo,
        metrics_provider=us_east,
        dr_region="ap-northeast-1",
        primary_region="ap-northeast-2",
        health_check_id="hc-123",
        switch_health_check_id="hc-switch",
        replica_instance_id="drstack-tokyo-replica",
        replica_instance_arn="arn:aws:rds:ap-northeast-1:123456789012:db:drstack-tokyo-replica",
        app_url="https://api.portforge.example",
        notification_emails=["oncall@example.com"],
        **overrides,
    )
    return FailoverAutomation("tokyo-failover", args)


def run_program(**overrides: Any) -> dict[str, Any]:
    """Run the component program to completion, then hand back its resolved outputs."""
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> Any:
        component = build(**overrides)
        return pulumi.Output.all(
            component.lock_table_name, component.sns_topic_arn, component.function_name
        ).apply(
            lambda values: resolved.update(zip(("lock", "topic", "function"), values, strict=True))
        )

    program()
    return resolved


def test_wiring_regions_and_outputs(mocks: Mocks) -> None:
    outputs = run_program()
    lock_table, topic, function = outputs["lock"], outputs["topic"], outputs["function"]
    r = mocks.resources
    assert lock_table == "tokyo-failover-failover-lock"
    assert topic.startswith("arn:aws:sns:ap-northeast-1:")
    assert function == "tokyo-failover-failover"
    # Route 53 metrics only exist in us-east-1; so must the alarm and its topic.
    alarm = r["tokyo-failover-health-alarm"]
    assert alarm["region"] == "us-east-1"
    assert alarm["inputs"]["namespace"] == "AWS/Route53"
    assert alarm["inputs"]["metricName"] == "HealthCheckStatus"
    assert alarm["inputs"]["dimensions"] == {"HealthCheckId": "hc-123"}
    assert alarm["inputs"]["evaluationPeriods"] == 2  # ceil(90s / 60s)
    assert r["tokyo-failover-alarm-topic"]["region"] == "us-east-1"
    assert r["tokyo-failover-alarm-subscription"]["region"] == "us-east-1"
    assert r["tokyo-failover-alarm-subscription"]["inputs"]["protocol"] == "lambda"
    fn = r["tokyo-failover-function"]
    assert fn["region"] == "ap-northeast-1"
    assert fn["inputs"]["runtime"] == "python3.12"
    assert fn["inputs"]["handler"] == "drctl.lambda_handler.handler"
    env = fn["inputs"]["environment"]["variables"]
    assert env["AUTO_PROMOTE"] == "false"  # notify-only unless enabled
    assert env["LOCK_TABLE_NAME"] == "tokyo-failover-failover-lock"
    assert env["LAG_ALARM_NAME"] == "tokyo-failover-replica-lag"
    permission = r["tokyo-failover-sns-invoke"]["inputs"]
    assert permission["principal"] == "sns.amazonaws.com"
    assert permission["sourceArn"].startswith("arn:aws:sns:us-east-1:")
    table = r["tokyo-failover-lock"]["inputs"]
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["serverSideEncryption"]["enabled"] is True
    assert table["pointInTimeRecovery"]["enabled"] is True
    assert table["hashKey"] == "lock_id"
    for topic_name in ("tokyo-failover-notify", "tokyo-failover-alarm-topic"):
        assert r[topic_name]["inputs"]["kmsMasterKeyId"].startswith("arn:aws:kms:")


def test_role_is_least_privilege(mocks: Mocks) -> None:
    run_program()
    policy = json.loads(mocks.resources["tokyo-failover-policy"]["inputs"]["policy"])
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    # Metric reads take no resource ARN (CloudWatch permissions reference): the one
    # "*" is GetMetricStatistics, held to the DR region by aws:RequestedRegion.
    metric = by_sid.pop("ReadReplicaLagMetric")
    assert metric["Action"] == ["cloudwatch:GetMetricStatistics"]
    assert metric["Resource"] == ["*"]
    assert metric["Condition"] == {"StringEquals": {"aws:RequestedRegion": "ap-northeast-1"}}
    resources = [res for s in by_sid.values() for res in s["Resource"]]
    assert not any("*" in action for action in actions)
    assert not any(res == "*" or res.endswith(":*:*") for res in resources)
    assert "cloudwatch:DescribeAlarms" not in actions  # the alarm's state can be days old
    assert by_sid["PromoteTheReplica"]["Resource"] == [
        "arn:aws:rds:ap-northeast-1:123456789012:db:drstack-tokyo-replica"
    ]
    # Only the switch may be changed; the primary's probe is read-only to the Lambda.
    assert by_sid["InvertTheFailoverSwitch"]["Resource"] == [
        "arn:aws:route53:::healthcheck/hc-switch"
    ]
    assert by_sid["FailoverLock"]["Resource"] == [
        "arn:aws:dynamodb:ap-northeast-1:123456789012:table/tokyo-failover-failover-lock"
    ]
    assert by_sid["Notify"]["Resource"][0].startswith("arn:aws:sns:ap-northeast-1:")
    assert "route53:DeleteHealthCheck" not in actions


def test_auto_promote_and_threshold_flow_into_the_function(mocks: Mocks) -> None:
    run_program(auto_promote=True, failure_threshold_seconds=180, max_lag_seconds=15)
    env = mocks.resources["tokyo-failover-function"]["inputs"]["environment"]["variables"]
    assert env["AUTO_PROMOTE"] == "true"
    assert env["FAILURE_THRESHOLD_SECONDS"] == "180"
    assert mocks.resources["tokyo-failover-health-alarm"]["inputs"]["evaluationPeriods"] == 3
    assert mocks.resources["tokyo-failover-lag-alarm"]["inputs"]["threshold"] == 15


def test_threshold_below_one_metric_period_is_rejected(mocks: Mocks) -> None:
    with pytest.raises(ValueError, match="at least 60"):
        build(failure_threshold_seconds=30)


def test_no_reserved_concurrency(mocks: Mocks) -> None:
    run_program()
    fn = mocks.resources["tokyo-failover-function"]["inputs"]
    # A reservation fails `up` on accounts with a small concurrency quota; the lock
    # already serialises runs.
    assert "reservedConcurrentExecutions" not in fn


def test_failed_async_events_land_in_an_encrypted_queue_that_alarms(mocks: Mocks) -> None:
    run_program()
    r = mocks.resources
    queue = r["tokyo-failover-failed-events"]
    assert queue["region"] == "ap-northeast-1"
    assert queue["inputs"]["sqsManagedSseEnabled"] is True
    assert not queue["inputs"].get("fifoQueue")  # Lambda refuses FIFO destinations
    config = r["tokyo-failover-invoke-config"]["inputs"]
    assert config["functionName"] == "tokyo-failover-failover"
    destination = config["destinationConfig"]["onFailure"]["destination"]
    assert destination.startswith("arn:aws:mock:ap-northeast-1:")
    assert destination.endswith(":tokyo-failover-failed-events")
    assert 60 <= config["maximumEventAgeInSeconds"] <= 900
    assert config["maximumRetryAttempts"] == 2
    policy = json.loads(r["tokyo-failover-policy"]["inputs"]["policy"])
    send = {s["Sid"]: s for s in policy["Statement"]}["RecordFailedEvents"]
    assert send["Action"] == ["sqs:SendMessage"] and send["Resource"] == [destination]
    alarm = r["tokyo-failover-failed-events-alarm"]["inputs"]
    assert alarm["namespace"] == "AWS/SQS"
    assert alarm["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["threshold"] == 0 and alarm["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm["alarmActions"][0].startswith("arn:aws:sns:ap-northeast-1:")
