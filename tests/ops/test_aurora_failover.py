"""`rds.engine: aurora-mysql`: the Aurora Global Database adapter against moto 5.2.5.

moto implements CreateGlobalCluster, DescribeGlobalClusters, clusters and CloudWatch
metric data: those are exercised for real (member roles, the waiter's acceptors, the
lag metric, which region each call goes to). moto implements NEITHER
FailoverGlobalCluster NOR SwitchoverGlobalCluster: these tests check that drctl sends
them (to Tokyo, with the documented parameters), reports the refusal in one line and
changes nothing else. Nothing here fakes a successful failover or switchover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import WaiterError
from typer.testing import CliRunner

from drctl import command_support, failover_command
from drctl.failover.aurora import (
    FAILOVER,
    SWITCHOVER,
    AuroraGlobalDatabase,
    AuroraLagReader,
    promoted_waiter_model,
)
from drctl.failover.lock import DynamoDbLock
from drctl.lambda_handler import Settings, handle
from drctl.stack_outputs import StackOutputs
from drctl.status_checks import FAIL, OK, StatusContext, check_rds_replica

from .conftest import SEOUL, TOKYO, DrWorld, make_ops_app
from .test_lambda import LAG_ALARM, alarm_event
from .test_region_dark import DarkPrimaryFactory, closed_port_url

app = make_ops_app()
GLOBAL_ID = "drstack-global"
VERSION = "8.0.mysql_aurora.3.08.0"


@dataclass
class AuroraWorld:
    world: DrWorld
    seoul_arn: str
    tokyo_arn: str

    def members(self) -> dict[str, bool]:
        """Cluster id -> IsWriter, as DescribeGlobalClusters (in Tokyo) shows them."""
        rds = self.world.client("rds", TOKYO)
        found = rds.describe_global_clusters(GlobalClusterIdentifier=GLOBAL_ID)["GlobalClusters"]
        return {
            m["DBClusterArn"].rsplit(":", 1)[-1]: bool(m["IsWriter"])
            for m in found[0]["GlobalClusterMembers"]
        }

    def set_lag_ms(
        self,
        milliseconds: float,
        cluster: str = "drstack-tokyo-aurora",
        metric: str = "AuroraGlobalDBReplicationLag",
        source_region: str | None = "primary",
    ) -> None:
        """Published in the secondary's region under {DBClusterIdentifier, SourceRegion}
        (SourceRegion = the primary's region, as the Aurora labs find it), or under
        DBClusterIdentifier alone with ``source_region=None``."""
        region = TOKYO if "tokyo" in cluster else SEOUL
        dimensions = [{"Name": "DBClusterIdentifier", "Value": cluster}]
        if source_region is not None:
            source = (
                (SEOUL if region == TOKYO else TOKYO)
                if source_region == "primary"
                else source_region
            )
            dimensions.append({"Name": "SourceRegion", "Value": source})
        self.world.client("cloudwatch", region).put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Timestamp": datetime.now(UTC),
                    "Value": milliseconds,
                    "Unit": "Milliseconds",
                }
            ],
        )

    def database(self, action: str = FAILOVER) -> AuroraGlobalDatabase:
        return AuroraGlobalDatabase(
            self.world.client("rds", TOKYO),
            GLOBAL_ID,
            self.tokyo_arn,
            AuroraLagReader(
                self.world.client("cloudwatch", TOKYO), "drstack-tokyo-aurora", source_region=SEOUL
            ),
            action=action,
            waiter_delay_seconds=1,
        )


def _cluster(rds: Any, name: str, **extra: Any) -> str:
    return str(
        rds.create_db_cluster(
            DBClusterIdentifier=name,
            Engine="aurora-mysql",
            EngineVersion=VERSION,
            GlobalClusterIdentifier=GLOBAL_ID,
            **extra,
        )["DBCluster"]["DBClusterArn"]
    )


def build_aurora_world(world: DrWorld, writer: str = "seoul") -> AuroraWorld:
    """The global database as the IaC builds it (the first cluster is the writer), and
    the outputs file rewritten to the Aurora contract (no MySQL instance keys)."""
    seoul, tokyo = world.client("rds", SEOUL), world.client("rds", TOKYO)
    first = seoul if writer == "seoul" else tokyo
    first.create_global_cluster(
        GlobalClusterIdentifier=GLOBAL_ID, Engine="aurora-mysql", EngineVersion=VERSION
    )
    secret = {"MasterUsername": "admin", "MasterUserPassword": "not-a-real-password"}
    if writer == "seoul":
        seoul_arn = _cluster(seoul, "drstack-seoul-aurora", **secret)
        tokyo_arn = _cluster(tokyo, "drstack-tokyo-aurora")
    else:
        tokyo_arn = _cluster(tokyo, "drstack-tokyo-aurora", **secret)
        seoul_arn = _cluster(seoul, "drstack-seoul-aurora")
    outputs = world.outputs
    for key in ("rds_instance_id", "rds_instance_arn"):
        outputs["seoul"].pop(key)
    for key in ("replica_instance_id", "replica_instance_arn"):
        outputs["tokyo"].pop(key)
    outputs["seoul"].update(
        db_engine="aurora-mysql",
        aurora_global_cluster_id=GLOBAL_ID,
        aurora_cluster_id="drstack-seoul-aurora",
        aurora_cluster_arn=seoul_arn,
    )
    outputs["tokyo"].update(
        db_engine="aurora-mysql",
        aurora_global_cluster_id=GLOBAL_ID,
        replica_cluster_id="drstack-tokyo-aurora",
        replica_cluster_arn=tokyo_arn,
        primary_region=SEOUL,  # exported by the DR stack: the lag metric's SourceRegion
    )
    world.outputs_path.write_text(json.dumps(outputs))
    return AuroraWorld(world, seoul_arn, tokyo_arn)


@pytest.fixture
def aurora(
    dr_world: DrWorld, monkeypatch: pytest.MonkeyPatch, moto_exact_dimensions: None
) -> AuroraWorld:
    monkeypatch.setattr(command_support, "make_client_factory", lambda: dr_world.factory)
    monkeypatch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
    return build_aurora_world(dr_world)


def run_cli(world: DrWorld, *args: str) -> Any:
    return CliRunner().invoke(
        app,
        [*args, "--outputs", str(world.outputs_path), "--state-dir", str(world.state_dir), "--yes"],
    )


def record_calls(world: DrWorld, *regions: str) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    for region in regions:
        world.client("rds", region).meta.events.register(
            "before-call", lambda model, _r=region, **_: calls.append((_r, model.name))
        )
    return calls


def test_moto_shows_the_global_database_drctl_reads(aurora: AuroraWorld) -> None:
    assert aurora.members() == {"drstack-seoul-aurora": True, "drstack-tokyo-aurora": False}
    database = aurora.database()
    assert database.identifier == "drstack-tokyo-aurora"
    assert database.is_promoted() is False
    assert aurora.database().member()["DBClusterArn"] == aurora.tokyo_arn


def test_lag_is_the_aurora_metric_in_milliseconds_read_in_tokyo(aurora: AuroraWorld) -> None:
    assert aurora.database().replica_lag_seconds() is None  # no datapoint yet
    aurora.set_lag_ms(1500)
    assert aurora.database().replica_lag_seconds() == pytest.approx(1.5)


def test_waiter_succeeds_on_the_writer_and_times_out_on_a_reader(aurora: AuroraWorld) -> None:
    """The acceptors against moto's real DescribeGlobalClusters output."""
    world = aurora.world
    seoul_side = AuroraGlobalDatabase(
        world.client("rds", SEOUL), GLOBAL_ID, aurora.seoul_arn, lambda: None,
        waiter_delay_seconds=1,
    )  # fmt: skip
    seoul_side.wait_promoted(1)  # Seoul is the writer: success on the first attempt
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        aurora.database().wait_promoted(1)


def test_waiter_fails_fast_when_aws_cancels_the_operation() -> None:
    """The failure acceptor, against a response of the documented FailoverState shape."""
    arn = "arn:aws:rds:ap-northeast-1:123456789012:cluster:drstack-tokyo-aurora"
    waiter = promoted_waiter_model(arn).get_waiter("GlobalClusterWriterIs")
    success, cancelled = waiter.acceptors
    member = {"DBClusterArn": arn, "IsWriter": True}
    done = {"GlobalClusters": [{"Status": "available", "GlobalClusterMembers": [member]}]}
    # The old primary's region is dark: the global cluster need not be 'available'.
    dark_old_primary = {
        "GlobalClusters": [{"Status": "modifying", "GlobalClusterMembers": [member]}]
    }
    busy = {
        "GlobalClusters": [
            {
                "Status": "failing-over",
                "GlobalClusterMembers": [member],
                "FailoverState": {"Status": "failing-over", "ToDbClusterArn": arn},
            }
        ]
    }
    rolled_back = {
        "GlobalClusters": [
            {
                "Status": "available",
                "GlobalClusterMembers": [{**member, "IsWriter": False}],
                "FailoverState": {"Status": "cancelling", "ToDbClusterArn": arn},
            }
        ]
    }
    assert success.matcher_func(done) and success.matcher_func(dark_old_primary)
    assert not success.matcher_func(busy)
    assert cancelled.matcher_func(rolled_back) and not cancelled.matcher_func(done)


def test_an_already_promoted_cluster_makes_no_call(dr_world: DrWorld) -> None:
    aurora = build_aurora_world(dr_world, writer="tokyo")
    calls = record_calls(dr_world, TOKYO)
    database = aurora.database()
    assert database.is_promoted() is True
    database.promote()
    database.wait_promoted(1)
    assert {name for _, name in calls} == {"DescribeGlobalClusters", "DescribeDBClusters"}


def test_unplanned_sends_failover_with_data_loss_to_tokyo_and_reports_moto_refusal(
    aurora: AuroraWorld,
) -> None:
    world = aurora.world
    aurora.set_lag_ms(2500)
    sent: list[dict[str, Any]] = []
    world.client("rds", TOKYO).meta.events.register(
        "provide-client-params.rds.FailoverGlobalCluster", lambda params, **_: sent.append(params)
    )
    result = run_cli(world, "failover", "--json")
    assert result.exit_code == failover_command.EXIT_FAILED, result.output
    report = json.loads(result.stdout)
    assert report["failed_step"] == "promote_database"
    # moto's refusal, in one line, as the run's error
    assert report["error"] == "The failover_global_cluster action has not been implemented"
    assert sent == [
        {
            "GlobalClusterIdentifier": GLOBAL_ID,
            "TargetDbClusterIdentifier": aurora.tokyo_arn,
            "AllowDataLoss": True,
        }
    ]
    # The lag at the moment of failover is the data-loss bound (2500 ms = 2.5 s).
    guard = report["steps"]["replica_lag_guard"]["detail"]
    assert "2.5s behind the primary" in guard
    state = json.loads(next(world.state_dir.glob("*.json")).read_text())
    assert state["data"]["data_loss_bound_seconds"] == pytest.approx(2.5)
    # Nothing changed on the database; DNS moved first, as on every unplanned run.
    assert aurora.members() == {"drstack-seoul-aurora": True, "drstack-tokyo-aurora": False}
    assert world.switch_config()["Inverted"] is True
    assert world.scaler.calls == []


def test_planned_sends_switchover_and_a_refusal_changes_nothing(aurora: AuroraWorld) -> None:
    world = aurora.world
    aurora.set_lag_ms(0)
    calls = record_calls(world, TOKYO, SEOUL)
    result = run_cli(world, "failover", "--mode", "planned", "--json")
    assert result.exit_code == failover_command.EXIT_FAILED, result.output
    report = json.loads(result.stdout)
    assert report["failed_step"] == "promote_database"
    assert report["error"] == "The switchover_global_cluster action has not been implemented"
    # Aurora fences and drains itself: drctl's own fence steps are skipped, not faked.
    for step in ("fence_writes", "wait_drained"):
        assert report["steps"][step]["detail"].startswith("skipped: Aurora's switchover")
    assert (TOKYO, "SwitchoverGlobalCluster") in calls
    assert not any(name == "FailoverGlobalCluster" for _, name in calls)
    # Refused before DNS: nothing changed anywhere.
    assert aurora.members() == {"drstack-seoul-aurora": True, "drstack-tokyo-aurora": False}
    assert not world.switch_config().get("Inverted")
    assert world.scaler.calls == []


def test_dry_run_names_the_aurora_call(aurora: AuroraWorld) -> None:
    planned = run_cli(aurora.world, "failover", "--mode", "planned", "--dry-run")
    assert "SwitchoverGlobalCluster (RPO 0)" in planned.output, planned.output
    unplanned = run_cli(aurora.world, "failover", "--dry-run")
    assert "FailoverGlobalCluster AllowDataLoss=true" in unplanned.output


def test_unplanned_aurora_path_makes_no_call_in_seoul(
    aurora: AuroraWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Region dark: Seoul's AWS endpoint is a closed port; every call up to and
    including the failover request goes to Tokyo."""
    world = aurora.world
    aurora.set_lag_ms(100)
    factory = DarkPrimaryFactory(world.factory, closed_port_url())
    monkeypatch.setattr(command_support, "make_client_factory", lambda: factory)
    tokyo_calls = record_calls(world, TOKYO)
    result = run_cli(world, "failover", "--json")
    report = json.loads(result.stdout)
    assert report["failed_step"] == "promote_database"  # moto, not the dark region
    assert factory.primary_calls == []
    assert ("ap-northeast-1", "FailoverGlobalCluster") in tokyo_calls


def test_failback_is_a_switchover_back_to_seoul(dr_world: DrWorld) -> None:
    """After a failover Tokyo is the writer and Seoul a secondary: failback checks Seoul
    is attached and caught up, then asks Seoul's endpoint for a switchover to it."""
    aurora = build_aurora_world(dr_world, writer="tokyo")
    aurora.set_lag_ms(0, cluster="drstack-seoul-aurora")
    calls = record_calls(dr_world, SEOUL)
    from drctl import command_support as support

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(support, "make_client_factory", lambda: dr_world.factory)
        patch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
        result = run_cli(dr_world, "failback", "--json")
    report = json.loads(result.stdout)
    assert report["failed_step"] == "promote_primary", result.output
    assert report["error"] == "The switchover_global_cluster action has not been implemented"
    assert report["steps"]["wait_reverse_sync"]["detail"] == "reverse replication lag 0.0s"
    assert (SEOUL, "SwitchoverGlobalCluster") in calls
    assert aurora.members() == {"drstack-seoul-aurora": False, "drstack-tokyo-aurora": True}


def test_an_unknown_global_cluster_is_named_and_nothing_is_sent(aurora: AuroraWorld) -> None:
    """moto 5.2.5 ignores DescribeGlobalClusters' identifier filter (it lists them all):
    the adapter matches by name, so a wrong id never fails over another global cluster."""
    calls = record_calls(aurora.world, TOKYO)
    database = AuroraGlobalDatabase(
        aurora.world.client("rds", TOKYO), "no-such-global", aurora.tokyo_arn, lambda: None
    )
    with pytest.raises(RuntimeError, match=r"^global cluster no-such-global not found$"):
        database.promote()
    assert [name for _, name in calls] == ["DescribeGlobalClusters"]


def test_status_reads_the_aurora_secondary_and_its_lag(aurora: AuroraWorld) -> None:
    world = aurora.world
    ctx = StatusContext(StackOutputs(world.outputs, "t"), world.factory, max_lag_seconds=30)
    [no_data] = check_rds_replica(ctx)
    assert no_data.status == FAIL and "no AuroraGlobalDBReplicationLag datapoints" in no_data.detail
    aurora.set_lag_ms(1200)
    [healthy] = check_rds_replica(ctx)
    assert healthy.status == OK, healthy.detail
    assert (
        healthy.detail == "drstack-tokyo-aurora: secondary of drstack-global, lag 1.2s (limit 30s)"
    )
    aurora.set_lag_ms(45000)
    [lagging] = check_rds_replica(ctx)
    assert lagging.status == FAIL and "lag 45.0s" in lagging.detail


def lambda_settings(world: DrWorld, aurora: AuroraWorld) -> Settings:
    tokyo = world.outputs["tokyo"]
    return Settings.from_env(
        {
            "DB_ENGINE": "aurora-mysql",
            "DR_REGION": TOKYO,
            "PRIMARY_REGION": SEOUL,
            "GLOBAL_CLUSTER_ID": GLOBAL_ID,
            "REPLICA_CLUSTER_ARN": aurora.tokyo_arn,
            "HEALTH_CHECK_ID": tokyo["health_check_id"],
            "FAILOVER_SWITCH_ID": tokyo["failover_switch_id"],
            "LOCK_TABLE_NAME": tokyo["lock_table_name"],
            "NOTIFY_TOPIC_ARN": tokyo["sns_topic_arn"],
            "LAG_ALARM_NAME": LAG_ALARM,
            "MAX_LAG_SECONDS": "30",
            "AUTO_PROMOTE": "true",
        }
    )


def test_lambda_on_aurora_is_unplanned_and_reads_the_lag_in_milliseconds(
    aurora: AuroraWorld, tmp_path: Any
) -> None:
    world = aurora.world
    aurora.set_lag_ms(1500)  # the current datapoint, read by GetMetricStatistics
    sent: list[str] = []
    world.client("rds", TOKYO).meta.events.register(
        "before-call", lambda model, **_: sent.append(model.name)
    )
    runs = tmp_path / "lambda-runs"
    result = handle(alarm_event(), lambda_settings(world, aurora), world.factory, runs)
    outcome = result["results"][0]
    assert outcome["failover"] == "failed" and outcome["step"] == "promote_database", outcome
    assert "FailoverGlobalCluster" in sent and "SwitchoverGlobalCluster" not in sent
    lock = DynamoDbLock(world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    assert lock.holder() is not None  # kept for the operator to finish with --resume
    state = json.loads(next(runs.glob("*.json")).read_text())
    assert state["data"]["lag_at_promotion_seconds"] == pytest.approx(1.5)


def test_lambda_settings_name_the_missing_aurora_variable(aurora: AuroraWorld) -> None:
    from drctl.lambda_handler import SettingsError

    env = {"DB_ENGINE": "aurora-mysql", "DR_REGION": TOKYO, "GLOBAL_CLUSTER_ID": GLOBAL_ID}
    with pytest.raises(SettingsError, match="REPLICA_CLUSTER_ARN is not set"):
        Settings.from_env(env)
    with pytest.raises(SettingsError, match="DB_ENGINE = 'postgres'"):
        Settings.from_env({"DB_ENGINE": "postgres"})
    assert SWITCHOVER != FAILOVER


def test_failback_message_on_aurora_says_same_clusters(dr_world: DrWorld, tmp_path: Any) -> None:
    from drctl.failover.build import FailoverOptions, build_context
    from drctl.failover.state import RunState
    from drctl.failover.steps import print_failback_config

    build_aurora_world(dr_world, writer="tokyo")
    said: list[str] = []
    ctx = build_context(
        StackOutputs(dr_world.outputs, "t"), dr_world.factory, FailoverOptions(), say=said.append
    )
    state = RunState.create(tmp_path / "runs", "failback-tokyo", "failback")
    print_failback_config(ctx, state)
    assert "'drstack-seoul-aurora' is the writer of the global database again" in said[0]
    assert "pulumi import" not in said[0]


def test_exporter_reads_the_aurora_lag_in_tokyo(aurora: AuroraWorld) -> None:
    from drctl.exporter_command import _lag_reader

    aurora.set_lag_ms(750)
    reader = _lag_reader(StackOutputs(aurora.world.outputs, "t"), "tokyo")
    assert reader is not None and reader() == pytest.approx(0.75)


def test_switchover_blockers_read_from_the_documented_describe_shape() -> None:
    from drctl.failover.aurora import switchover_blockers

    tokyo = "arn:aws:rds:ap-northeast-1:123456789012:cluster:drstack-tokyo-aurora"
    seoul = "arn:aws:rds:ap-northeast-2:123456789012:cluster:drstack-seoul-aurora"
    healthy = {
        "Status": "available",
        "GlobalClusterMembers": [
            {"DBClusterArn": seoul, "IsWriter": True, "SynchronizationStatus": "connected"},
            {"DBClusterArn": tokyo, "IsWriter": False, "SynchronizationStatus": "connected"},
        ],
    }
    assert switchover_blockers(healthy, tokyo) == []
    resyncing = {
        **healthy,
        "Status": "modifying",
        "FailoverState": {"Status": "pending"},
        "GlobalClusterMembers": [
            healthy["GlobalClusterMembers"][0],
            {"DBClusterArn": tokyo, "SynchronizationStatus": "pending-resync"},
        ],
    }
    assert switchover_blockers(resyncing, tokyo) == [
        "global cluster status is 'modifying', not 'available'",
        "a failover/switchover is already pending",
        "drstack-tokyo-aurora synchronization is 'pending-resync', not 'connected'",
    ]
    assert switchover_blockers(healthy, tokyo.replace("tokyo", "osaka")) == [
        "drstack-osaka-aurora is not a member"
    ]


def test_planned_preflight_refuses_what_aws_would_refuse(
    aurora: AuroraWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's global cluster is always 'available': a detached target is the blocker
    moto can show (RemoveFromGlobalCluster is implemented in the creating region)."""
    world = aurora.world
    outputs = json.loads(world.outputs_path.read_text())
    outputs["tokyo"]["replica_cluster_arn"] = aurora.tokyo_arn.replace("tokyo-aurora", "gone")
    world.outputs_path.write_text(json.dumps(outputs))
    calls = record_calls(world, TOKYO, SEOUL)
    result = run_cli(world, "failover", "--mode", "planned")
    assert result.exit_code == failover_command.EXIT_REFUSED, result.output
    text = " ".join(result.output.split())
    assert (
        "refusing the switchover of drstack-global to drstack-gone: drstack-gone is not a member"
        in text
    )
    assert {name for _, name in calls} == {"DescribeGlobalClusters"}
    lock = DynamoDbLock(world.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    assert lock.holder() is None


def test_the_lag_is_read_under_the_documented_dimension_set(aurora: AuroraWorld) -> None:
    """Published under {DBClusterIdentifier, SourceRegion} only (CloudWatch matches a
    set exactly): a reader that asks for DBClusterIdentifier alone sees nothing."""
    aurora.set_lag_ms(2500)
    cloudwatch = aurora.world.client("cloudwatch", TOKYO)
    assert AuroraLagReader(cloudwatch, "drstack-tokyo-aurora")() is None
    reader = AuroraLagReader(cloudwatch, "drstack-tokyo-aurora", source_region=SEOUL)
    assert reader() == pytest.approx(2.5)
    found = {(metric, tuple(dims)) for metric, dims, _ in reader.readings()}
    assert found == {
        ("AuroraGlobalDBReplicationLag", ("DBClusterIdentifier", "SourceRegion")),
    }


def test_progress_lag_and_the_cluster_only_set_count_too(aurora: AuroraWorld) -> None:
    """The documentation leaves the set in doubt and points Aurora MySQL 3.09+ to
    AuroraGlobalDBProgressLag: the worst of what is published is the lag."""
    aurora.set_lag_ms(800, source_region=None)
    aurora.set_lag_ms(4000, metric="AuroraGlobalDBProgressLag")
    reader = AuroraLagReader(
        aurora.world.client("cloudwatch", TOKYO), "drstack-tokyo-aurora", source_region=SEOUL
    )
    assert reader() == pytest.approx(4.0)


def test_status_shows_a_missing_aurora_lag_as_missing_not_zero(aurora: AuroraWorld) -> None:
    """Published under a set drctl does not read (the doubt in the docs): missing."""
    aurora.set_lag_ms(0, source_region="us-west-2")
    ctx = StatusContext(StackOutputs(aurora.world.outputs, "t"), aurora.world.factory)
    [missing] = check_rds_replica(ctx)
    assert missing.status == FAIL
    assert "AuroraGlobalDBReplicationLag MISSING" in missing.detail
    assert "lag 0.0s" not in missing.detail
