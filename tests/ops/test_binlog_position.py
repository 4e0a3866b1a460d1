"""Comparing binlog coordinates: later file or later position in the same file reaches,
a missing or foreign position never does."""

from __future__ import annotations

import pytest

from drctl.failover.binlog_position import BinlogPosition

FENCED = BinlogPosition("mysql-bin-changelog.000031", 1200)


@pytest.mark.parametrize(
    ("executed", "reached"),
    [
        (BinlogPosition("mysql-bin-changelog.000031", 1200), True),
        (BinlogPosition("mysql-bin-changelog.000031", 5000), True),
        (BinlogPosition("mysql-bin-changelog.000032", 4), True),  # rotated past it
        (BinlogPosition("mysql-bin-changelog.000031", 1199), False),
        (BinlogPosition("mysql-bin-changelog.000030", 99999), False),
        (BinlogPosition("other-bin.000031", 1200), False),  # another server's binlog
        (None, False),
    ],
)
def test_reached_by(executed: BinlogPosition | None, reached: bool) -> None:
    assert FENCED.reached_by(executed) is reached


def test_file_numbers_compare_as_numbers_not_text() -> None:
    assert BinlogPosition("mysql-bin.999999", 10).reached_by(BinlogPosition("mysql-bin.1000000", 4))
