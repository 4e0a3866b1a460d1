"""Views, routines, triggers and events: read from one database, recreated in another.

The restore loads into a staging database and swaps base tables in with one atomic
``RENAME TABLE``. Nothing else travels that way: a table with a trigger cannot be
renamed into another schema (error 1435 "Trigger in wrong schema"), a view cannot move
schemas at all (1450), and routines and events belong to their schema. So their
definitions are read back from staging (``SHOW CREATE`` from a session whose current
database is staging prints them without the schema name) and created in the target.

DEFINERs: creating an object whose DEFINER is another account needs SUPER (or SET USER),
which no managed MySQL grants (Azure Flexible Server, RDS: error 1227). Every DEFINER
clause is dropped, so the restoring account becomes the definer; see ``strip_definer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# `user`@`host`, 'user'@'host', user@host, a role without @host, or CURRENT_USER[()].
_DEFINER = re.compile(
    rb"DEFINER\s*=\s*(?:CURRENT_USER(?:\(\))?|(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.$-]+)"
    rb"(?:\s*@\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%:$-]+))?)\s*",
    re.IGNORECASE,
)
_DATA_LINE = b"INSERT INTO "


def strip_definer(statement: bytes) -> bytes:
    return _DEFINER.sub(b"", statement)


class DefinerFilter:
    """Drops DEFINER clauses from a dump as it streams by, line by line.

    Data is passed through untouched: a value that happens to contain "DEFINER=" is
    data. Data means an INSERT statement, from a line starting ``INSERT INTO`` to the
    line that ends it with ";". mysqldump writes the rows on that same line; MariaDB's
    dump writes ``INSERT INTO `t` VALUES`` and then one row per line. Dumps escape
    newlines inside values, so a raw ";\\n" inside an INSERT is its end, and a line
    never mixes data and DDL.

    Throughput: almost all of a dump is INSERT data. It goes through with one search
    for its ";\\n" and no copy; only DDL lines (short) are held back until their end
    and, when they contain "DEFINER", rewritten.
    """

    def __init__(self) -> None:
        self._pending = b""  # the start of a DDL line (or of a line not yet classified)
        self._in_insert = False  # inside an INSERT statement already passed on
        self._ended_with_semicolon = False  # the last data byte passed on was ";"
        self.rewritten = 0

    def feed(self, data: bytes) -> bytes | memoryview:
        if not data:
            return b""
        view = memoryview(data)
        pieces: list[bytes | memoryview] = []
        at = 0
        while at < len(data):
            if self._in_insert:
                at = self._pass_insert(data, view, at, pieces)
            else:
                at = self._ddl_line(data, at, pieces)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _pass_insert(
        self, data: bytes, view: memoryview, at: int, pieces: list[bytes | memoryview]
    ) -> int:
        """Pass data on up to the end of the INSERT statement (or of this piece)."""
        if self._ended_with_semicolon and data[at : at + 1] == b"\n":
            end = at  # ";" ended the previous piece
        else:
            end = data.find(b";\n", at)
            end = -1 if end < 0 else end + 1
        if end < 0:
            pieces.append(view[at:] if at else data)
            self._ended_with_semicolon = data.endswith(b";")
            return len(data)
        pieces.append(view[at : end + 1])
        self._in_insert = self._ended_with_semicolon = False
        return end + 1

    def _ddl_line(self, data: bytes, at: int, pieces: list[bytes | memoryview]) -> int:
        """One line outside an INSERT: held until complete, then filtered."""
        newline = data.find(b"\n", at)
        line = self._pending + data[at : newline + 1 if newline >= 0 else len(data)]
        self._pending = b""
        if line.startswith(_DATA_LINE):
            pieces.append(line)
            self._in_insert = not line.endswith(b";\n")
            self._ended_with_semicolon = line.endswith(b";")
        elif newline < 0:
            self._pending = line  # a DDL line, or too short to tell yet
        else:
            pieces.append(self._filter(line))
        return len(data) if newline < 0 else newline + 1

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        self._in_insert = self._ended_with_semicolon = False
        return self._filter(rest)

    def _filter(self, block: bytes) -> bytes:
        # mysqldump and SHOW CREATE spell the clause in capitals.
        if b"DEFINER" not in block:
            return block
        lines = block.split(b"\n")
        for index, line in enumerate(lines):
            if line.startswith(_DATA_LINE) or b"DEFINER" not in line:
                continue
            lines[index], count = _DEFINER.subn(b"", line)
            self.rewritten += count
        return b"\n".join(lines)


@dataclass(frozen=True)
class SchemaObject:
    kind: str  # VIEW | PROCEDURE | FUNCTION | TRIGGER | EVENT
    name: str
    create: str  # the CREATE statement, without schema name or DEFINER
    sql_mode: str = ""
    time_zone: str = ""  # events only: their schedule is read in this zone

    @property
    def key(self) -> str:
        return f"{self.kind.lower()} {self.name}"

    def drop(self) -> str:
        return f"DROP {self.kind} IF EXISTS {quote(self.name)}"


def quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def base_table_names(cur: Any, database: str) -> list[str]:
    """The database's tables (not views), sorted."""
    cur.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        (database,),
    )
    return [str(row[0]) for row in cur.fetchall()]


