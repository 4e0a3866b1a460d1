"""Keep a streaming process's memory flat: tune glibc malloc before the worker threads start.

Two glibc defaults make a multi-threaded stream of multi-MiB buffers grow over time:
every thread gets its own malloc arena that keeps freed memory, and the mmap threshold
rises after the first large free, so later 1–4 MiB buffers land in those arenas and
fragment them. Fixing the threshold (large buffers always come from mmap and go back
to the kernel on free) and capping arenas keeps the peak independent of the data size.
"""

from __future__ import annotations

import contextlib
import ctypes

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def bound_malloc(mmap_threshold: int = 256 << 10, arenas: int = 2) -> None:
    """No-op where glibc is not the allocator (musl, macOS)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
        libc.mallopt(_M_ARENA_MAX, arenas)
