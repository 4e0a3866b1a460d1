"""RDS MySQL's ``binlog retention hours``: how long the source keeps a binlog for us.

RDS purges a binary log "as soon as possible" unless ``binlog retention hours`` says
otherwise, and its default is NULL: not retained
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql_rds_set_configuration.html).
An archiver that is down for longer than the retention finds its next binlog purged and
can only start again after a new dump (a gap). The setting is not a parameter-group
parameter, so no IaC can set it: only ``CALL mysql.rds_set_configuration(...)`` as the
master user. The archiver therefore checks it at start (``rds_show_configuration``), warns
in one line when it is lower than it needs, and sets it when allowed to
(``--set-binlog-retention``). Maximum on RDS for MySQL: 168 hours (7 days).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("drctl.binlog")

SETTING = "binlog retention hours"
RDS_MAX_HOURS = 168
DEFAULT_HOURS = 24  # a day of archiver downtime (a weekend needs more) still resumes


@dataclass(frozen=True)
class RetentionCheck:
    current: int | None  # None: NULL (not retained), or not RDS
    needed: int
    changed: bool = False
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.current is not None and self.current >= self.needed


def current_hours(cur: Any) -> int | None:
    """``binlog retention hours`` from ``rds_show_configuration`` (None when NULL)."""
    cur.execute("CALL mysql.rds_show_configuration")
    for row in cur.fetchall():
        if str(row[0]).strip().lower() == SETTING:
            value = row[1]
            return None if value in (None, "", "NULL") else int(value)
    return None


def ensure_retention(cur: Any, needed: int, *, set_it: bool) -> RetentionCheck:
    """Check the retention; raise it to ``needed`` when ``set_it``; one line says what happened."""
    if not 1 <= needed <= RDS_MAX_HOURS:
        raise ValueError(f"binlog retention hours must be 1..{RDS_MAX_HOURS} on RDS, not {needed}")
    current = current_hours(cur)
    shown = "NULL (binlogs are not retained)" if current is None else f"{current} h"
    if current is not None and current >= needed:
        return RetentionCheck(current, needed, message=f"binlog retention hours is {shown}")
    if set_it:
        cur.execute("CALL mysql.rds_set_configuration(%s, %s)", (SETTING, needed))
        message = f"binlog retention hours was {shown}; set to {needed} h"
        log.info(message)
        return RetentionCheck(needed, needed, changed=True, message=message)
    message = (
        f"binlog retention hours is {shown}, lower than the {needed} h the archiver needs to "
        "resume after a stop: run CALL mysql.rds_set_configuration('binlog retention hours', "
        f"{needed}) or start the archiver with --set-binlog-retention"
    )
    log.warning(message)
    return RetentionCheck(current, needed, message=message)
