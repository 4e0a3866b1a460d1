"""FailoverAutomation: CloudWatch alarm → SNS → Lambda that runs the drctl failover steps.

Gotchas this component exists to get right:
* Route 53 health-check metrics are published only in us-east-1, and a CloudWatch alarm
  can only notify an SNS topic in its own region. So the alarm and its topic live in
  us-east-1 (``metrics_provider``); the Lambda in the DR region subscribes across regions.
* An SNS topic that CloudWatch publishes to cannot use the AWS-managed ``aws/sns`` key
  (CloudWatch cannot use it), so both topics (health alarm in us-east-1, notifications
  + lag alarm in the DR region) have their own KMS key granting CloudWatch.
* The Lambda reads the standby's lag from its current datapoints (``GetMetricStatistics``
  in the DR region), never from the lag alarm: an alarm's ``StateReasonData`` is written
  when the alarm changes state and can be days old, and ``ReplicaLag = -1``
  (replication not running) sits below any threshold. Metric reads cannot be scoped to
  a resource (``METRIC_READ_DOC``): the one ``Resource: *`` of the role, narrowed to the
  DR region with the global ``aws:RequestedRegion`` condition key. The lag alarm (a
  notification only) watches ``ReplicaLag`` (seconds) of the RDS replica, or
  ``AuroraGlobalDBReplicationLag`` (milliseconds) of the Aurora secondary cluster under
  {DBClusterIdentifier, SourceRegion} (see ``_lag_metric``), both in the DR region.
* No reserved concurrency: AWS refuses a reservation that leaves the account fewer than
  100 unreserved executions, and new accounts start with a quota as low as 10; the
  DynamoDB lock already serialises failover runs.
* SNS invokes the Lambda asynchronously: an event that still fails after Lambda's retries
  would be dropped silently. An on-failure destination (an SQS queue, standard, not FIFO)
  keeps it, and an alarm on the queue's depth tells the on-call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy

DRCTL_SOURCE = Path(__file__).resolve().parent.parent / "scripts" / "drctl"
ROUTE53_METRIC_PERIOD = 60  # Route 53 publishes HealthCheckStatus once a minute
# An alarm event replayed later than this could fail over a primary that has recovered
# since; after it, the event goes to the failed-events queue for a human to look at.
MAX_EVENT_AGE_SECONDS = 900
ASYNC_RETRIES = 2  # Lambda's own retries of a failed asynchronous invocation (max 2)
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to notice and replay
# "You specify a wildcard character (*) as the resource value": CloudWatch metric reads
# have no resource type and no service condition key (cloudwatch:namespace applies to
# PutMetricData only), so only global keys such as aws:RequestedRegion can narrow them.
METRIC_READ_DOC = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/permissions-reference-cw.html"
    "; https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html"
)
AURORA_FAILOVER_POLICY_DOC = (
    "https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_aurora.html"
)


@dataclass(kw_only=True)
class FailoverAutomationArgs:
    # Explicit providers: the DR region (Lambda, lock table, notifications) and
    # us-east-1 (where Route 53 metrics, hence the alarm and its topic, live).
    provider: aws.Provider
    metrics_provider: aws.Provider
    dr_region: str
    primary_region: str
    # The primary's HTTPS probe (alarm dimension) and the failover switch the Lambda
    # inverts to force DNS (see Route53Failover for why these are two checks).
    health_check_id: pulumi.Input[str]
    switch_health_check_id: pulumi.Input[str]
    # db_engine "mysql": the RDS read replica the failover promotes.
    replica_instance_id: pulumi.Input[str] | None = None
    replica_instance_arn: pulumi.Input[str] | None = None
    # db_engine "aurora-mysql": the global database and the secondary cluster
    # FailoverGlobalCluster promotes (by ARN, so Aurora finds it in its region).
    db_engine: str = "mysql"
    global_cluster_id: pulumi.Input[str] | None = None
    replica_cluster_id: pulumi.Input[str] | None = None
    replica_cluster_arn: pulumi.Input[str] | None = None
    # The primary-side member cluster (from the primary stack's outputs, an ARN string:
    # no call into the primary region). AWS's sample policy for FailoverGlobalCluster /
    # SwitchoverGlobalCluster grants the global cluster and BOTH member clusters.
    primary_cluster_arn: pulumi.Input[str] | None = None
    app_url: pulumi.Input[str] = ""
    dr_stack: str = "tokyo"
    primary_stack: str = "seoul"
    # Seed 004 guard: fail over only after failures × interval ≥ this many seconds.
    failure_threshold_seconds: int = 90
    max_lag_seconds: int = 60
    # Off by default: the Lambda only notifies unless this is turned on in config.
    auto_promote: bool = False
    notification_emails: Sequence[str] = ()
    code_path: str = str(DRCTL_SOURCE)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Topics:
    notify: aws.sns.Topic
    notify_key: aws.kms.Key
    alarm: aws.sns.Topic


@dataclass(frozen=True)
class _FunctionInputs:
    function_name: str
    lock_table: aws.dynamodb.Table
    topics: _Topics
    lag_alarm: aws.cloudwatch.MetricAlarm
    failed_events: aws.sqs.Queue


class FailoverAutomation(pulumi.ComponentResource):
    lock_table_name: pulumi.Output[str]
    sns_topic_arn: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]
    health_alarm_name: pulumi.Output[str]
    lag_alarm_name: pulumi.Output[str]
    failed_events_queue_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: FailoverAutomationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:failover_automation:FailoverAutomation", name, None, opts)
        if args.failure_threshold_seconds < ROUTE53_METRIC_PERIOD:
            raise ValueError(
                "failure_threshold_seconds must be at least 60 (one Route 53 metric period)"
            )
        _check_database(args)
        dr = pulumi.ResourceOptions(parent=self, provider=args.provider)
        metrics = pulumi.ResourceOptions(parent=self, provider=args.metrics_provider)
        function_name = f"{name}-failover"

        lock_table = self._lock_table(name, args, dr)
        topics = self._topics(name, args, dr, metrics)
        notify_topic, alarm_topic = topics.notify, topics.alarm
        health_alarm = self._health_alarm(name, args, alarm_topic, metrics)
        lag_alarm = self._lag_alarm(name, args, notify_topic, dr)
        failed_events = self._failed_events_queue(name, args, notify_topic, dr)
        function = self._function(
            name,
            args,
            _FunctionInputs(
                function_name=function_name,
                lock_table=lock_table,
                topics=topics,
                lag_alarm=lag_alarm,
                failed_events=failed_events,
            ),
        )
        self._subscribe(name, function, alarm_topic, dr, metrics)

        self.lock_table_name = lock_table.name
        self.sns_topic_arn = notify_topic.arn
        self.alarm_topic_arn = alarm_topic.arn
        self.function_name = function.name
        self.health_alarm_name = health_alarm.name
        self.lag_alarm_name = lag_alarm.name
        self.failed_events_queue_arn = failed_events.arn
        self.register_outputs(
            {
                "lock_table_name": self.lock_table_name,
                "sns_topic_arn": self.sns_topic_arn,
                "alarm_topic_arn": self.alarm_topic_arn,
                "function_name": self.function_name,
                "health_alarm_name": self.health_alarm_name,
                "lag_alarm_name": self.lag_alarm_name,
                "failed_events_queue_arn": self.failed_events_queue_arn,
            }
        )

    @staticmethod
    def _lock_table(
        name: str, args: FailoverAutomationArgs, dr: pulumi.ResourceOptions
    ) -> aws.dynamodb.Table:
        lock_table = aws.dynamodb.Table(
            f"{name}-lock",
            name=f"{name}-failover-lock",
            billing_mode="PAY_PER_REQUEST",
            hash_key="lock_id",
            attributes=[{"name": "lock_id", "type": "S"}],
            # Expired locks disappear on their own; the code also ignores them.
            ttl={"attribute_name": "expires_at", "enabled": True},
            server_side_encryption={"enabled": True},
            point_in_time_recovery={"enabled": True},
            tags=args.tags,
            opts=dr,
        )
        return lock_table

    @staticmethod
    def _topics(
        name: str,
        args: FailoverAutomationArgs,
        dr: pulumi.ResourceOptions,
        metrics: pulumi.ResourceOptions,
    ) -> _Topics:
        """The notification topic (DR region) and the health alarm's topic (us-east-1)."""
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(provider=args.metrics_provider)
        ).account_id
        key_policy = account_id.apply(_alarm_key_policy)

        def topic_key(role: str, what: str, opts: pulumi.ResourceOptions) -> aws.kms.Key:
            return aws.kms.Key(
                f"{name}-{role}-kms",
                description=f"{name}: encrypts {what}",
                enable_key_rotation=True,
                policy=key_policy,
                tags=args.tags,
                opts=opts,
            )

        alarm_key = topic_key("alarm", "the health alarm topic (CloudWatch may use it)", metrics)
        notify_key = topic_key("notify", "the failover notification topic", dr)
        notify_topic = aws.sns.Topic(
            f"{name}-notify",
            name=f"{name}-failover-notify",
            kms_master_key_id=notify_key.arn,
            tags=args.tags,
            opts=dr,
        )
        for index, email in enumerate(args.notification_emails):
            aws.sns.TopicSubscription(
                f"{name}-notify-email-{index}",
                topic=notify_topic.arn,
                protocol="email",
                endpoint=email,
                opts=dr,
            )

        alarm_topic = aws.sns.Topic(
            f"{name}-alarm-topic",
            name=f"{name}-primary-health",
            kms_master_key_id=alarm_key.arn,
            tags=args.tags,
            opts=metrics,
        )
        return _Topics(notify=notify_topic, notify_key=notify_key, alarm=alarm_topic)

    @staticmethod
    def _health_alarm(
        name: str,
        args: FailoverAutomationArgs,
        alarm_topic: aws.sns.Topic,
        metrics: pulumi.ResourceOptions,
    ) -> aws.cloudwatch.MetricAlarm:
        periods = math.ceil(args.failure_threshold_seconds / ROUTE53_METRIC_PERIOD)
        health_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-health-alarm",
            name=f"{name}-primary-health",
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": args.health_check_id},
            statistic="Minimum",
            period=ROUTE53_METRIC_PERIOD,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator="LessThanThreshold",
            threshold=1,
            # No data from Route 53 is itself a sign of trouble.
            treat_missing_data="breaching",
            alarm_actions=[alarm_topic.arn],
            ok_actions=[alarm_topic.arn],
            tags=args.tags,
            opts=metrics,
        )
        return health_alarm

    @staticmethod
    def _lag_alarm(
        name: str,
        args: FailoverAutomationArgs,
        notify_topic: aws.sns.Topic,
        dr: pulumi.ResourceOptions,
    ) -> aws.cloudwatch.MetricAlarm:
        metric_name, dimensions, threshold = _lag_metric(args)
        lag_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-lag-alarm",
            name=f"{name}-replica-lag",
            namespace="AWS/RDS",
            metric_name=metric_name,
            dimensions=dimensions,
            statistic="Maximum",
            period=60,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            treat_missing_data="breaching",
            # Seed 004: a lagging standby is worth a warning even without an outage.
            alarm_actions=[notify_topic.arn],
            tags=args.tags,
            opts=dr,
        )
        return lag_alarm

    def _function(
        self, name: str, args: FailoverAutomationArgs, inputs: _FunctionInputs
    ) -> aws.lambda_.Function:
        """The Lambda that runs the failover steps, its role, logs and retry policy."""
        dr = pulumi.ResourceOptions(parent=self, provider=args.provider)
        function_name, lock_table = inputs.function_name, inputs.lock_table
        notify_topic, notify_key = inputs.topics.notify, inputs.topics.notify_key
        lag_alarm, failed_events = inputs.lag_alarm, inputs.failed_events
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=30,
            tags=args.tags,
            opts=dr,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                database=_database_statement(args),
                health_check_id=args.health_check_id,
                switch_health_check_id=args.switch_health_check_id,
                lock_table_arn=lock_table.arn,
                notify_topic_arn=notify_topic.arn,
                notify_key_arn=notify_key.arn,
                dr_region=args.dr_region,
                log_group_arn=log_group.arn,
                failed_events_queue_arn=failed_events.arn,
            ).apply(lambda values: json.dumps(lambda_policy_document(**values))),
            opts=dr,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            runtime="python3.12",
            handler="drctl.lambda_handler.handler",
            code=pulumi.AssetArchive({"drctl": pulumi.FileArchive(args.code_path)}),
            role=role.arn,
            timeout=900,
            memory_size=256,
            environment=_function_environment(args, lock_table, notify_topic, lag_alarm),
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[log_group, role_policy]
            ),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-invoke-config",
            function_name=function.name,
            maximum_retry_attempts=ASYNC_RETRIES,
            maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
            destination_config={"on_failure": {"destination": failed_events.arn}},
            # Lambda checks at configuration time that the role may send to the queue.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[role_policy]
            ),
        )
        return function

    @staticmethod
    def _subscribe(
        name: str,
        function: aws.lambda_.Function,
        alarm_topic: aws.sns.Topic,
        dr: pulumi.ResourceOptions,
        metrics: pulumi.ResourceOptions,
    ) -> None:
        """Let the health alarm's topic (us-east-1) invoke the Lambda (DR region)."""
        aws.lambda_.Permission(
            f"{name}-sns-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="sns.amazonaws.com",
            source_arn=alarm_topic.arn,
            opts=dr,
        )
        # The subscription belongs to the topic's region, even though the function is not.
        aws.sns.TopicSubscription(
            f"{name}-alarm-subscription",
            topic=alarm_topic.arn,
            protocol="lambda",
            endpoint=function.arn,
            opts=metrics,
        )

    @staticmethod
    def _failed_events_queue(
        name: str,
        args: FailoverAutomationArgs,
        notify_topic: aws.sns.Topic,
        opts: pulumi.ResourceOptions,
    ) -> aws.sqs.Queue:
        """Where failover events go that failed every attempt, and the alarm on it."""
        queue = aws.sqs.Queue(
            f"{name}-failed-events",
            name=f"{name}-failover-failed-events",
            # SQS-managed encryption: Lambda can send without a KMS grant, and a
            # destination queue must be a standard queue (FIFO is refused).
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            tags=args.tags,
            opts=opts,
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-failed-events-alarm",
            name=f"{name}-failover-failed-events",
            alarm_description="A failover alarm event failed every attempt: read the queue, "
            "then run drctl failover by hand if the primary is still down.",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            # SQS stops publishing for an idle queue: no data means no failed event.
            treat_missing_data="notBreaching",
            alarm_actions=[notify_topic.arn],
            tags=args.tags,
            opts=opts,
        )
        return queue


