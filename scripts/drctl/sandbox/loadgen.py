"""A write load through the app, with every acknowledged write recorded.

Each write carries (writer, seq). A write counts as *acknowledged* only when the app
answered 201, i.e. the row was committed on whatever database served it. After
recovery the ledger is compared with the new primary: an acknowledged write that is
not there is lost data, which is what RPO measures.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drctl.mysql_dsn import MySQLDsn


@dataclass
class WriteRecord:
    seq: int
    sent_at: float  # epoch seconds
    acked_at: float | None = None
    region: str = ""
    error: str = ""


@dataclass
class WriteLoad:
    """Writes as fast as one client can (paced by ``pause``) to whatever ``route`` names."""

    route: Callable[[], str | None]  # current base URL, as "DNS" answers it
    pause: float = 0.01
    timeout: float = 1.0
    writer: str = field(default_factory=lambda: f"drill-{uuid.uuid4().hex[:8]}")
    records: list[WriteRecord] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="write-load")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            seq += 1
            record = WriteRecord(seq=seq, sent_at=time.time())
            url = self.route()
            if url is None:
                record.error = "no route"
            else:
                self._write(url, record)
            self.records.append(record)
            self._stop.wait(self.pause)

    def _write(self, url: str, record: WriteRecord) -> None:
        body = json.dumps({"writer": self.writer, "seq": record.seq}).encode()
        request = urllib.request.Request(
            url + "/writes", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
                if response.status == 201:
                    record.acked_at = time.time()
                    record.region = str(answer.get("region", ""))
        except urllib.error.HTTPError as exc:
            record.error = f"HTTP {exc.code}"
        except Exception as exc:
            # Anything else (a server killed mid-response raises http.client errors that
            # are not OSError) is a failed write too; the load must outlive every fault.
            record.error = type(exc).__name__

    def acknowledged(self) -> list[WriteRecord]:
        return [r for r in list(self.records) if r.acked_at is not None]

    def first_ack_after(self, moment: float, region: str) -> WriteRecord | None:
        for record in list(self.records):
            if record.acked_at is not None and record.sent_at >= moment and record.region == region:
                return record
        return None

    def wait_for_ack_after(self, moment: float, region: str, timeout: float) -> WriteRecord | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.first_ack_after(moment, region)
            if found is not None:
                return found
            time.sleep(0.02)
        return None


@dataclass
class LossReport:
    acknowledged: int
    lost: int
    lost_seqs: list[int]
    rpo_seconds: float  # fault time minus the oldest lost write's acknowledgement
    first_lost_at: str | None
    last_lost_at: str | None

    def as_dict(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data["lost_seqs"] = self.lost_seqs[:50]  # enough to investigate, bounded
        return data


def committed_seqs(db: MySQLDsn, writer: str) -> set[int]:
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT seq FROM drill_writes WHERE writer = %s", (writer,))
            return {int(row[0]) for row in cur.fetchall()}
    finally:
        conn.close()


def count_losses(load: WriteLoad, survivor: MySQLDsn, fault_at: float) -> LossReport:
    """Acknowledged writes missing from the database that serves after recovery."""
    present = committed_seqs(survivor, load.writer)
    acked = load.acknowledged()
    lost = [r for r in acked if r.seq not in present]
    oldest = min((r.acked_at or 0.0 for r in lost), default=None)
    newest = max((r.acked_at or 0.0 for r in lost), default=None)
    return LossReport(
        acknowledged=len(acked),
        lost=len(lost),
        lost_seqs=[r.seq for r in lost],
        rpo_seconds=round(max(0.0, fault_at - oldest), 3) if oldest is not None else 0.0,
        first_lost_at=_iso(oldest),
        last_lost_at=_iso(newest),
    )


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()
