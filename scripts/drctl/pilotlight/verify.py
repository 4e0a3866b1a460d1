"""The restore's proof: per table row counts + CHECKSUM TABLE, per object its definition.

Tables alone are not enough: a restore that lost its views or stored procedures still
has every table intact. Views, routines, triggers and events are compared by name and
by a hash of their definition (schema names taken out, so a restore into a database of
another name still compares equal).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight import remote
from drctl.pilotlight.schema_objects import base_table_names, quote


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    checksum: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SchemaPrint:
    tables: dict[str, TableFingerprint] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)  # "view v" → definition hash


def _quoted(database: str, table: str) -> str:
    return f"{quote(database)}.{quote(table)}"


def base_tables(dsn: MySQLDsn, database: str) -> list[str]:
    conn = remote.connect(dsn, "server")
    try:
        with conn.cursor() as cur:
            return base_table_names(cur, database)
    finally:
        conn.close()


def _table_prints(cur: Any, database: str) -> dict[str, TableFingerprint]:
    result: dict[str, TableFingerprint] = {}
    for table in base_table_names(cur, database):
        cur.execute(f"SELECT COUNT(*) FROM {_quoted(database, table)}")
        rows = int(cur.fetchone()[0])
        cur.execute(f"CHECKSUM TABLE {_quoted(database, table)}")
        checksum_row = cur.fetchone()
        checksum = None if checksum_row[1] is None else int(checksum_row[1])
        result[table] = TableFingerprint(rows=rows, checksum=checksum)
    return result


# information_schema keeps each object's body; views' bodies name their schema.
_OBJECT_BODIES = (
    ("view", "SELECT table_name, view_definition FROM information_schema.views "
     "WHERE table_schema = %s"),
    ("procedure", "SELECT routine_name, routine_definition FROM information_schema.routines "
     "WHERE routine_schema = %s AND routine_type = 'PROCEDURE'"),
    ("function", "SELECT routine_name, routine_definition FROM information_schema.routines "
     "WHERE routine_schema = %s AND routine_type = 'FUNCTION'"),
    ("trigger", "SELECT trigger_name, CONCAT_WS(' ', action_timing, event_manipulation, "
     "event_object_table, action_order, action_statement) FROM information_schema.triggers "
     "WHERE trigger_schema = %s"),
    ("event", "SELECT event_name, CONCAT_WS(' ', event_definition, interval_value, "
     "interval_field, status) FROM information_schema.events WHERE event_schema = %s"),
)  # fmt: skip


def _object_prints(cur: Any, database: str) -> dict[str, str]:
    schema_name = re.compile(re.escape(f"`{database}`."))
    prints = {}
    for kind, query in _OBJECT_BODIES:
        cur.execute(query, (database,))
        for name, body in cur.fetchall():
            text = schema_name.sub("", str(body or ""))
            prints[f"{kind} {name}"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return prints


def schema_print(dsn: MySQLDsn, database: str, *, role: str = "server") -> SchemaPrint:
    conn = remote.connect(dsn, role)
    try:
        with conn.cursor() as cur:
            return SchemaPrint(_table_prints(cur, database), _object_prints(cur, database))
    finally:
        conn.close()


def fingerprints(dsn: MySQLDsn, database: str) -> dict[str, TableFingerprint]:
    conn = remote.connect(dsn, "server")
    try:
        with conn.cursor() as cur:
            return _table_prints(cur, database)
    finally:
        conn.close()


def differences(
    restored: dict[str, TableFingerprint], source: dict[str, TableFingerprint]
) -> list[str]:
    """Human-readable mismatches; empty means the restore equals the source."""
    problems = []
    for table in sorted(set(restored) | set(source)):
        if table not in restored:
            problems.append(f"{table}: missing from the restore")
        elif table not in source:
            problems.append(f"{table}: not in the source")
        elif restored[table] != source[table]:
            problems.append(
                f"{table}: rows {restored[table].rows} vs {source[table].rows}, "
                f"checksum {restored[table].checksum} vs {source[table].checksum}"
            )
    return problems


def object_differences(restored: dict[str, str], source: dict[str, str]) -> list[str]:
    problems = []
    for key in sorted(set(restored) | set(source)):
        if key not in restored:
            problems.append(f"{key}: missing from the restore")
        elif key not in source:
            problems.append(f"{key}: not in the source")
        elif restored[key] != source[key]:
            problems.append(f"{key}: definition differs from the source")
    return problems
