"""The injected RDS apply states themselves, over moto's RDS (no engine behind them):
a stale in-sync, then applying, then in-sync with the value pushed to the engine once;
pending-reboot until RebootDBInstance, which applies the group."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drctl.sandbox.rds_apply_states import ParameterApplyStates

from .conftest import SEOUL, DrWorld

GROUP = "drstack-seoul-mysql8-0"
PRIMARY = "drstack-seoul-mysql"


Pushed = list[tuple[str, dict[str, str]]]


@pytest.fixture
def pushed() -> Pushed:
    """What reached the (recording) engine."""
    return []


@pytest.fixture
def states(dr_world: DrWorld, pushed: Pushed) -> Iterator[ParameterApplyStates]:
    rds = dr_world.client("rds", SEOUL)
    rds.create_db_parameter_group(
        DBParameterGroupName=GROUP, DBParameterGroupFamily="mysql8.0", Description="drstack"
    )
    rds.modify_db_instance(
        DBInstanceIdentifier=PRIMARY, DBParameterGroupName=GROUP, ApplyImmediately=True
    )
    wrapped = ParameterApplyStates(
        rds,
        lambda instance, values: pushed.append((instance, values)),
        stale_in_sync_seconds=0.3,
        applying_seconds=0.3,
    )
    yield wrapped
    wrapped.close()


def shown(states: ParameterApplyStates) -> str:
    instance = states.describe_db_instances(DBInstanceIdentifier=PRIMARY)["DBInstances"][0]
    return str(instance["DBParameterGroups"][0]["ParameterApplyStatus"])


def set_read_only(states: ParameterApplyStates, value: str) -> None:
    states.modify_db_parameter_group(
        DBParameterGroupName=GROUP,
        Parameters=[
            {"ParameterName": "read_only", "ParameterValue": value, "ApplyMethod": "immediate"}
        ],
    )


def test_a_change_shows_a_stale_in_sync_then_applying_then_reaches_the_engine(
    states: ParameterApplyStates, pushed: Pushed
) -> None:
    set_read_only(states, "1")
    assert shown(states) == "in-sync" and pushed == []  # the apply has not begun
    time.sleep(0.4)
    assert shown(states) == "applying" and pushed == []
    time.sleep(0.4)
    assert shown(states) == "in-sync"
    assert pushed == [(PRIMARY, {"read_only": "1"})]


def test_pending_reboot_until_the_reboot_applies_the_group(
    states: ParameterApplyStates, pushed: Pushed
) -> None:
    set_read_only(states, "1")
    time.sleep(0.8)
    states.associate_without_reboot(PRIMARY)
    assert shown(states) == "pending-reboot"
    set_read_only(states, "{TrueIfReplica}")  # a running instance on a new group: not applied
    time.sleep(0.8)
    assert pushed == [(PRIMARY, {"read_only": "1"})]
    states.reboot_db_instance(DBInstanceIdentifier=PRIMARY)
    assert shown(states) == "in-sync"
    assert pushed[-1] == (PRIMARY, {"read_only": "{TrueIfReplica}"})
