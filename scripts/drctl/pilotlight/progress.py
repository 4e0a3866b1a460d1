"""Rich byte-progress bars for long streams, drawn on the progress console (stderr with --json)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)


@contextlib.contextmanager
def byte_progress(
    console: Console, description: str, total: int | None, *, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n_bytes)``; a no-op when disabled (quiet runs, the drill's loop)."""
    if not enabled:
        yield lambda _n: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total or None)
        yield lambda n: progress.advance(task, n)
