"""Run one drctl command in this process and report its peak memory.

``python -m benchmarks.rss_probe OUT.json drctl|pilotlight args...`` runs the real CLI (Typer app,
same code path as a user) and then writes wall time plus peak RSS: of this Python
process and of the largest child it started (``mariadb-dump`` or the ``mariadb``
client), kept apart so neither hides the other.

Peaks come from ``VmHWM`` in ``/proc/<pid>/status``, not ``getrusage``: on Linux a
process's ``ru_maxrss`` starts from its parent's RSS at fork (the high-water mark is
carried across ``execve``), so a small ``mariadb-dump`` started by a 60 MB Python
process would report 60 MB. Children are sampled every 20 ms while they run.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

SAMPLE_SECONDS = 0.02


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """Peak resident set of one process image, from the kernel's own high-water mark."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


class ChildPeaks(threading.Thread):
    """Largest VmHWM seen among this process's direct children, by command name."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self.peak_name = ""
        self._done = threading.Event()

    def _children(self) -> list[int]:
        me, pids = os.getpid(), []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                pids.append(int(entry))
        return pids

    def run(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            for pid in self._children():
                peak = vm_hwm_mb(pid)
                if peak is not None and peak > self.peak_mb:
                    try:
                        name = Path(f"/proc/{pid}/comm").read_text().strip()
                    except OSError:
                        name = "?"
                    self.peak_mb, self.peak_name = peak, name

    def stop(self) -> None:
        self._done.set()
        self.join()


def main() -> None:
    out_path, entry, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if entry == "drctl":  # the `drctl` entry point, which loads only the command it runs
        from drctl.cli import app
    else:  # `python -m drctl.pilotlight`: what the backup host runs
        from drctl.pilotlight.__main__ import app
    import_rss = vm_hwm_mb() or 0.0
    children = ChildPeaks()
    children.start()
    started = time.monotonic()
    code = 0
    try:
        app(args, standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    seconds = time.monotonic() - started
    children.stop()
    out_path.write_text(
        json.dumps(
            {
                "exit_code": code,
                "seconds": seconds,
                "entry": entry,
                "import_rss_mb": import_rss,
                "self_max_rss_mb": vm_hwm_mb() or 0.0,
                "child_max_rss_mb": children.peak_mb,
                "child_name": children.peak_name,
            }
        )
    )
    sys.exit(code)


if __name__ == "__main__":
    main()