def _alarm_key_policy(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdmin",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",  # in a key policy "*" means this key
                },
                {
                    "Sid": "CloudWatchPublishesAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
            ],
        }
    )


AURORA = "aurora-mysql"


def _check_database(args: FailoverAutomationArgs) -> None:
    if args.db_engine == AURORA:
        needed: tuple[str, ...] = (
            "global_cluster_id",
            "replica_cluster_id",
            "replica_cluster_arn",
            "primary_cluster_arn",
        )
    else:
        needed = ("replica_instance_id", "replica_instance_arn")
    missing = [name for name in needed if getattr(args, name) is None]
    if missing:
        raise ValueError(f"db_engine {args.db_engine!r} needs {', '.join(missing)}")


def _lag_metric(args: FailoverAutomationArgs) -> tuple[str, dict[str, Any], float]:
    """(metric, dimensions, threshold) of the standby's lag, published in the DR region."""
    if args.db_engine == AURORA:
        # Aurora publishes the global database's lag on the secondary cluster, in its
        # region, in milliseconds (Aurora User Guide, "Cluster-level metrics for Amazon
        # Aurora"), under the dimension set that names the primary's region as
        # SourceRegion (drctl.failover.aurora explains the doubt; an alarm on a set
        # that has no data is in ALARM, treat_missing_data=breaching, never silent).
        return (
            "AuroraGlobalDBReplicationLag",
            {
                "DBClusterIdentifier": args.replica_cluster_id,
                "SourceRegion": args.primary_region,
            },
            args.max_lag_seconds * 1000,
        )
    return "ReplicaLag", {"DBInstanceIdentifier": args.replica_instance_id}, args.max_lag_seconds


