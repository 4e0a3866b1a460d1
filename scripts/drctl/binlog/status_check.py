"""The binlog archive's gaps for ``drctl status``, read from the container itself.

Live, not from the archiver's status blob alone: the segments and the kept dumps say
which gaps a restore would cross now; the status blob adds the open gap of an archiver
that refuses to run (no segment after it yet). An open gap fails the check (no
point-in-time restore to the latest point); a closed one is reported while a kept dump
needs it, under "ok": restores from the dump after it reach the latest point.
"""

from __future__ import annotations

from typing import Any

from drctl.binlog.gaps import ArchiveGap, find_gaps, needed_gaps
from drctl.binlog.segments import list_segments
from drctl.binlog.status import read_status
from drctl.pilotlight.catalog import list_backups


def archive_gaps(container: Any) -> list[ArchiveGap]:
    found = find_gaps(list_segments(container))
    status = read_status(container)
    starts = {gap.start for gap in found}
    for raw in status.gaps if status else []:
        recorded = ArchiveGap.from_dict(raw)
        if not recorded.end and recorded.start not in starts:
            found.append(recorded)
    return needed_gaps(found, list_backups(container))
