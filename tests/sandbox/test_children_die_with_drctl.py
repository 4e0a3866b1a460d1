"""A SIGKILLed drctl leaves no process it started.

A small program starts servers through the sandbox's ProcessSupervisor the three ways
the drill does: from the main thread, from a worker thread (the monitoring watcher
starts mysqld_exporter from one) and as a process that forks children of its own (a
shell wrapper, node's workers). It is then SIGKILLed, so no handler and no atexit runs;
every one of those processes must be gone within seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STARTS_SERVERS = """
import sys, threading, time
from pathlib import Path
from drctl.sandbox.processes import ProcessSupervisor

supervisor = ProcessSupervisor(Path(sys.argv[1]))
main = supervisor.start("main-thread", ["sleep", "300"])
started = []
worker = threading.Thread(target=lambda: started.append(supervisor.start("worker", ["sleep", "301"])))
worker.start()
worker.join()
forks = supervisor.start("forks", ["sh", "-c", "sleep 302 & sleep 303 & wait"])
print(main.pid, started[0].pid, forks.pid, flush=True)
time.sleep(300)
"""


def _group_members(groups: set[int]) -> dict[int, bytes]:
    """pid -> cmdline of every process in these process groups."""
    found: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) in groups:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
        except (OSError, ProcessLookupError):
            continue
    return found


def _alive(members: dict[int, bytes]) -> dict[int, bytes]:
    still: dict[int, bytes] = {}
    for pid, cmdline in members.items():
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == cmdline and not _zombie(pid):
                still[pid] = cmdline
        except OSError:
            continue
    return still


def _zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_every_child_dies_with_a_sigkilled_drctl(tmp_path: Path) -> None:
    program = subprocess.Popen(
        [sys.executable, "-c", STARTS_SERVERS, str(tmp_path / "logs")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert program.stdout is not None
        groups = {int(pid) for pid in program.stdout.readline().split()}
        assert len(groups) == 3
        time.sleep(0.5)  # the shell has forked its two sleeps
        members = _group_members(groups)
        assert len(members) >= 5, members  # 3 leaders + the shell's 2 sleeps
    finally:
        program.send_signal(signal.SIGKILL)
        program.wait()

    deadline = time.monotonic() + 10
    while _alive(members) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = _alive(members)
    for pid in survivors:  # clean up what the test found, then fail
        os.kill(pid, signal.SIGKILL)
    assert survivors == {}
