"""Row events as plain SQL: literals, statements, and what is refused."""

from __future__ import annotations

import datetime
import decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pymysqlreplication.constants import FIELD_TYPE, NONE_SOURCE

from drctl.binlog.row_sql import (
    RowEventRefused,
    TableShape,
    delete_sql,
    insert_sql,
    literal,
    shape_of,
    update_sql,
)

T = datetime.timedelta


@pytest.mark.parametrize(
    ("value", "column_type", "expected"),
    [
        (None, FIELD_TYPE.LONG, "NULL"),
        (-7, FIELD_TYPE.LONG, "-7"),
        (18446744073709551615, FIELD_TYPE.LONGLONG, "18446744073709551615"),
        (decimal.Decimal("1E+3"), FIELD_TYPE.NEWDECIMAL, "1000"),  # never 1E+3: a double
        (decimal.Decimal("-0.0001"), FIELD_TYPE.NEWDECIMAL, "-0.0001"),
        (-1.5e-300, FIELD_TYPE.DOUBLE, "-1.5e-300"),
        ("it's \\ 서울", FIELD_TYPE.VARCHAR, "'it\\'s \\\\ 서울'"),
        (b"\x00'\xff", FIELD_TYPE.BLOB, "_binary'\\0\\'\udcff'"),
        (
            datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
            FIELD_TYPE.DATETIME2,
            "'2024-02-29 23:59:59.999999'",
        ),
        (datetime.date(1999, 12, 31), FIELD_TYPE.DATE, "'1999-12-31'"),
        (T(hours=838, minutes=59, seconds=59), FIELD_TYPE.TIME2, "'838:59:59.000000'"),
        ("10110", FIELD_TYPE.BIT, "b'10110'"),
        ({"c", "a"}, FIELD_TYPE.SET, "'a,c'"),
        ({b"k": [1, b"v", None]}, FIELD_TYPE.JSON, '\'{\\"k\\": [1, \\"v\\", null]}\''),
    ],
)
def test_literals(value: Any, column_type: int, expected: str) -> None:
    assert literal(value, column_type) == expected


@pytest.mark.parametrize(
    ("decoded", "stored"),
    [
        # What mysql-replication 1.0.17 returns for a negative TIME(n) with a fraction,
        # measured against MariaDB 10.11 (SELECT of the same rows), and the real value.
        (-T(hours=12, minutes=34, seconds=56, microseconds=211000), "'-12:34:56.789000'"),
        (-T(hours=838, minutes=59, seconds=59, microseconds=1), "'-838:59:59.999999'"),
        (-T(microseconds=999999), "'-0:00:00.000001'"),
        (-T(microseconds=500000), "'-0:00:00.500000'"),
        (-T(hours=1), "'-1:00:00.000000'"),  # whole seconds decode right
    ],
)
def test_negative_time_with_a_fraction_is_read_as_stored(decoded: T, stored: str) -> None:
    assert literal(decoded, FIELD_TYPE.TIME2) == stored


def test_zero_dates_and_empty_sets_come_back_as_written() -> None:
    assert literal(None, FIELD_TYPE.DATE, NONE_SOURCE.OUT_OF_DATE_RANGE) == "'0000-00-00'"
    assert literal(None, FIELD_TYPE.DATETIME2, NONE_SOURCE.OUT_OF_DATETIME2_RANGE) == (
        "'0000-00-00 00:00:00'"
    )
    assert literal(None, FIELD_TYPE.SET, NONE_SOURCE.EMPTY_SET) == "''"


def test_a_row_image_without_a_column_is_refused() -> None:
    with pytest.raises(RowEventRefused, match="cols bitmap"):
        literal(None, FIELD_TYPE.LONG, NONE_SOURCE.COLS_BITMAP)  # binlog_row_image=MINIMAL


def _shape(key: tuple[str, ...] = ("id",), generated: frozenset[str] = frozenset()) -> TableShape:
    return TableShape(
        "`db`.`t`",
        ("id", "name", "twice"),
        (FIELD_TYPE.LONG, FIELD_TYPE.VARCHAR, FIELD_TYPE.LONG),
        key,
        generated,
    )


def _row(id_: int, name: str | None) -> dict[str, Any]:
    return {"values": {"id": id_, "name": name, "twice": id_ * 2}, "none_sources": {}}


def test_a_write_event_is_one_insert_without_generated_columns() -> None:
    sql = insert_sql(_shape(generated=frozenset({"twice"})), [_row(1, "a"), _row(2, None)])
    assert sql == "INSERT INTO `db`.`t` (`id`, `name`) VALUES (1, 'a'),(2, NULL)"


def test_deletes_by_key_are_one_statement_and_without_a_key_one_row_each() -> None:
    rows = [_row(1, "a"), _row(2, None)]
    assert delete_sql(_shape(), rows) == ["DELETE FROM `db`.`t` WHERE (`id`) IN ((1),(2))"]
    assert delete_sql(_shape(key=()), rows) == [
        "DELETE FROM `db`.`t` WHERE `id` <=> 1 AND `name` <=> 'a' AND `twice` <=> 2 LIMIT 1",
        "DELETE FROM `db`.`t` WHERE `id` <=> 2 AND `name` <=> NULL AND `twice` <=> 4 LIMIT 1",
    ]


def test_an_update_sets_what_changed_and_finds_the_row_by_its_before_image() -> None:
    row = {
        "before_values": {"id": 1, "name": "a", "twice": 2},
        "after_values": {"id": 1, "name": None, "twice": 2},
        "before_none_sources": {},
        "after_none_sources": {"name": NONE_SOURCE.NULL},
    }
    unchanged = {**row, "after_values": row["before_values"], "after_none_sources": {}}
    assert update_sql(_shape(), [row, unchanged]) == [
        "UPDATE `db`.`t` SET `name` = NULL WHERE `id` <=> 1"
    ]
    assert update_sql(_shape(key=()), [row]) == [
        "UPDATE `db`.`t` SET `name` = NULL WHERE `id` <=> 1 AND `name` <=> 'a' "
        "AND `twice` <=> 2 LIMIT 1"
    ]


def test_a_table_map_without_column_names_is_refused() -> None:
    column = SimpleNamespace(name=None, is_primary=False, type=FIELD_TYPE.LONG)
    event = SimpleNamespace(schema="db", table="t", columns=[column])
    with pytest.raises(RowEventRefused, match="without binlog_row_metadata=FULL"):
        shape_of(event, "`db`.`t`", frozenset(), "mysql-bin.000001:120")
