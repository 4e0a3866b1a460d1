"""RDS failback in moto: the promoted replica takes the primary's identifier (so the
endpoint Seoul's app uses), the old primary is renamed aside, fenced in a group of its
own and stopped, the shared parameter group is reset only once no writer uses it, and
DNS returns only to a writable Seoul.

moto checks the calls and their parameters; what it cannot check (a rename's reboot and
~10 minutes of DNS, the group association's pending-reboot, StopDBInstance's refusal of
an instance with replicas) is in the README's "not covered" list.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from drctl.failover.rds_swap import FAILBACK_TAG, SharedGroupWriterError
from drctl.failover.runner import run_steps
from drctl.failover.state import RunState
from drctl.failover.steps import failback_steps, failover_steps

from .conftest import SEOUL, TOKYO, DrWorld
from .test_failover import context_for, run_cli

pytestmark = pytest.mark.usefixtures("moto_promotion_clears_source")

PRIMARY = "drstack-seoul-mysql"
REVERSE = f"{PRIMARY}-failback"
SHARED_GROUP = "drstack-seoul-mysql-mysql8-0"
FAILBACK_STEP_NAMES = [step.name for step in failback_steps()]


def shared_fenced_group(world: DrWorld) -> None:
    """Seoul's custom group as a planned failover leaves it: read_only=1, on the primary."""
    rds = world.client("rds", SEOUL)
    rds.create_db_parameter_group(
        DBParameterGroupName=SHARED_GROUP, DBParameterGroupFamily="mysql8.0", Description="b"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName=SHARED_GROUP,
        Parameters=[
            {"ParameterName": "read_only", "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )
    rds.modify_db_instance(
        DBInstanceIdentifier=PRIMARY, DBParameterGroupName=SHARED_GROUP, ApplyImmediately=True
    )
    world.outputs["seoul"]["rds_parameter_group_name"] = SHARED_GROUP
    world.outputs_path.write_text(json.dumps(world.outputs))


def read_only_of(world: DrWorld, group: str, region: str = SEOUL) -> str | None:
    pages = world.client("rds", region).get_paginator("describe_db_parameters")
    for page in pages.paginate(DBParameterGroupName=group):
        for parameter in page["Parameters"]:
            if parameter["ParameterName"] == "read_only":
                return parameter.get("ParameterValue")
    return None


def instances(world: DrWorld, region: str = SEOUL) -> dict[str, dict[str, Any]]:
    found = world.client("rds", region).describe_db_instances()["DBInstances"]
    return {i["DBInstanceIdentifier"]: i for i in found}


class CallLog:
    """Every call drctl sends (region, operation, params), in order, across clients."""

    def __init__(self, world: DrWorld) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.writers_at_unfence: list[list[str]] = []
        self._world = world
        for service, region in (("rds", SEOUL), ("rds", TOKYO), ("route53", "us-east-1")):
            client = world.client(service, region)
            client.meta.events.register(f"provide-client-params.{service}.*", self._hook(region))

    def _hook(self, region: str) -> Any:
        def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.calls.append((region, model.name, dict(params)))
            if (
                model.name == "ModifyDBParameterGroup"
                and params.get("DBParameterGroupName") == SHARED_GROUP
                and params["Parameters"][0]["ParameterValue"] != "1"
            ):
                self.writers_at_unfence.append(self._writers())

        return hook

    def _writers(self) -> list[str]:
        """Instances that could take writes and use the shared group, right now."""
        import boto3

        rds = boto3.client("rds", region_name=SEOUL)  # a fresh client: no hooks
        return [
            i["DBInstanceIdentifier"]
            for i in rds.describe_db_instances()["DBInstances"]
            if not i.get("ReadReplicaSourceDBInstanceIdentifier")
            and any(g["DBParameterGroupName"] == SHARED_GROUP for g in i["DBParameterGroups"])
        ]

    def index(self, operation: str, **match: Any) -> int:
        for i, (_region, name, params) in enumerate(self.calls):
            if name == operation and all(params.get(k) == v for k, v in match.items()):
                return i
        raise AssertionError(f"{operation} {match} never called: {[c[1] for c in self.calls]}")

    def count(self, operation: str, **match: Any) -> int:
        return sum(
            1
            for _r, name, params in self.calls
            if name == operation and all(params.get(k) == v for k, v in match.items())
        )


def failed_over(cli: CliRunner, world: DrWorld, reverse_lag: float = 0.5) -> None:
    world.set_lag(1.0)
    assert run_cli(cli, world, "failover").exit_code == 0
    # moto publishes no metrics: put what RDS would, under each name the reverse replica
    # holds (ReplicaLag follows the current identifier, so after the rename: PRIMARY).
    for name in (REVERSE, PRIMARY):
        world.set_lag(reverse_lag, instance_id=name, region=SEOUL)


def test_failback_ends_on_the_primary_endpoint_with_one_writer(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    shared_fenced_group(dr_world)
    endpoint_before = instances(dr_world)[PRIMARY]["Endpoint"]["Address"]
    failed_over(cli, dr_world)
    log = CallLog(dr_world)

    done = run_cli(cli, dr_world, "failback", "--sync-timeout", "0", "--max-lag", "5", "--json")

    assert done.exit_code == 0, done.output
    seoul = instances(dr_world)
    new_primary = seoul[PRIMARY]
    tags = {t["Key"]: t["Value"] for t in new_primary.get("TagList", [])}
    assert tags[FAILBACK_TAG] == dr_world.replica()["DBInstanceArn"]  # the promoted replica
    assert not new_primary.get("ReadReplicaSourceDBInstanceIdentifier")
    assert new_primary["Endpoint"]["Address"] == endpoint_before  # the app's DB_HOST
    assert REVERSE not in seoul
    [retired] = [name for name in seoul if name.startswith(f"{PRIMARY}-retired-")]
    assert seoul[retired]["DBInstanceStatus"] == "stopped"
    [fence] = [g["DBParameterGroupName"] for g in seoul[retired]["DBParameterGroups"]]
    assert fence != SHARED_GROUP and read_only_of(dr_world, fence) == "1"
    # Order: aside, fence (group + reboot), stop, into place, reset, promote, DNS.
    aside = log.index(
        "ModifyDBInstance", DBInstanceIdentifier=PRIMARY, NewDBInstanceIdentifier=retired
    )
    fenced = log.index("ModifyDBInstance", DBInstanceIdentifier=retired, DBParameterGroupName=fence)
    rebooted = log.index("RebootDBInstance", DBInstanceIdentifier=retired)
    stopped = log.index("StopDBInstance", DBInstanceIdentifier=retired)
    into_place = log.index(
        "ModifyDBInstance", DBInstanceIdentifier=REVERSE, NewDBInstanceIdentifier=PRIMARY
    )
    tokyo_fenced = log.index("RebootDBInstance", DBInstanceIdentifier="drstack-tokyo-replica")
    reset = log.index("ModifyDBParameterGroup", DBParameterGroupName=SHARED_GROUP)
    promoted = log.index("PromoteReadReplica", DBInstanceIdentifier=PRIMARY)
    dns_back = log.index("UpdateHealthCheck", Inverted=False)
    assert aside < fenced < rebooted < stopped < into_place < tokyo_fenced < reset < promoted
    assert promoted < dns_back
    # Never unfence a group that a writable old primary still uses.
    assert log.writers_at_unfence == [[]]
    assert read_only_of(dr_world, SHARED_GROUP) == "{TrueIfReplica}"
    # The DR database is fenced in a group of its own, read_only=1.
    [tokyo_group] = instances(dr_world, TOKYO)["drstack-tokyo-replica"]["DBParameterGroups"]
    assert read_only_of(dr_world, tokyo_group["DBParameterGroupName"], TOKYO) == "1"
    assert log.count("PromoteReadReplica") == 1
    assert dr_world.switch_config()["Inverted"] is False


def test_promotion_refuses_to_reset_a_group_the_old_primary_still_uses(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    shared_fenced_group(dr_world)
    failed_over(cli, dr_world)
    ctx = context_for(dr_world)
    ctx.database.start_reverse_replication()

    with pytest.raises(SharedGroupWriterError, match=PRIMARY):
        ctx.database.reverse_replica().promote()
    assert read_only_of(dr_world, SHARED_GROUP) == "1"  # the old primary stays fenced


def test_negative_reverse_lag_is_unknown_never_caught_up(cli: CliRunner, dr_world: DrWorld) -> None:
    # RDS reports -1 while replication is not running.
    failed_over(cli, dr_world, reverse_lag=-1.0)

    refused = run_cli(cli, dr_world, "failback", "--sync-timeout", "0", "--max-lag", "5")

    assert refused.exit_code != 0
    assert "lag unknown" in " ".join(refused.output.split())
    assert PRIMARY in instances(dr_world)  # nothing renamed


def test_dns_stays_on_dr_while_the_primary_is_not_writable(
    cli: CliRunner, dr_world: DrWorld
) -> None:
    failed_over(cli, dr_world)
    ctx = context_for(dr_world, sync_timeout_seconds=0.0, max_lag_seconds=5.0)
    state = RunState.load_or_create(dr_world.state_dir, "fb", "failback")
    steps = [s for s in failback_steps() if s.name != "promote_primary"]

    with pytest.raises(Exception, match="not a writable primary"):
        run_steps(steps, ctx, state, progress=lambda _m: None)
    assert dr_world.switch_config()["Inverted"] is True


def fast_context(world: DrWorld) -> Any:
    return context_for(world, sync_timeout_seconds=1.0, max_lag_seconds=5.0)


class Crash(BaseException):
    """BaseException: no step handler swallows it, like a killed process."""


@pytest.mark.parametrize("crash_after", FAILBACK_STEP_NAMES)
def test_failback_killed_after_each_step_resumes_to_the_same_end(
    cli: CliRunner, dr_world: DrWorld, crash_after: str
) -> None:
    shared_fenced_group(dr_world)
    failed_over(cli, dr_world)
    log = CallLog(dr_world)
    state = RunState.load_or_create(dr_world.state_dir, "fb", "failback")

    def crash(name: str) -> None:
        if name == crash_after:
            raise Crash(name)

    if crash_after != FAILBACK_STEP_NAMES[-1]:
        with pytest.raises(Crash):
            run_steps(
                failback_steps(),
                fast_context(dr_world),
                state,
                progress=lambda _m: None,
                after_step=crash,
            )
        resumed = RunState.load_or_create(dr_world.state_dir, "fb", "failback")
        run_steps(failback_steps(), fast_context(dr_world), resumed, progress=lambda _m: None)
    else:
        run_steps(failback_steps(), fast_context(dr_world), state, progress=lambda _m: None)

    seoul = instances(dr_world)
    assert sorted(seoul) == [PRIMARY, next(n for n in seoul if "-retired-" in n)]
    assert not seoul[PRIMARY].get("ReadReplicaSourceDBInstanceIdentifier")
    assert log.count("PromoteReadReplica") == 1
    assert log.count("CreateDBInstanceReadReplica") == 1
    assert log.count("ModifyDBInstance", NewDBInstanceIdentifier=PRIMARY) == 1
    assert all(w == [] for w in log.writers_at_unfence)
    assert dr_world.switch_config()["Inverted"] is False


def test_failover_steps_are_untouched_by_the_swap() -> None:
    names = [s.name for s in failover_steps()]
    assert "retire_old_primary" not in names and "take_primary_endpoint" not in names