_LISTS = {
    "VIEW": "SELECT table_name FROM information_schema.views WHERE table_schema = %s "
    "ORDER BY table_name",
    "PROCEDURE": "SELECT routine_name FROM information_schema.routines "
    "WHERE routine_schema = %s AND routine_type = 'PROCEDURE' ORDER BY routine_name",
    "FUNCTION": "SELECT routine_name FROM information_schema.routines "
    "WHERE routine_schema = %s AND routine_type = 'FUNCTION' ORDER BY routine_name",
    # Several triggers on one table and event fire in ACTION_ORDER: keep that order.
    "TRIGGER": "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = %s "
    "ORDER BY event_object_table, action_timing, event_manipulation, action_order",
    "EVENT": "SELECT event_name FROM information_schema.events WHERE event_schema = %s "
    "ORDER BY event_name",
}
# SHOW CREATE <kind>: (column of the statement, column of its sql_mode or None).
_SHOW = {
    "VIEW": (1, None),
    "PROCEDURE": (2, 1),
    "FUNCTION": (2, 1),
    "TRIGGER": (2, 1),
    "EVENT": (3, 1),
}
KINDS = tuple(_LISTS)


def names(cur: Any, database: str) -> list[tuple[str, str]]:
    """(kind, name) of every non-table object of ``database``."""
    found = []
    for kind, query in _LISTS.items():
        cur.execute(query, (database,))
        found += [(kind, str(row[0])) for row in cur.fetchall()]
    return found


def read_objects(conn: Any, database: str) -> list[SchemaObject]:
    """Definitions of every view, routine, trigger and event, in a creatable order.

    ``conn`` must have ``database`` as its current database, so that SHOW CREATE leaves
    the schema name out and the statements create the objects wherever they are run.
    """
    objects = []
    with conn.cursor() as cur:
        cur.execute(f"USE {quote(database)}")
        for kind, name in names(cur, database):
            cur.execute(f"SHOW CREATE {kind} {quote(name)}")
            row = cur.fetchone()
            statement_col, mode_col = _SHOW[kind]
            create = strip_definer(str(row[statement_col]).encode()).decode()
            mode = str(row[mode_col]) if mode_col is not None else ""
            zone = str(row[2]) if kind == "EVENT" else ""
            objects.append(SchemaObject(kind, name, create, mode, zone))
    return objects


def drop_objects(conn: Any, database: str, objects: list[SchemaObject]) -> None:
    with conn.cursor() as cur:
        cur.execute(f"USE {quote(database)}")
        for obj in objects:
            cur.execute(obj.drop())


def create_objects(conn: Any, database: str, objects: list[SchemaObject]) -> None:
    """Create ``objects`` in ``database``; views retried until their dependencies exist."""
    with conn.cursor() as cur:
        cur.execute(f"USE {quote(database)}")
        cur.execute("SELECT @@SESSION.sql_mode, @@SESSION.time_zone")
        session_mode, session_zone = cur.fetchone()
        views = [o for o in objects if o.kind == "VIEW"]
        _create_views(cur, views)
        for obj in objects:
            if obj.kind == "VIEW":
                continue
            # A routine, trigger or event behaves by the sql_mode it was created under.
            cur.execute("SET SESSION sql_mode = %s", (obj.sql_mode,))
            if obj.time_zone:
                cur.execute("SET SESSION time_zone = %s", (obj.time_zone,))
            cur.execute(obj.create)
        cur.execute("SET SESSION sql_mode = %s, time_zone = %s", (session_mode, session_zone))


def _create_views(cur: Any, views: list[SchemaObject]) -> None:
    # A view may select from another view: create in passes until none is left.
    pending = list(views)
    while pending:
        failed: list[tuple[SchemaObject, Exception]] = []
        for view in pending:
            try:
                cur.execute(view.create)
            except Exception as exc:  # the view it reads may come later in this pass
                failed.append((view, exc))
        if len(failed) == len(pending):
            raise failed[0][1]
        pending = [view for view, _exc in failed]
