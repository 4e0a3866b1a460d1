"""Ctrl-C or SIGTERM in the middle of a sandbox drill: every server it started is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drctl.sandbox.azurite import azurite_available
from drctl.sandbox.mariadb import mariadb_available

from .conftest import require


def _children(pid: int) -> dict[int, str]:
    """All descendants of ``pid`` with their command lines (walks /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                try:
                    cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                found[child] = cmd.decode(errors="replace")
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping remains


@pytest.mark.mariadb
@pytest.mark.azurite
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_drill_leaves_no_process(tmp_path: Path, sig: signal.Signals) -> None:
    require(mariadb_available(), "MariaDB")
    require(azurite_available(), "Azurite")
    drill = subprocess.Popen(
        [sys.executable, "-c", "from drctl.cli import main; main()", "drill", "--sandbox",
         "--scenario", "app-failure", "--report-dir", str(tmp_path / "reports")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # like a terminal job: only drctl gets the signal
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        seen: dict[int, str] = {}
        while time.monotonic() < deadline:
            seen.update(_children(drill.pid))
            commands = " ".join(seen.values())
            if "mariadbd" in commands and "app.server" in commands and "azurite" in commands:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"the sandbox never came up: {sorted(seen.values())}")
        time.sleep(0.3)
        seen.update(_children(drill.pid))
        drill.send_signal(sig)
        drill.wait(timeout=60)
    finally:
        if drill.poll() is None:
            drill.kill()
            drill.wait()
    assert drill.returncode != 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in seen):
        time.sleep(0.1)
    survivors = {pid: cmd for pid, cmd in seen.items() if _alive(pid)}
    for pid in survivors:  # never leave them to the next test, even when failing
        os.kill(pid, signal.SIGKILL)
    assert survivors == {}
    assert len(seen) >= 5  # moto, azurite, two mariadbd, two apps (+ wrappers)
