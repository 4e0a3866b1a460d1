"""What the replay needs of the source's binlog, checked where the archive starts.

The replay writes plain SQL from row events (drctl.binlog.replay): every event must
carry whole rows and its table map the column names. The primary's parameter group
sets all three (components/sql_binlog.py, policy ``binlog-replayable-as-sql``); the
archiver checks the running server too, because a group can be changed, or not yet
applied, and the archive would otherwise fill with events no restore can replay.
"""

from __future__ import annotations

from typing import Any

# Variable -> the value the replay needs (MySQL 8.0.14+ and MariaDB 10.5+ both have them).
REQUIRED = {"binlog_format": "ROW", "binlog_row_image": "FULL", "binlog_row_metadata": "FULL"}


def replay_problems(cur: Any) -> list[str]:
    """``name=value`` for each setting that differs from what the replay needs."""
    names = ", ".join(f"@@GLOBAL.{name}" for name in REQUIRED)
    cur.execute(f"SELECT {names}")
    row = cur.fetchone()
    return [
        f"{name}={value}"
        for (name, wanted), value in zip(REQUIRED.items(), row, strict=True)
        if str(value).upper() != wanted
    ]


def check_replayable(cur: Any, endpoint: str) -> str:
    """One line naming what is wrong ("" : the binlog can be replayed as SQL)."""
    problems = replay_problems(cur)
    if not problems:
        return ""
    wanted = ", ".join(f"{k}={v}" for k, v in REQUIRED.items())
    return (
        f"{endpoint} writes its binlog with {', '.join(problems)}; the point-in-time replay "
        f"needs {wanted} (set them in the primary's parameter group)"
    )
