"""`binlog retention hours` on RDS MySQL: checked at the archiver's start, raised when allowed.

The cursor below answers like RDS's procedures (rows of name, value, description, as
documented for mysql.rds_show_configuration); the sandbox's MariaDB has no such procedure.
"""

from __future__ import annotations

from typing import Any

import pytest

from drctl.binlog.retention_hours import RDS_MAX_HOURS, current_hours, ensure_retention


class RdsConfigurationCursor:
    def __init__(self, hours: int | None) -> None:
        self.hours = hours
        self.calls: list[tuple[str, Any]] = []

    def execute(self, statement: str, params: Any = None) -> None:
        self.calls.append((statement, params))
        if statement.startswith("CALL mysql.rds_set_configuration"):
            assert params[0] == "binlog retention hours"
            self.hours = int(params[1])

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [
            ("binlog retention hours", None if self.hours is None else str(self.hours), "..."),
            ("source delay", "0", "..."),
        ]

    def sets(self) -> list[Any]:
        return [p for s, p in self.calls if "rds_set_configuration" in s]


def test_null_retention_is_reported_in_one_line_and_left_alone() -> None:
    cur = RdsConfigurationCursor(None)
    check = ensure_retention(cur, 24, set_it=False)
    assert not check.ok and not check.changed
    assert "NULL" in check.message and "--set-binlog-retention" in check.message
    assert "\n" not in check.message
    assert cur.sets() == []


def test_lower_retention_is_raised_when_allowed() -> None:
    cur = RdsConfigurationCursor(6)
    check = ensure_retention(cur, 24, set_it=True)
    assert check.changed and check.ok
    assert cur.sets() == [("binlog retention hours", 24)]
    assert current_hours(cur) == 24


def test_enough_retention_is_never_lowered() -> None:
    cur = RdsConfigurationCursor(72)
    check = ensure_retention(cur, 24, set_it=True)
    assert check.ok and not check.changed and cur.sets() == []


def test_more_than_rds_allows_is_refused() -> None:
    with pytest.raises(ValueError, match=str(RDS_MAX_HOURS)):
        ensure_retention(RdsConfigurationCursor(None), RDS_MAX_HOURS + 1, set_it=True)
