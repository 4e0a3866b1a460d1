"""Archive gaps: where the segments stop being continuous, which a kept dump needs, and
which dump archiving restarts from after the source purged a binlog."""

from __future__ import annotations

from datetime import UTC, datetime

from drctl.binlog.gaps import ArchiveGap, find_gaps, needed_gaps, restart_dump
from drctl.binlog.segments import Segment
from drctl.pilotlight.catalog import BackupEntry, BackupMetadata


def seg(file: str, start: int, end: int, *, t: int = 100, ends: bool = False) -> Segment:
    return Segment(file, start, end, t, t + 5, "", ends)


def dump(name: str, file: str, pos: int = 4, exact: str = "true") -> BackupEntry:
    meta = BackupMetadata(binlog_file=file, binlog_pos=pos, position_exact=exact)
    return BackupEntry(name, 1, datetime(2026, 1, 1, tzinfo=UTC), meta)


def test_a_continuous_archive_has_no_gap() -> None:
    segments = [
        seg("b.000001", 0, 100),
        seg("b.000001", 100, 200, ends=True),
        seg("b.000002", 0, 9),
    ]
    assert find_gaps(segments) == []


def test_a_restart_past_purged_files_is_one_gap_with_its_start_and_end() -> None:
    segments = [
        seg("b.000001", 0, 100, t=10),
        seg("b.000001", 100, 200, t=20),  # b.000001 from 200 on and b.000002 were purged
        seg("b.000003", 0, 50, t=90),
    ]
    [gap] = find_gaps(segments)
    assert gap == ArchiveGap("b.000001:200", 25, "b.000003:0", 90)
    assert "from b.000001:200" in gap.describe() and "to b.000003:0" in gap.describe()
    after_rotate = [seg("b.000001", 0, 100, ends=True), seg("b.000004", 0, 10)]
    assert find_gaps(after_rotate)[0].start == "b.000002:0"


def test_a_gap_is_needed_while_a_kept_dump_is_before_it_and_always_while_open() -> None:
    closed = ArchiveGap("b.000001:200", 25, "b.000003:0", 90)
    opened = ArchiveGap("b.000005:40", 95)
    before, after = dump("backup_1", "b.000001", 150), dump("backup_2", "b.000003", 60)
    assert needed_gaps([closed, opened], [before, after]) == [closed, opened]
    # The dumps' retention removed the dump before it: no restore can cross it any more.
    assert needed_gaps([closed, opened], [after]) == [opened]
    assert needed_gaps([closed], []) == []


def test_archiving_restarts_at_the_oldest_exact_dump_the_source_still_has() -> None:
    dumps = [
        dump("backup_4", "b.000009", 10),
        dump("backup_3", "b.000007", 300, exact="false"),  # not tied to its snapshot
        dump("backup_2", "b.000008", 77),
        dump("backup_1", "b.000002", 5),  # its file is purged on the source
    ]
    chosen = restart_dump(dumps, oldest_on_source="b.000006")
    assert chosen is not None and chosen.name == "backup_2"
    assert restart_dump(dumps[3:], oldest_on_source="b.000006") is None
