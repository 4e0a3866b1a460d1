"""Decoded row events as plain INSERT, UPDATE and DELETE statements.

``mysqlbinlog`` prints a row event as ``BINLOG '<base64>'``, which only SUPER,
BINLOG_ADMIN or REPLICATION_APPLIER may run (MariaDB: BINLOG REPLAY), and the Azure
Flexible Server admin has none of them. Plain DML needs only INSERT, UPDATE and DELETE.
Column names come from the source's table map events, which carry them only under
``binlog_row_metadata=FULL`` (the primary's parameter group sets it; a table map
without names is refused, never guessed from today's schema).

What a row-based replica does, these statements do too: a row's full before-image
finds it (``binlog_row_image=FULL``), by its primary key when the table has one, else by
every column with ``<=>`` and ``LIMIT 1`` (the applier's table scan on a table without
a key). Generated columns are left to the target to compute.
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pymysql.converters import escape_string
from pymysqlreplication.constants import FIELD_TYPE, NONE_SOURCE

from drctl.pilotlight.schema_objects import quote

_ZERO_FOR = {
    NONE_SOURCE.OUT_OF_DATE_RANGE: "'0000-00-00'",
    NONE_SOURCE.OUT_OF_DATETIME_RANGE: "'0000-00-00 00:00:00'",
    NONE_SOURCE.OUT_OF_DATETIME2_RANGE: "'0000-00-00 00:00:00'",
    NONE_SOURCE.EMPTY_SET: "''",
}


class RowEventRefused(RuntimeError):
    """A row event plain SQL cannot reproduce faithfully; one line says which and why."""


@dataclass(frozen=True)
class TableShape:
    """What the statements need of a table: its name on the target and its columns."""

    ref: str  # `db`.`table` on the target
    columns: tuple[str, ...]  # every column, in the binlog's order
    types: tuple[int, ...]
    key: tuple[str, ...]  # primary key columns ("" : none)
    generated: frozenset[str]  # computed by the target, never written

    @property
    def written(self) -> list[str]:
        return [c for c in self.columns if c not in self.generated]


def shape_of(event: Any, ref: str, generated: frozenset[str], where: str) -> TableShape:
    names = [column.name for column in event.columns]
    if not all(names):
        raise RowEventRefused(
            f"the table map for {event.schema}.{event.table} at {where} has no column "
            "names: the source wrote it without binlog_row_metadata=FULL"
        )
    key = tuple(column.name for column in event.columns if column.is_primary)
    types = tuple(column.type for column in event.columns)
    return TableShape(ref, tuple(names), types, key, generated)


def _binary(value: bytes) -> str:
    # The batch is sent with surrogateescape (applier): these bytes reach the server as
    # they are, inside a _binary literal (no hex doubling of a large blob).
    return "_binary'" + escape_string(value.decode("ascii", "surrogateescape")) + "'"


def _plain_text(value: str) -> str:
    return "'" + escape_string(value) + "'"


# By exact type, the common cases in one lookup (the replay formats every value).
_BY_TYPE: dict[type, Any] = {
    int: str,
    float: repr,
    decimal.Decimal: lambda v: format(v, "f"),  # never 1E+3: it would parse as a double
    bytes: _binary,
    bool: lambda v: "1" if v else "0",
}
_NOT_PLAIN = (FIELD_TYPE.BIT, FIELD_TYPE.JSON)


def literal(value: Any, column_type: int, none_source: str = NONE_SOURCE.NULL) -> str:
    """``value`` as the library decoded it, as an SQL literal for a utf8mb4 session."""
    if value is None:
        return _null(none_source)
    format_ = _BY_TYPE.get(type(value))
    if format_ is not None:
        return str(format_(value))
    if type(value) is str and column_type not in _NOT_PLAIN:
        return _plain_text(value)
    return _text_literal(value, column_type)


def _null(none_source: str) -> str:
    if none_source in _ZERO_FOR:
        return _ZERO_FOR[none_source]
    if none_source != NONE_SOURCE.NULL:
        raise RowEventRefused(f"a row image lacks a column value ({none_source})")
    return "NULL"


def _text_literal(value: Any, column_type: int) -> str:
    if column_type == FIELD_TYPE.BIT:
        return f"b'{value}'"  # the library spells a BIT value as its binary digits
    if column_type == FIELD_TYPE.JSON:
        value = json.dumps(_json_text(value), ensure_ascii=False)
    elif isinstance(value, datetime.datetime | datetime.date):
        value = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else str(value)
    elif isinstance(value, datetime.timedelta):
        value = _time_text(_time2_fixed(value) if column_type == FIELD_TYPE.TIME2 else value)
    elif isinstance(value, set | frozenset):
        value = ",".join(sorted(value))
    return _plain_text(str(value))


def _time2_fixed(value: datetime.timedelta) -> datetime.timedelta:
    """Undo the decoder's reading of a negative TIME(n) with a fraction.

    TIME2 stores a negative value as its floor and a positive remainder
    (-12:34:56.789 as -12:34:57 + 0.211); mysql-replication 1.0.17 returns
    -(12:34:56 + 0.211). Measured on MariaDB 10.11 for TIME(1)..TIME(6)
    (tests/binlog/test_row_sql.py holds the cases); whole seconds decode right.
    """
    if value >= datetime.timedelta(0):
        return value
    magnitude = -value
    whole = datetime.timedelta(seconds=magnitude // datetime.timedelta(seconds=1))
    fraction = magnitude - whole
    if not fraction:
        return value
    return -(whole + datetime.timedelta(seconds=1) - fraction)


def _time_text(value: datetime.timedelta) -> str:
    micros = abs(value) // datetime.timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    sign = "-" if value < datetime.timedelta(0) else ""
    return f"{sign}{hours}:{minute:02d}:{second:02d}.{micro:06d}"


def _json_text(value: Any) -> Any:
    """MySQL's binary JSON decodes with bytes for keys and strings: make it JSON again."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, dict):
        return {_json_text(k): _json_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_text(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return value


def _values(shape: TableShape, values: dict[str, Any], nones: dict[str, str]) -> list[str]:
    return [
        literal(values[c], t, nones.get(c, NONE_SOURCE.NULL))
        for c, t in zip(shape.columns, shape.types, strict=True)
        if c not in shape.generated
    ]


def insert_sql(shape: TableShape, rows: Sequence[dict[str, Any]]) -> str:
    """One multi-row INSERT for a whole write-rows event."""
    columns = ", ".join(quote(c) for c in shape.written)
    tuples = ",".join(
        "(" + ", ".join(_values(shape, row["values"], row["none_sources"])) + ")" for row in rows
    )
    return f"INSERT INTO {shape.ref} ({columns}) VALUES {tuples}"


def _match(shape: TableShape, values: dict[str, Any], nones: dict[str, str]) -> str:
    """The WHERE clause that finds this before-image's row."""
    columns = shape.key or tuple(shape.written)
    parts = [
        f"{quote(c)} <=> {literal(values[c], shape.types[shape.columns.index(c)], nones.get(c, NONE_SOURCE.NULL))}"
        for c in columns
    ]
    return " AND ".join(parts) + ("" if shape.key else " LIMIT 1")


def delete_sql(shape: TableShape, rows: Sequence[dict[str, Any]]) -> list[str]:
    """By key: one DELETE ... IN for the whole event; without a key: one per row."""
    if not shape.key:
        return [
            f"DELETE FROM {shape.ref} WHERE {_match(shape, row['values'], row['none_sources'])}"
            for row in rows
        ]
    keys = ", ".join(quote(c) for c in shape.key)
    tuples = ",".join(_key_tuple(shape, row["values"], row["none_sources"]) for row in rows)
    return [f"DELETE FROM {shape.ref} WHERE ({keys}) IN ({tuples})"]


def _key_tuple(shape: TableShape, values: dict[str, Any], nones: dict[str, str]) -> str:
    items = (
        literal(values[c], shape.types[shape.columns.index(c)], nones.get(c, NONE_SOURCE.NULL))
        for c in shape.key
    )
    return "(" + ", ".join(items) + ")"


def update_sql(shape: TableShape, rows: Iterable[dict[str, Any]]) -> list[str]:
    """One UPDATE per row, setting only the columns that changed."""
    statements = []
    for row in rows:
        before, after = row["before_values"], row["after_values"]
        before_nones, after_nones = row["before_none_sources"], row["after_none_sources"]
        changed = [
            (c, t)
            for c, t in zip(shape.columns, shape.types, strict=True)
            if c not in shape.generated
            and (before[c] != after[c] or before_nones.get(c) != after_nones.get(c))
        ]
        if not changed:
            continue  # the source matched the row and changed nothing
        sets = ", ".join(
            f"{quote(c)} = {literal(after[c], t, after_nones.get(c, NONE_SOURCE.NULL))}"
            for c, t in changed
        )
        statements.append(
            f"UPDATE {shape.ref} SET {sets} WHERE {_match(shape, before, before_nones)}"
        )
    return statements
