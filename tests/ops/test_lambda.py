"""Automated failover: guard rules as a pure function, and the handler in moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drctl.failover.guards import FAILOVER, IGNORE, NOTIFY_ONLY, REFUSE, GuardInput, decide
from drctl.failover.lock import DynamoDbLock
from drctl.failover.state import RunState
from drctl.failover.steps import failover_steps
from drctl.lambda_handler import Settings, SettingsError, handle, handler

from .conftest import SEOUL, TOKYO, DrWorld

LAG_ALARM = "drstack-tokyo-replica-lag"


def facts(**overrides: Any) -> GuardInput:
    base: dict[str, Any] = dict(
        consecutive_failures=3,
        interval_seconds=30,
        threshold_seconds=90,
        lag_seconds=2.0,
        max_lag_seconds=30,
        auto_promote=True,
    )
    return GuardInput(**{**base, **overrides})


@pytest.mark.parametrize(
    ("overrides", "action"),
    [
        ({}, FAILOVER),
        ({"consecutive_failures": 2}, IGNORE),  # 2 × 30s = 60s < 90s
        ({"consecutive_failures": 9, "interval_seconds": 10}, FAILOVER),  # exactly 90s
        ({"consecutive_failures": 8, "interval_seconds": 10}, IGNORE),
        ({"lag_seconds": 31.0}, REFUSE),
        ({"lag_seconds": None}, REFUSE),
        ({"lag_seconds": -1.0}, REFUSE),  # RDS: -1 = replication not running, not 0 lag
        ({"auto_promote": False}, NOTIFY_ONLY),
        ({"auto_promote": False, "lag_seconds": 99.0}, REFUSE),  # refusal beats notify-only
    ],
)
def test_guard_rules(overrides: dict[str, Any], action: str) -> None:
    assert decide(facts(**overrides)).action == action


def test_guard_reasons_name_the_numbers() -> None:
    assert (
        "2 consecutive failures × 30s = 60s < threshold 90s"
        in decide(facts(consecutive_failures=2)).reason
    )
    assert "standby lag 45.0s > limit 30s" in decide(facts(lag_seconds=45.0)).reason


def alarm_event(state: str = "ALARM", periods: int = 3, period: int = 30) -> dict[str, Any]:
    message = {
        "AlarmName": "drstack-tokyo-primary-health",
        "NewStateValue": state,
        "StateChangeTime": "2025-03-14T02:01:30.000+0000",
        "Trigger": {
            "MetricName": "HealthCheckStatus",
            "Namespace": "AWS/Route53",
            "Period": period,
            "EvaluationPeriods": periods,
        },
    }
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(message)}}]}


def settings(world: DrWorld, auto_promote: bool) -> Settings:
    tokyo = world.outputs["tokyo"]
    return Settings.from_env(
        {
            "DR_REGION": TOKYO,
            "PRIMARY_REGION": SEOUL,
            "REPLICA_INSTANCE_ID": tokyo["replica_instance_id"],
            "HEALTH_CHECK_ID": tokyo["health_check_id"],
            "FAILOVER_SWITCH_ID": tokyo["failover_switch_id"],
            "LOCK_TABLE_NAME": tokyo["lock_table_name"],
            "NOTIFY_TOPIC_ARN": tokyo["sns_topic_arn"],
            "APP_URL": tokyo["app_url"],
            "LAG_ALARM_NAME": LAG_ALARM,
            "FAILURE_THRESHOLD_SECONDS": "90",
            "MAX_LAG_SECONDS": "30",
            "AUTO_PROMOTE": "true" if auto_promote else "false",
        }
    )


def set_lag_alarm(world: DrWorld, lag: float) -> None:
    """The lag alarm as CloudWatch left it at its last state change: StateReasonData
    is written then, and never refreshed while the state holds."""
    cloudwatch = world.client("cloudwatch", TOKYO)
    cloudwatch.put_metric_alarm(
        AlarmName=LAG_ALARM,
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=30,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "drstack-tokyo-replica"}],
    )
    cloudwatch.set_alarm_state(
        AlarmName=LAG_ALARM,
        StateValue="ALARM" if lag > 30 else "OK",
        StateReason="test",
        StateReasonData=json.dumps({"recentDatapoints": [lag / 2, lag]}),
    )


def set_lag(world: DrWorld, lag: float) -> None:
    """A current ReplicaLag datapoint, as RDS publishes one every minute."""
    world.set_lag(lag)


@pytest.fixture
def published(dr_world: DrWorld) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    dr_world.client("sns", TOKYO).meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: messages.append(dict(params))
    )
    return messages


@pytest.mark.usefixtures("moto_promotion_clears_source")
def test_auto_promotion_runs_the_failover_steps(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    set_lag(dr_world, 2.0)
    result = handle(alarm_event(), settings(dr_world, True), dr_world.factory, tmp_path)
    outcome = result["results"][0]
    assert outcome["action"] == FAILOVER and outcome["failover"] == "completed", outcome
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert dr_world.switch_config()["Inverted"] is True
    assert (
        DynamoDbLock(dr_world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock").holder()
        is None
    )
    assert any("failover to tokyo completed" in m["Subject"] for m in published)
    steps = {e["name"]: e["status"] for e in outcome["timeline"]["events"]}
    assert steps["scale_deployments"] == "skipped"  # no Kubernetes access from Lambda


def test_notify_only_by_default(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    set_lag(dr_world, 2.0)
    outcome = handle(alarm_event(), settings(dr_world, False), dr_world.factory, tmp_path)[
        "results"
    ][0]
    assert outcome["action"] == NOTIFY_ONLY
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not dr_world.switch_config().get("Inverted")
    assert "drctl failover --to tokyo" in published[-1]["Message"]


def test_high_lag_refuses_and_alerts(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    set_lag(dr_world, 120.0)
    outcome = handle(alarm_event(), settings(dr_world, True), dr_world.factory, tmp_path)[
        "results"
    ][0]
    assert outcome["action"] == REFUSE and "120.0s > limit 30s" in outcome["reason"]
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert "refuse" in published[-1]["Subject"]


def test_the_lambda_reads_current_datapoints_not_a_stale_alarm_state(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The lag alarm went OK at 2 s days ago and its StateReasonData still says so; now
    Seoul is gone and RDS publishes ReplicaLag -1 (replication not running)."""
    set_lag_alarm(dr_world, 2.0)
    set_lag(dr_world, -1.0)
    outcome = handle(alarm_event(), settings(dr_world, True), dr_world.factory, tmp_path)[
        "results"
    ][0]
    assert outcome["action"] == REFUSE, outcome
    assert "unknown (reported -1)" in outcome["reason"]
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert not dr_world.switch_config().get("Inverted")


