"""Compression formats of a backup blob: zstd (default, multi-threaded) and gzip (seed 001).

Both formats carry their own integrity check (zstd frame checksum, gzip CRC32 + length),
so even a blob without our sha256 metadata (an old seed-001 ``.sql.gz``) is verified
end to end while it is decompressed.
"""

from __future__ import annotations

import enum
import zlib
from typing import Protocol

import zstandard


class BackupFormat(enum.StrEnum):
    ZSTD = "zstd"
    GZIP = "gzip"

    @property
    def extension(self) -> str:
        return {"zstd": "zst", "gzip": "gz"}[self.value]

    @classmethod
    def from_blob_name(cls, name: str) -> BackupFormat:
        if name.endswith(".sql.zst"):
            return cls.ZSTD
        if name.endswith(".sql.gz"):
            return cls.GZIP
        raise ValueError(f"{name}: not a backup name (expected .sql.zst or .sql.gz)")


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class Decompressor(Protocol):
    def decompress(self, data: bytes | memoryview) -> bytes: ...
    @property
    def eof(self) -> bool: ...


class _ZstdCompressor:
    def __init__(self, level: int, threads: int) -> None:
        # threads>0 runs zstd's own worker threads, outside the GIL.
        params = zstandard.ZstdCompressor(level=level, threads=threads, write_checksum=True)
        self._obj = params.compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._obj.compress(data)

    def flush(self) -> bytes:
        return self._obj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)


class _ZstdDecompressor:
    def __init__(self) -> None:
        self._obj = zstandard.ZstdDecompressor().decompressobj()

    def decompress(self, data: bytes | memoryview) -> bytes:
        return self._obj.decompress(data)

    @property
    def eof(self) -> bool:
        return bool(self._obj.eof)


class _GzipCompressor:
    def __init__(self, level: int) -> None:
        self._obj = zlib.compressobj(level, zlib.DEFLATED, 31)

    def compress(self, data: bytes) -> bytes:
        return self._obj.compress(data)

    def flush(self) -> bytes:
        return self._obj.flush()


class _GzipDecompressor:
    def __init__(self) -> None:
        self._obj = zlib.decompressobj(31)

    def decompress(self, data: bytes | memoryview) -> bytes:
        return self._obj.decompress(data)

    @property
    def eof(self) -> bool:
        return bool(self._obj.eof)


DEFAULT_LEVEL = {BackupFormat.ZSTD: 1, BackupFormat.GZIP: 6}


def make_compressor(fmt: BackupFormat, level: int | None = None, threads: int = 2) -> Compressor:
    chosen = DEFAULT_LEVEL[fmt] if level is None else level
    if fmt is BackupFormat.ZSTD:
        return _ZstdCompressor(chosen, threads)
    return _GzipCompressor(chosen)


def make_decompressor(fmt: BackupFormat) -> Decompressor:
    if fmt is BackupFormat.ZSTD:
        return _ZstdDecompressor()
    return _GzipDecompressor()
