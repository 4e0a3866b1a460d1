"""Put a verified staging database in place of the target: all objects, or none.

Base tables move with one atomic ``RENAME TABLE`` (old ones out to ``__drctl_previous``,
restored ones in). Views, routines, triggers and events cannot move between schemas
(see ``schema_objects``): they are read from staging before the rename and created in
the target after it. Triggers go first, on both sides: a table that still has a trigger
cannot be renamed into another schema (1435 "Trigger in wrong schema").

If anything fails after the first change, the target is put back as it was (tables
renamed back, the old objects recreated) before the error is raised; ``previous`` is
dropped only once nothing in it is still needed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight import remote
from drctl.pilotlight.schema_objects import (
    SchemaObject,
    base_table_names,
    create_objects,
    drop_objects,
    names,
    quote,
    read_objects,
)


class SwapFailed(RuntimeError):
    """The swap failed; the message says whether the target was put back."""


def _rename(cur: Any, moves: list[tuple[str, str, str]]) -> None:
    """One RENAME TABLE for every (table, from schema, to schema): atomic."""
    if moves:
        cur.execute(
            "RENAME TABLE "
            + ", ".join(f"{quote(a)}.{quote(t)} TO {quote(b)}.{quote(t)}" for t, a, b in moves)
        )


def _triggers(objects: list[SchemaObject]) -> list[SchemaObject]:
    return [obj for obj in objects if obj.kind == "TRIGGER"]


def swap_into_place(target: MySQLDsn, staging: str, database: str) -> None:
    previous = f"{database}__drctl_previous"
    conn = remote.connect(target, "target")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote(previous)}")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {quote(database)}")
            cur.execute(f"CREATE DATABASE {quote(previous)}")
        restored = read_objects(conn, staging)
        old = read_objects(conn, database)
        with conn.cursor() as cur:
            new_tables = base_table_names(cur, staging)
            old_tables = base_table_names(cur, database)
        drop_objects(conn, staging, _triggers(restored))
        moves_out = [(t, database, previous) for t in old_tables]
        moves_in = [(t, staging, database) for t in new_tables]
        try:
            drop_objects(conn, database, _triggers(old))
            with conn.cursor() as cur:
                _rename(cur, moves_out + moves_in)
            drop_objects(conn, database, [o for o in old if o.kind != "TRIGGER"])
            create_objects(conn, database, restored)
            _check_objects(conn, database, restored)
        except BaseException as exc:
            _put_back(target, database, previous, staging, old, moves_out, moves_in, exc)
            if not isinstance(exc, Exception):
                raise  # deadline, Ctrl-C, SIGTERM: reported as such
            raise SwapFailed(
                f"the swap failed ({remote.first_line(exc)}); the target database was put "
                "back as it was"
            ) from exc
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote(previous)}")
    finally:
        conn.close()


def _check_objects(conn: Any, database: str, expected: list[SchemaObject]) -> None:
    with conn.cursor() as cur:
        present = {f"{kind.lower()} {name}" for kind, name in names(cur, database)}
    missing = sorted({obj.key for obj in expected} - present)
    if missing:
        raise SwapFailed(f"after the swap {database} lacks {', '.join(missing)}")


def _put_back(
    target: MySQLDsn,
    database: str,
    previous: str,
    staging: str,
    old: list[SchemaObject],
    moves_out: list[tuple[str, str, str]],
    moves_in: list[tuple[str, str, str]],
    cause: BaseException,
) -> None:
    """Undo a half-done swap on a fresh connection (the old one may be the broken part)."""
    try:
        conn = remote.connect(target, "target")
    except Exception as exc:
        raise SwapFailed(
            f"the swap failed ({remote.first_line(cause)}) and the target could not be put back "
            f"({remote.first_line(exc)}): the previous tables are kept in {previous}"
        ) from cause
    try:
        with conn.cursor() as cur:
            cur.execute(f"USE {quote(database)}")
            for kind, name in names(cur, database):
                cur.execute(f"DROP {kind} IF EXISTS {quote(name)}")
            now_in_target = set(base_table_names(cur, database))
            back = [(t, database, staging) for t, _a, _b in moves_in if t in now_in_target]
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {quote(staging)}")
            _rename(cur, back)
            in_previous = set(base_table_names(cur, previous))
            _rename(cur, [(t, previous, database) for t, _a, _b in moves_out if t in in_previous])
        create_objects(conn, database, old)
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote(previous)}")
    except Exception as exc:
        raise SwapFailed(
            f"the swap failed ({remote.first_line(cause)}) and putting the target back failed too "
            f"({remote.first_line(exc)}): check {database} and {previous}"
        ) from cause
    finally:
        with contextlib.suppress(Exception):
            conn.close()
