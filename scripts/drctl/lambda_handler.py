"""Automated failover: CloudWatch alarm → SNS → this Lambda (seed 002 §6, seed 004).

The alarm watches the primary's Route 53 health check. The handler applies the guard
rules (``drctl.failover.guards``) and, only when automatic promotion is enabled
(``AUTO_PROMOTE=true``), runs the same failover steps as ``drctl failover`` — holding
the same DynamoDB lock, so an operator and the Lambda can never both fail over.
Whatever it decides, it says so on the notification topic.

Runs with only boto3 (Lambda runtime): nothing here imports typer, rich or kubernetes.
Environment: DR_STACK, DR_REGION, PRIMARY_STACK, PRIMARY_REGION, REPLICA_INSTANCE_ID,
HEALTH_CHECK_ID, LOCK_TABLE_NAME, NOTIFY_TOPIC_ARN, APP_URL, LAG_ALARM_NAME,
FAILURE_THRESHOLD_SECONDS, MAX_LAG_SECONDS, AUTO_PROMOTE.
With ``DB_ENGINE=aurora-mysql``: GLOBAL_CLUSTER_ID and REPLICA_CLUSTER_ARN instead of
REPLICA_INSTANCE_ID; the promotion is FailoverGlobalCluster with AllowDataLoss (the
Lambda is always unplanned). The standby's lag is read from its current CloudWatch
datapoints (ReplicaLag, or the Aurora secondary's global database lag in milliseconds),
never from the lag alarm's state; a negative lag is unknown.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drctl import deadline
from drctl.aws import ClientFactory
from drctl.failover.aurora import AuroraLagReader
from drctl.failover.build import FailoverOptions, build_context
from drctl.failover.guards import FAILOVER, IGNORE, GuardInput, decide
from drctl.failover.lag import reader_reading
from drctl.failover.notify import SnsNotifier
from drctl.failover.rds import CloudWatchLagReader, LagReader
from drctl.failover.runner import StepFailed, run_steps
from drctl.failover.state import RunState
from drctl.failover.steps import LockHeldError, failover_config_commands, failover_steps
from drctl.stack_outputs import StackOutputs


class SettingsError(ValueError):
    """A missing or malformed Lambda environment variable; the message names it."""


def _seconds(env: Mapping[str, str], key: str, default: str) -> float:
    raw = env.get(key, default)
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(
            f"Lambda environment variable {key} = {raw!r} is not a number of seconds"
        ) from None
    if not value >= 0:  # also refuses nan
        raise SettingsError(f"Lambda environment variable {key} = {raw!r} must be >= 0")
    return value


@dataclass(frozen=True)
class Settings:
    dr_stack: str
    dr_region: str
    primary_stack: str
    primary_region: str
    replica_instance_id: str
    health_check_id: str
    failover_switch_id: str
    lock_table_name: str
    notify_topic_arn: str
    app_url: str
    lag_alarm_name: str
    failure_threshold_seconds: float
    max_lag_seconds: float
    auto_promote: bool
    db_engine: str = "mysql"
    global_cluster_id: str = ""
    replica_cluster_arn: str = ""

    @property
    def aurora(self) -> bool:
        return self.db_engine == "aurora-mysql"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def need(key: str) -> str:
            if not env.get(key):
                raise SettingsError(f"Lambda environment variable {key} is not set")
            return env[key]

        engine = env.get("DB_ENGINE") or "mysql"
        if engine not in ("mysql", "aurora-mysql"):
            raise SettingsError(
                f"Lambda environment variable DB_ENGINE = {engine!r}: expected mysql or aurora-mysql"
            )
        aurora = engine == "aurora-mysql"
        return cls(
            dr_stack=env.get("DR_STACK", "tokyo"),
            dr_region=need("DR_REGION"),
            primary_stack=env.get("PRIMARY_STACK", "seoul"),
            primary_region=env.get("PRIMARY_REGION", ""),
            replica_instance_id="" if aurora else need("REPLICA_INSTANCE_ID"),
            db_engine=engine,
            global_cluster_id=need("GLOBAL_CLUSTER_ID") if aurora else "",
            replica_cluster_arn=need("REPLICA_CLUSTER_ARN") if aurora else "",
            health_check_id=need("HEALTH_CHECK_ID"),
            failover_switch_id=need("FAILOVER_SWITCH_ID"),
            lock_table_name=need("LOCK_TABLE_NAME"),
            notify_topic_arn=need("NOTIFY_TOPIC_ARN"),
            app_url=env.get("APP_URL", ""),
            # Named in notifications only: the lag itself is read from its datapoints.
            lag_alarm_name=env.get("LAG_ALARM_NAME", ""),
            failure_threshold_seconds=_seconds(env, "FAILURE_THRESHOLD_SECONDS", "90"),
            max_lag_seconds=_seconds(env, "MAX_LAG_SECONDS", "60"),
            # Off unless explicitly "true": a false positive promotion splits the brain.
            auto_promote=env.get("AUTO_PROMOTE", "false").strip().lower() == "true",
        )

    def _database_outputs(self) -> dict[str, Any]:
        if self.aurora:
            return {
                "db_engine": self.db_engine,
                "aurora_global_cluster_id": self.global_cluster_id,
                "replica_cluster_arn": self.replica_cluster_arn,
            }
        return {"replica_instance_id": self.replica_instance_id}

    def as_outputs(self) -> StackOutputs:
        dr = {
            "region": self.dr_region,
            **self._database_outputs(),
            "health_check_id": self.health_check_id,
            "failover_switch_id": self.failover_switch_id,
            "lock_table_name": self.lock_table_name,
            "app_url": self.app_url,
        }
        stacks: dict[str, dict[str, Any]] = {self.dr_stack: dr}
        return StackOutputs(stacks, "Lambda environment")


def alarm_messages(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages = []
    for record in event.get("Records", []):
        sns = record.get("Sns") or {}
        try:
            message = json.loads(sns.get("Message", ""))
        except ValueError:
            continue
        if isinstance(message, dict) and "NewStateValue" in message:
            messages.append(message)
    return messages


def consecutive_failures(alarm: Mapping[str, Any]) -> tuple[int, float]:
    """An alarm in ALARM means its last DatapointsToAlarm periods breached."""
    trigger = alarm.get("Trigger", {})
    count = int(trigger.get("DatapointsToAlarm") or trigger.get("EvaluationPeriods") or 0)
    return count, float(trigger.get("Period") or 0)


def current_lag_reader(settings: Settings, factory: ClientFactory) -> LagReader:
    """The standby's lag from its current datapoints (GetMetricStatistics, DR region).

    Never from the lag alarm: an alarm's StateReasonData is written when the alarm
    changes state, so it can be days old; and -1 (replication not running) would pass
    a threshold alarm as "OK" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html).
    """
    cloudwatch = factory.client("cloudwatch", settings.dr_region)
    if settings.aurora:
        cluster = settings.replica_cluster_arn.rsplit(":", 1)[-1]
        return AuroraLagReader(cloudwatch, cluster, source_region=settings.primary_region or None)
    return CloudWatchLagReader(cloudwatch, settings.replica_instance_id)


def handle(
    event: Mapping[str, Any],
    settings: Settings,
    factory: ClientFactory,
    state_dir: Path = Path("/tmp/drctl-runs"),
) -> dict[str, Any]:
    notifier = SnsNotifier(factory.client("sns", settings.dr_region), settings.notify_topic_arn)
    results = []
    for alarm in alarm_messages(event):
        name = alarm.get("AlarmName", "?")
        if alarm["NewStateValue"] != "ALARM":
            notifier.notify(f"drstack: {name} is {alarm['NewStateValue']}", "no action taken")
            results.append({"alarm": name, "action": IGNORE, "reason": alarm["NewStateValue"]})
            continue
        count, interval = consecutive_failures(alarm)
        lag_reader = current_lag_reader(settings, factory)
        decision = decide(
            GuardInput(
                consecutive_failures=count,
                interval_seconds=interval,
                threshold_seconds=settings.failure_threshold_seconds,
                # As published: the guard treats a negative value (-1) as unknown.
                lag_seconds=reader_reading(lag_reader).reported,
                max_lag_seconds=settings.max_lag_seconds,
                auto_promote=settings.auto_promote,
            )
        )
        result: dict[str, Any] = {
            "alarm": name,
            "action": decision.action,
            "reason": decision.reason,
        }
        if decision.action == FAILOVER:
            result.update(_failover(settings, factory, notifier, lag_reader, state_dir))
        else:
            notifier.notify(
                f"drstack: primary down, {decision.action}",
                f"{decision.reason}\nManual failover: drctl failover --to {settings.dr_stack}",
            )
        results.append(result)
    return {"results": results}


def _failover(
    settings: Settings,
    factory: ClientFactory,
    notifier: SnsNotifier,
    lag_reader: LagReader,
    state_dir: Path,
) -> dict[str, Any]:
    options = FailoverOptions(
        dr_stack=settings.dr_stack,
        primary_stack=settings.primary_stack,
        max_lag_seconds=settings.max_lag_seconds,
        # Lambda runs at most 15 minutes; promotion usually fits, and a rerun resumes.
        promote_timeout_seconds=600,
        health_timeout_seconds=120,
    )
    context = build_context(
        settings.as_outputs(),
        factory,
        options,
        say=print,
        lag_reader=lag_reader,
        notifier=notifier,
    )
    # A new run per alarm, like the CLI: an unfinished run left by an earlier event (or
    # another warm container's /tmp) is never silently resumed; the operator resumes it
    # by id with `drctl failover --resume`, and the shared lock keeps the two apart.
    state = RunState.create(state_dir, f"auto-failover-{settings.dr_stack}", "failover")
    try:
        run_steps(failover_steps(), context, state, progress=print)
    except StepFailed as exc:
        if isinstance(exc.cause, LockHeldError):
            notifier.notify("drstack: failover already in progress", str(exc.cause))
            return {"failover": "already_in_progress", "error": str(exc.cause)}
        # A fresh, short limit: when the run's own deadline is what stopped it, the
        # report must still go out (inside the margin left before Lambda's timeout).
        with deadline.limit(NOTIFY_SECONDS):
            notifier.notify(
                f"drstack: automated failover FAILED at {exc.step}",
                f"{exc.cause}\nLock kept for run {state.run_id}; finish with drctl failover.",
            )
        return {"failover": "failed", "step": exc.step, "error": str(exc.cause)}
    return {
        "failover": "completed",
        "config": failover_config_commands(settings.dr_stack),
        "timeline": state.timeline.to_dict(),
    }


# Left of the Lambda timeout when the deadline strikes: enough to publish the
# "gave up" notification (its own limit, plus one attempt already in flight) and save
# the run state before Lambda kills the process.
LAMBDA_MARGIN_SECONDS = 60.0
NOTIFY_SECONDS = 25.0


def run_deadline_seconds(context: Any) -> float:
    """The handler's deadline: the invocation's remaining time minus a margin."""
    remaining = context.get_remaining_time_in_millis() / 1000
    return max(remaining - LAMBDA_MARGIN_SECONDS, 1.0)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        # One line in the function's log, no traceback; raised again so the invocation
        # counts as an error (the Lambda Errors metric) instead of a quiet success.
        print(f"drctl lambda: {exc}")
        raise SettingsError(str(exc)) from None
    with deadline.limit(run_deadline_seconds(context)):
        return handle(event, settings, ClientFactory())