def test_short_outage_is_ignored(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    set_lag(dr_world, 2.0)
    outcome = handle(alarm_event(periods=2), settings(dr_world, True), dr_world.factory, tmp_path)[
        "results"
    ][0]
    assert outcome["action"] == IGNORE
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")


def test_lock_held_by_operator_stops_the_lambda(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    set_lag(dr_world, 2.0)
    lock = DynamoDbLock(dr_world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    assert lock.acquire("failover-tokyo-operator", 3600)
    outcome = handle(alarm_event(), settings(dr_world, True), dr_world.factory, tmp_path)[
        "results"
    ][0]
    assert outcome["failover"] == "already_in_progress"
    assert "failover-tokyo-operator" in outcome["error"]
    assert dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert published[-1]["Subject"] == "drstack: failover already in progress"


def test_recovery_message_takes_no_action(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    outcome = handle(alarm_event(state="OK"), settings(dr_world, True), dr_world.factory, tmp_path)[
        "results"
    ][0]
    assert outcome["action"] == IGNORE
    assert published[-1]["Subject"].endswith("is OK")


def test_settings_name_missing_variables() -> None:
    with pytest.raises(SettingsError, match="DR_REGION"):
        Settings.from_env({})
    assert (
        Settings.from_env(
            {
                k: "x"
                for k in (
                    "DR_REGION",
                    "REPLICA_INSTANCE_ID",
                    "HEALTH_CHECK_ID",
                    "FAILOVER_SWITCH_ID",
                    "LOCK_TABLE_NAME",
                    "NOTIFY_TOPIC_ARN",
                    "LAG_ALARM_NAME",
                )
            }
        ).auto_promote
        is False
    )


def test_lambda_bundle_imports_without_cli_dependencies() -> None:
    """The Lambda runtime has boto3 only: typer, rich and kubernetes must stay lazy."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for name in ('typer', 'rich', 'kubernetes', 'yaml', 'matplotlib'):\n"
        "    sys.modules[name] = None\n"
        "import drctl.lambda_handler\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_the_handler_runs_under_a_deadline_inside_the_lambda_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from drctl import deadline, lambda_handler

    seen: list[float] = []

    def fake_handle(event: Any, settings: Any, factory: Any) -> dict[str, Any]:
        active = deadline.active()
        assert active is not None
        seen.append(active.seconds)
        return {"results": []}

    monkeypatch.setattr(lambda_handler, "handle", fake_handle)
    monkeypatch.setattr(lambda_handler.Settings, "from_env", classmethod(lambda cls, env: None))
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 900_000)
    lambda_handler.handler({}, context)
    assert seen == [900 - lambda_handler.LAMBDA_MARGIN_SECONDS]
    assert deadline.active() is None  # nothing leaks into the next invocation


def test_a_run_stopped_by_its_deadline_still_reports(
    dr_world: DrWorld,
    published: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from drctl import deadline, lambda_handler
    from drctl.failover.notify import SnsNotifier
    from drctl.failover.rds import CloudWatchLagReader
    from drctl.failover.runner import StepFailed

    def gave_up(*_: Any, **__: Any) -> None:
        raise StepFailed("preflight", deadline.GaveUp("https://rds.example", 840))

    monkeypatch.setattr(lambda_handler, "run_steps", gave_up)
    notifier = SnsNotifier(
        dr_world.client("sns", TOKYO), dr_world.outputs["tokyo"]["sns_topic_arn"]
    )
    lag_reader = CloudWatchLagReader(dr_world.client("cloudwatch", TOKYO), "drstack-tokyo-replica")
    with deadline.limit(1) as limit:
        limit.restart(-1)  # the run's deadline has passed: every new attempt is refused
        result = lambda_handler._failover(
            settings(dr_world, True), dr_world.factory, notifier, lag_reader, tmp_path
        )
    assert result["failover"] == "failed" and "did not answer" in result["error"]
    assert "FAILED at preflight" in published[-1]["Subject"]
    assert "https://rds.example did not answer" in published[-1]["Message"]


REQUIRED_ENV = {
    k: "x"
    for k in (
        "DR_REGION",
        "REPLICA_INSTANCE_ID",
        "HEALTH_CHECK_ID",
        "FAILOVER_SWITCH_ID",
        "LOCK_TABLE_NAME",
        "NOTIFY_TOPIC_ARN",
        "LAG_ALARM_NAME",
    )
}


@pytest.mark.parametrize(
    ("key", "raw"),
    [("MAX_LAG_SECONDS", "sixty"), ("FAILURE_THRESHOLD_SECONDS", "90s"), ("MAX_LAG_SECONDS", "-1")],
)
def test_a_malformed_number_is_one_clear_error_naming_the_variable(
    key: str, raw: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingsError, match=f"{key} = '{raw}'"):
        Settings.from_env({**REQUIRED_ENV, key: raw})
    # The Lambda entry point: one log line naming the variable; the error has no chain.
    for name, value in {**REQUIRED_ENV, key: raw}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        handler({}, None)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("drctl lambda: ") and key in line


@pytest.mark.usefixtures("moto_promotion_clears_source")
def test_each_alarm_is_a_new_run_never_a_stale_one_resumed(
    dr_world: DrWorld, published: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A run an earlier event left unfinished (here: it claims everything up to the
    promotion done) must not be replayed: the new alarm checks and acts again."""
    stale = RunState.load_or_create(tmp_path, "auto-failover-tokyo", "failover")
    for step in failover_steps():
        stale.mark(step.name, "done")
    stale.steps.pop(failover_steps()[-1].name)
    stale.save()
    set_lag(dr_world, 2.0)
    outcome = handle(alarm_event(), settings(dr_world, True), dr_world.factory, tmp_path)[
        "results"
    ][0]
    assert outcome["failover"] == "completed", outcome
    assert not dr_world.replica().get("ReadReplicaSourceDBInstanceIdentifier")
    assert dr_world.switch_config()["Inverted"] is True
    assert RunState.load(stale.path).steps == stale.steps  # left for an operator, untouched
