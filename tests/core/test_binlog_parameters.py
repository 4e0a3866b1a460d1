"""The Seoul primary's parameter group: the row-based binlog the binlog archive replays."""

from __future__ import annotations

from components.sql_binlog import mysql_parameter_family
from drctl.synth import Synthesis

from .conftest import synth


def test_primary_uses_a_row_based_full_image_binlog(seoul: Synthesis) -> None:
    group = seoul.one("aws:rds/parameterGroup:ParameterGroup")
    db = seoul.one("aws:rds/instance:Instance")
    assert db.inputs["parameterGroupName"] == group.inputs["name"]
    assert group.inputs["family"] == "mysql8.0"
    params = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert params == {
        "binlog_format": "ROW",
        "binlog_row_image": "FULL",
        "binlog_row_metadata": "FULL",
    }


def test_an_engine_upgrade_gets_a_new_group_of_its_family() -> None:
    upgraded = synth("seoul", "rds.engine_version=8.4.3")
    group = upgraded.one("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["family"] == "mysql8.4"
    assert group.inputs["name"].endswith("-mysql8-4")


def test_family_follows_major_and_minor() -> None:
    assert mysql_parameter_family("8.0.39") == "mysql8.0"
    assert mysql_parameter_family("8.4") == "mysql8.4"
