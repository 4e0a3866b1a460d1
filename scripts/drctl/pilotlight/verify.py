"""Row counts and CHECKSUM TABLE per table: the restore's proof, compared with the source."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from drctl.mysql_dsn import MySQLDsn


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    checksum: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def base_tables(dsn: MySQLDsn, database: str) -> list[str]:
    conn = dsn.connect(database="")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
                (database,),
            )
            return [str(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()


def fingerprints(dsn: MySQLDsn, database: str) -> dict[str, TableFingerprint]:
    result: dict[str, TableFingerprint] = {}
    tables = base_tables(dsn, database)
    conn = dsn.connect(database="")
    try:
        with conn.cursor() as cur:
            for table in tables:
                quoted = f"`{database.replace('`', '``')}`.`{table.replace('`', '``')}`"
                cur.execute(f"SELECT COUNT(*) FROM {quoted}")
                rows = int(cur.fetchone()[0])
                cur.execute(f"CHECKSUM TABLE {quoted}")
                checksum_row = cur.fetchone()
                checksum = None if checksum_row[1] is None else int(checksum_row[1])
                result[table] = TableFingerprint(rows=rows, checksum=checksum)
    finally:
        conn.close()
    return result


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