def global_cluster_arn(cluster_arn: str, global_cluster_id: str) -> str:
    """A global cluster's ARN has no region (Service Authorization Reference, Amazon RDS
    resource types: arn:${Partition}:rds::${Account}:global-cluster:${GlobalCluster});
    the account and partition come from the secondary cluster's ARN."""
    parts = cluster_arn.split(":")
    return f"arn:{parts[1]}:rds::{parts[4]}:global-cluster:{global_cluster_id}"


def _database_statement(args: FailoverAutomationArgs) -> pulumi.Output[dict[str, Any]]:
    """What the failover may do to the database, on exactly its resources."""
    if args.db_engine == AURORA:
        # AWS's sample policy grants the global cluster and both member clusters
        # (AURORA_FAILOVER_POLICY_DOC); the primary's ARN is a string from its outputs.
        return pulumi.Output.all(
            args.replica_cluster_arn, args.global_cluster_id, args.primary_cluster_arn
        ).apply(
            lambda v: {
                "Sid": "FailOverTheGlobalDatabase",
                "Effect": "Allow",
                "Action": [
                    "rds:FailoverGlobalCluster",
                    "rds:DescribeGlobalClusters",
                    "rds:DescribeDBClusters",
                ],
                "Resource": [global_cluster_arn(v[0], v[1]), v[2], v[0]],
            }
        )
    return pulumi.Output.from_input(args.replica_instance_arn).apply(
        lambda arn: {
            "Sid": "PromoteTheReplica",
            "Effect": "Allow",
            "Action": ["rds:DescribeDBInstances", "rds:PromoteReadReplica"],
            "Resource": [arn],
        }
    )


