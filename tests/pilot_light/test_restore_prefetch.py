"""The restore's download runs ahead of the load by a bounded number of chunks.

Restore memory must stay flat whatever the backup size: each chunk the downloader
holds ahead is 4 MiB of RSS. The stand-in container below only counts how far the
downloader pulled; the code under test is drctl's own prefetch queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from drctl.pilotlight.restore import _prefetch


class _CountingDownload:
    def __init__(self, count: int) -> None:
        self.count = count
        self.pulled = 0

    def chunks(self) -> Iterator[bytes]:
        for index in range(self.count):
            self.pulled += 1
            yield bytes([index])


class _Container:
    def __init__(self, download: _CountingDownload) -> None:
        self.download = download

    def get_blob_client(self, name: str) -> _Container:
        return self

    def download_blob(self, max_concurrency: int = 1) -> _CountingDownload:
        return self.download


def test_the_downloader_holds_at_most_two_chunks_beyond_the_one_being_loaded() -> None:
    download = _CountingDownload(20)
    stream = _prefetch(_Container(download), "backup.sql.zst")  # type: ignore[arg-type]
    first = next(stream)
    time.sleep(0.3)  # a slow server: the downloader fills what it may, then waits
    assert first == b"\x00"
    assert download.pulled - 1 <= 2
    assert list(stream) == [bytes([i]) for i in range(1, 20)]  # nothing lost or reordered
