"""The replay's event loop: binlog events from the binlog server, SQL to the target.

Which events count, as ``mysqlbinlog --database`` counts them: row events of tables in
the source database, and statements (DDL) whose default database is the source
database. Transactions end at their XID (or a COMMIT statement for non-transactional
tables); a transaction the cut at ``--to-time`` or the end of the archive leaves open is
rolled back, so the target only ever holds whole transactions. The cut is the first
event at or after T, as ``--stop-datetime`` would cut.
"""

from __future__ import annotations

import re
from typing import Any

from drctl.binlog.applier import Point, TargetSession
from drctl.binlog.binlog_server import READER_SERVER_ID
from drctl.binlog.row_sql import (
    RowEventRefused,
    delete_sql,
    insert_sql,
    shape_of,
    update_sql,
)
from drctl.pilotlight.schema_objects import (
    SchemaObject,
    create_objects,
    drop_objects,
    read_objects,
    strip_definer,
)

NO_FOREIGN_KEY_CHECKS_F = 1 << 1  # rows event flag: the source session had them off
# Accounts are not restored (the target has its own), and FLUSH changes nothing restored.
_SKIPPED = re.compile(
    r"^\s*(GRANT|REVOKE|(CREATE|ALTER|DROP|RENAME)\s+(USER|ROLE)|SET\s+(PASSWORD|DEFAULT\s+ROLE)"
    r"|FLUSH)\b",
    re.IGNORECASE,
)
_CREATE_TRIGGER = re.compile(r"^\s*CREATE\b[^;]*?\bTRIGGER\b", re.IGNORECASE | re.DOTALL)
_DROP_TRIGGER = re.compile(
    r"^\s*DROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?(?:`?[^`.\s]+`?\.)?`?([^`\s;]+)`?", re.IGNORECASE
)


class SuspendedTriggers:
    """The target's triggers, dropped while the replay runs and recreated after it."""

    def __init__(self, session: TargetSession) -> None:
        self.session = session
        self.suspended: dict[str, SchemaObject] = {}

    def __enter__(self) -> SuspendedTriggers:
        self.suspend_all()
        return self

    def suspend_all(self) -> None:
        conn, database = self.session.conn, self.session.database
        triggers = [o for o in read_objects(conn, database) if o.kind == "TRIGGER"]
        drop_objects(conn, database, triggers)
        self.suspended.update({t.name: t for t in triggers})

    def dropped_by_binlog(self, statement: str) -> bool:
        """A DROP TRIGGER of a suspended trigger: forget it instead of running it."""
        match = _DROP_TRIGGER.match(statement)
        if match is None:
            return False
        return self.suspended.pop(match.group(1), None) is not None

    def __exit__(self, *exc: Any) -> None:
        from drctl.binlog.applier import ApplyFailed
        from drctl.pilotlight.remote import first_line

        if not self.suspended:
            return
        try:
            self.session.conn.rollback()
            create_objects(self.session.conn, self.session.database, list(self.suspended.values()))
        except Exception as error:
            names = ", ".join(sorted(self.suspended))
            failed = f" failed ({first_line(exc[1])})" if exc[1] is not None else ""
            raise ApplyFailed(
                f"the target's triggers ({names}) could not be recreated after the "
                f"replay{failed}: {first_line(error)}"
            ) from error


