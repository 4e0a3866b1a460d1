"""azure-storage-blob's sync client, imported without the async transport it never uses.

``azure.storage.blob`` tries ``from azure.core.pipeline.transport import AioHttpTransport``
at import time, which imports aiohttp (with yarl, multidict and asyncio) whenever it is
installed: the kubernetes client installs it here. The backup, restore and archiver
processes only use the sync client over ``requests``, and aiohttp alone costs them
~7 MB of peak RSS (``python -m benchmarks.imports``). The SDK supports aiohttp being
absent (it sets ``AioHttpTransport = None`` and skips its aiohttp-only URL quoting), so
this module imports the SDK the way it loads when aiohttp is not installed. Every
drctl module takes the SDK's names from here, so whichever is imported first wins.

Only the first import of the SDK in a process is affected, and only if aiohttp is not
loaded yet; aiohttp itself stays importable afterwards. A process that also wants the
SDK's *async* clients (``azure.storage.blob.aio``) must import them before this module.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _unimportable(name: str) -> Iterator[None]:
    """``import name`` raises ImportError inside the block (a None entry in sys.modules
    is the import system's documented way to say so), unless it is already loaded."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]


with _unimportable("aiohttp"):
    from azure.storage.blob import (
        BlobBlock,
        BlobClient,
        BlobServiceClient,
        ContainerClient,
        ContentSettings,
        ExponentialRetry,
    )

__all__ = [
    "BlobBlock",
    "BlobClient",
    "BlobServiceClient",
    "ContainerClient",
    "ContentSettings",
    "ExponentialRetry",
]
