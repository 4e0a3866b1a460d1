"""Write a stream into an Azure block blob that becomes visible only when complete.

Blocks are staged as the stream arrives (a few in flight, so memory is bounded by
``block_bytes * (max_in_flight + 1)``); ``commit_block_list`` runs only after the last
block is staged. Until then the blob does not exist for readers: an interrupted upload
leaves only uncommitted blocks, which Azure discards on its own after a week.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from drctl.pilotlight.blob_sdk import BlobBlock, BlobClient, ContentSettings

DEFAULT_BLOCK_BYTES = 4 << 20


class StagedBlockWriter:
    """File-like sink: ``write`` stages blocks, ``commit`` publishes the blob atomically."""

    def __init__(
        self,
        blob: BlobClient,
        *,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        max_in_flight: int = 2,
    ) -> None:
        self.blob = blob
        self.block_bytes = block_bytes
        self.sha256 = hashlib.sha256()
        self.bytes_written = 0
        self._buffer = bytearray()
        self._block_ids: list[str] = []
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="stage")
        self._futures: list[Future[Any]] = []
        self._closed = False

    def write(self, data: bytes) -> int:
        if not data:
            return 0
        self.sha256.update(data)
        self.bytes_written += len(data)
        self._buffer += data
        while len(self._buffer) >= self.block_bytes:
            block = bytes(memoryview(self._buffer)[: self.block_bytes])  # one copy, not two
            del self._buffer[: self.block_bytes]
            self._stage(block)
        return len(data)

    def _stage(self, block: bytes) -> None:
        self._raise_failed_uploads()
        # Fixed-width ids: Azure requires every id of one blob to have the same length.
        block_id = base64.b64encode(f"{len(self._block_ids):010d}".encode()).decode()
        self._block_ids.append(block_id)
        self._slots.acquire()  # back-pressure: never more than max_in_flight blocks in RAM
        future = self._pool.submit(self.blob.stage_block, block_id, block, length=len(block))
        future.add_done_callback(lambda _f: self._slots.release())
        self._futures.append(future)

    def _raise_failed_uploads(self) -> None:
        pending = []
        for future in self._futures:
            if future.done():
                future.result()  # re-raises the upload error in the writer's thread
            else:
                pending.append(future)
        self._futures = pending

    def commit(self, *, metadata: dict[str, str], content_type: str) -> None:
        if self._buffer:
            self._stage(bytes(self._buffer))
            self._buffer.clear()
        for future in self._futures:
            future.result()
        self._futures = []
        self.blob.commit_block_list(
            [BlobBlock(block_id=block_id) for block_id in self._block_ids],
            metadata=metadata,
            content_settings=ContentSettings(content_type=content_type),
        )
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for future in self._futures:
                future.cancel()
            self._pool.shutdown(wait=True)
