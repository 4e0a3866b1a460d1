"""When the archiver commits: the upload must end within one flush interval of an event's
arrival in the spool (the RPO goal), whatever the poll and the last upload took."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from drctl.binlog.archiver import POLL_SECONDS, ArchiverOptions, BinlogArchiver
from drctl.binlog.events import MAGIC
from drctl.mysql_dsn import MySQLDsn

FILE = "mysql-bin.000001"
WRITE_ROWS = 30


def event(timestamp: int = 1_700_000_000, size: int = 40) -> bytes:
    header = struct.pack("<IBIIIH", timestamp, WRITE_ROWS, 1, size, 0, 0)
    return header + b"\0" * (size - len(header))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def archiver(tmp_path: Path, clock: Clock, flush: float = 1.0) -> BinlogArchiver:
    a = BinlogArchiver(
        MySQLDsn(host="db.example", user="x"),
        container=Any,
        spool_dir=tmp_path,
        options=ArchiverOptions(flush_seconds=flush),
        clock=clock,
    )
    a.file = FILE
    (tmp_path / FILE).write_bytes(MAGIC)
    return a


def test_an_event_seen_one_poll_late_is_committed_on_time(tmp_path: Path) -> None:
    clock = Clock()
    a = archiver(tmp_path, clock)
    a._collect()  # t=0: nothing yet
    with (tmp_path / FILE).open("ab") as spool:
        spool.write(event())  # arrives just after that read
    clock.now = POLL_SECONDS  # seen at the next poll
    a._collect()
    a._uploads.append(0.1)  # uploads take 0.1 s lately
    # Committing at `seen + flush - poll` (0.2 + 0.8 = 1.0) would end the upload at 1.1,
    # past the event's flush interval: the commit is due by 1.0 - 0.2 - 0.1 = 0.7.
    clock.now = 0.65
    assert not a._segment_due()
    clock.now = 0.71
    assert a._segment_due()


def test_an_upload_between_reads_counts_against_the_waiting_event(tmp_path: Path) -> None:
    clock = Clock()
    a = archiver(tmp_path, clock, flush=5.0)
    a._collect()  # t=0
    clock.now = 2.0  # a slow upload of the previous segment kept the loop away
    with (tmp_path / FILE).open("ab") as spool:
        spool.write(event())
    a._collect()  # seen at 2.0, but it may have arrived right after t=0
    clock.now = 5.0 - POLL_SECONDS
    assert a._segment_due()
