"""The database engines a stack can export as ``db_engine`` (``rds.engine``).

Kept free of imports: the Lambda bundle (boto3 only) and the outputs schema both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MYSQL, AURORA_MYSQL = "mysql", "aurora-mysql"
DB_ENGINES = (MYSQL, AURORA_MYSQL)


def db_engine(values: Mapping[str, Any]) -> str:
    """A stack's DB engine; outputs that predate `db_engine` are plain MySQL."""
    return str(values.get("db_engine") or MYSQL)