class EventApplier:
    def __init__(
        self,
        session: TargetSession,
        triggers: SuspendedTriggers,
        *,
        source_database: str,
        stop: int | None,
        end: tuple[str, int],
    ) -> None:
        self.session = session
        self.triggers = triggers
        self.source_database = source_database
        self.stop = stop
        self.end = end

    def run(self, settings: dict[str, Any], start_file: str, start_pos: int) -> None:
        reader = _reader(settings, start_file, start_pos, self.source_database)
        try:
            for event in reader:
                if self.stop is not None and event.timestamp >= self.stop:
                    break  # the first event at or after T: nothing from here on
                point = Point(f"{reader.log_file}:{reader.log_pos}", event.timestamp)
                self.handle(event, point)
                if (reader.log_file, reader.log_pos) >= self.end:
                    break  # the archive ends here; the server's own binlog follows
            self.session.rollback_open()
        finally:
            reader.close()

    def handle(self, event: Any, point: Point) -> None:
        from pymysqlreplication.event import QueryEvent, XidEvent
        from pymysqlreplication.row_event import (
            DeleteRowsEvent,
            PartialUpdateRowsEvent,
            UpdateRowsEvent,
            WriteRowsEvent,
        )

        if isinstance(event, XidEvent):
            self.session.commit(point)
        elif isinstance(event, QueryEvent):
            self.statement(event, point)
        elif isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent) and not (
            isinstance(event, PartialUpdateRowsEvent)  # binlog_row_value_options=PARTIAL_JSON
        ):
            self.rows(event, point)
        else:  # XA PREPARE, a partial JSON update: nothing plain SQL can redo as it was
            raise RowEventRefused(
                f"{type(event).__name__} at {point.where} cannot be replayed as plain SQL"
            )

    def statement(self, event: Any, point: Point) -> None:
        query = event.query.strip()
        word = query.split(None, 1)[0].upper() if query else ""
        if query.upper() in ("BEGIN", "START TRANSACTION"):
            return  # opened by its first row statement
        if query.upper() == "COMMIT":
            self.session.commit(point)
        elif query.upper() == "ROLLBACK":
            self.session.rollback_open()
        elif word == "XA":
            raise RowEventRefused(f"an XA transaction at {point.where} cannot be replayed")
        elif word in ("SAVEPOINT", "RELEASE") or query.upper().startswith("ROLLBACK TO"):
            self.session.add([query])
        elif _schema(event) == self.source_database and not _SKIPPED.match(query):
            self.ddl(query, event, point)

    def ddl(self, query: str, event: Any, point: Point) -> None:
        if self.triggers.dropped_by_binlog(query):
            self.session.committed = point
            return
        statement = strip_definer(query.encode()).decode()
        self.session.ddl(statement, getattr(event, "sql_mode", None), point)
        if _CREATE_TRIGGER.match(query):
            self.triggers.suspend_all()

    def rows(self, event: Any, point: Point) -> None:
        from pymysqlreplication.row_event import DeleteRowsEvent, WriteRowsEvent

        if event.schema != self.source_database:
            return
        generated = self.session.generated_columns(event.table)
        shape = shape_of(event, self.session.table_ref(event.table), generated, point.where)
        if isinstance(event, WriteRowsEvent):
            statements = [insert_sql(shape, event.rows)]
        elif isinstance(event, DeleteRowsEvent):
            statements = delete_sql(shape, event.rows)
        else:
            statements = update_sql(shape, event.rows)
        checks = not event.flags & NO_FOREIGN_KEY_CHECKS_F
        self.session.add(statements, foreign_key_checks=checks)


def _schema(event: Any) -> str:
    schema = event.schema
    return schema.decode("utf-8", "replace") if isinstance(schema, bytes) else str(schema)


def _reader(settings: dict[str, Any], start_file: str, start_pos: int, database: str) -> Any:
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.event import QueryEvent, XAPrepareEvent, XidEvent
    from pymysqlreplication.row_event import (
        DeleteRowsEvent,
        PartialUpdateRowsEvent,
        UpdateRowsEvent,
        WriteRowsEvent,
    )

    return BinLogStreamReader(
        connection_settings=dict(settings),
        server_id=READER_SERVER_ID,
        resume_stream=True,
        blocking=False,  # the served files are all there is: end of stream, not a wait
        log_file=start_file,
        log_pos=start_pos,
        only_events=[
            QueryEvent,
            XidEvent,
            WriteRowsEvent,
            UpdateRowsEvent,
            DeleteRowsEvent,
            PartialUpdateRowsEvent,
            XAPrepareEvent,
        ],
        only_schemas=[database],  # other databases' table maps and rows are not decoded
        enable_logging=False,
    )