def lambda_policy_document(
    database: dict[str, Any],
    health_check_id: str,
    switch_health_check_id: str,
    lock_table_arn: str,
    notify_topic_arn: str,
    notify_key_arn: str,
    dr_region: str,
    log_group_arn: str,
    failed_events_queue_arn: str,
) -> dict[str, Any]:
    """Exactly the calls the failover steps make, each on its one resource."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            database,
            {
                "Sid": "ReadHealthChecks",
                "Effect": "Allow",
                "Action": ["route53:GetHealthCheck", "route53:GetHealthCheckStatus"],
                "Resource": [
                    f"arn:aws:route53:::healthcheck/{health_check_id}",
                    f"arn:aws:route53:::healthcheck/{switch_health_check_id}",
                ],
            },
            {
                "Sid": "InvertTheFailoverSwitch",
                "Effect": "Allow",
                "Action": ["route53:UpdateHealthCheck"],
                "Resource": [f"arn:aws:route53:::healthcheck/{switch_health_check_id}"],
            },
            {
                "Sid": "FailoverLock",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                "Resource": [lock_table_arn],
            },
            {
                "Sid": "Notify",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [notify_topic_arn],
            },
            {
                "Sid": "EncryptNotifications",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": [notify_key_arn],
            },
            {
                # Current lag datapoints, not the alarm's state (METRIC_READ_DOC: metric
                # reads take no resource ARN; the global key keeps them in the DR region).
                "Sid": "ReadReplicaLagMetric",
                "Effect": "Allow",
                "Action": ["cloudwatch:GetMetricStatistics"],
                "Resource": ["*"],
                "Condition": {"StringEquals": {"aws:RequestedRegion": dr_region}},
            },
            {
                # Lambda sends the failed-event record with the function's role.
                "Sid": "RecordFailedEvents",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [failed_events_queue_arn],
            },
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
        ],
    }


def _function_environment(
    args: FailoverAutomationArgs,
    lock_table: aws.dynamodb.Table,
    notify_topic: aws.sns.Topic,
    lag_alarm: aws.cloudwatch.MetricAlarm,
) -> aws.lambda_.FunctionEnvironmentArgsDict:
    """What the handler reads: ids and thresholds only, never a secret."""
    return {
        "variables": {
            **_database_environment(args),
            "DR_STACK": args.dr_stack,
            "DR_REGION": args.dr_region,
            "PRIMARY_STACK": args.primary_stack,
            "PRIMARY_REGION": args.primary_region,
            "HEALTH_CHECK_ID": args.health_check_id,
            "FAILOVER_SWITCH_ID": args.switch_health_check_id,
            "LOCK_TABLE_NAME": lock_table.name,
            "NOTIFY_TOPIC_ARN": notify_topic.arn,
            "APP_URL": args.app_url,
            "LAG_ALARM_NAME": lag_alarm.name,
            "FAILURE_THRESHOLD_SECONDS": str(args.failure_threshold_seconds),
            "MAX_LAG_SECONDS": str(args.max_lag_seconds),
            "AUTO_PROMOTE": "true" if args.auto_promote else "false",
        }
    }


def _database_environment(args: FailoverAutomationArgs) -> dict[str, pulumi.Input[str]]:
    if args.db_engine == AURORA:
        assert args.global_cluster_id is not None and args.replica_cluster_arn is not None
        return {
            "DB_ENGINE": AURORA,
            "GLOBAL_CLUSTER_ID": args.global_cluster_id,
            "REPLICA_CLUSTER_ARN": args.replica_cluster_arn,
        }
    assert args.replica_instance_id is not None
    return {"DB_ENGINE": "mysql", "REPLICA_INSTANCE_ID": args.replica_instance_id}
