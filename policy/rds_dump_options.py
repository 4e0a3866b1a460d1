"""Which dump options an Amazon RDS MySQL source refuses (used by ``deploy_backup``).

Separate from ``deploy_backup`` so that it imports nothing from the pack: tests and
tools can use it without loading every policy.
"""

from __future__ import annotations

RDS_MYSQLDUMP_DOC = "https://repost.aws/knowledge-center/mysqldump-error-rds-mysql-mariadb"

# Long options: refused wherever they appear in a job's command line.
_REFUSED_LONG = ("--master-data", "--source-data", "--lock-all-tables", "--flush-logs", "--gtid")
_REFUSED_GTID_PURGED = ("--set-gtid-purged=on", "--set-gtid-purged=auto")
# Short spellings (-x, -F) mean something else to grep/tail: only next to a dump tool.
_REFUSED_SHORT = ("-x", "-F")
_DUMP_TOOLS = ("mysqldump", "mariadb-dump")


def refused_options(words: list[str]) -> list[str]:
    """The words an RDS MySQL source refuses, in order."""
    near_dump_tool = any(word.rsplit("/", 1)[-1] in _DUMP_TOOLS for word in words)
    found = []
    for word in words:
        option = word.split("=", 1)[0]
        if (
            option in _REFUSED_LONG
            or word.lower() in _REFUSED_GTID_PURGED
            or (near_dump_tool and word in _REFUSED_SHORT)
        ):
            found.append(word)
    return found
