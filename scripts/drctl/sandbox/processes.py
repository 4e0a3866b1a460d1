"""Child processes that can never outlive the sandbox.

Every server runs in its own process group (``start_new_session``) so that stopping it
also stops whatever it forked (node's workers, a shell wrapper). Each supervisor is
registered for ``atexit`` and, when created on the main thread, SIGINT/SIGTERM
handlers stop every child before the interpreter unwinds.

If drctl itself is SIGKILLed none of that runs, so two kernel mechanisms remain:

* children started from the main thread get ``PR_SET_PDEATHSIG`` (the kernel kills
  them when drctl dies; it binds to the forking *thread*, so not from worker threads);
* every child's process group is registered with the reaper: a tiny process in its own
  session that holds the read end of a pipe only drctl can write. When drctl dies the
  pipe reads EOF and the reaper SIGKILLs every group still registered, which catches
  children started from worker threads (the monitoring watcher's exporters) and
  whatever the children forked themselves.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

_PR_SET_PDEATHSIG = 1
# The reaper: reads "+PGID"/"-PGID" lines; at EOF (drctl gone) kills what is left.
_REAPER_CODE = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    line = line.strip()
    if line[:1] == "+":
        groups.add(int(line[1:]))
    elif line[:1] == "-":
        groups.discard(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""
_live_supervisors: set[ProcessSupervisor] = set()
_registry_lock = threading.RLock()  # re-entered by a signal handler
_handlers_installed = False


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path | None
    argv: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class ProcessSupervisor:
    """Starts, kills and finally reaps every child of one sandbox."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._children: list[ManagedProcess] = []
        self._lock = threading.RLock()  # a signal handler may interrupt a holder
        with _registry_lock:
            _live_supervisors.add(self)
        _install_handlers_once()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ManagedProcess:
        log_path = self.log_dir / f"{name}.log"
        on_main_thread = threading.current_thread() is threading.main_thread()
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
                # PDEATHSIG fires when the *thread* that forked exits, so only the main
                # thread (which lives as long as drctl) may ask for it.
                preexec_fn=_die_with_parent if on_main_thread else None,
            )
        child = ManagedProcess(name=name, popen=popen, log_path=log_path, argv=list(argv))
        _reaper.watch(popen.pid)
        with self._lock:
            self._children.append(child)
        return child

    def children(self) -> list[ManagedProcess]:
        with self._lock:
            return list(self._children)

    def kill(self, child: ManagedProcess) -> None:
        """Crash injection: SIGKILL the whole group, no chance to flush anything."""
        _signal_group(child, signal.SIGKILL)
        _reap(child, timeout=5)

    def stop(self, child: ManagedProcess, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM), escalated to SIGKILL after ``timeout`` seconds."""
        if child.alive():
            _signal_group(child, signal.SIGTERM)
            if not _reap(child, timeout=timeout):
                _signal_group(child, signal.SIGKILL)
                _reap(child, timeout=5)
        else:
            # The leader may be gone while group members it forked are not.
            _signal_group(child, signal.SIGKILL)
        _reaper.forget(child.pid)
        with self._lock:
            if child in self._children:
                self._children.remove(child)

    def stop_all(self, timeout: float = 10.0) -> None:
        for child in reversed(self.children()):
            with contextlib.suppress(Exception):
                self.stop(child, timeout=timeout)
        with _registry_lock:
            _live_supervisors.discard(self)

    def __enter__(self) -> ProcessSupervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


class _Reaper:
    """The process that kills registered process groups once drctl is gone (see above)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipe: int | None = None
        self._process: subprocess.Popen[bytes] | None = None  # held: never collected

    def watch(self, group: int) -> None:
        self._send(f"+{group}\n")

    def forget(self, group: int) -> None:
        self._send(f"-{group}\n")

    def _send(self, line: str) -> None:
        with self._lock, contextlib.suppress(OSError):
            if self._pipe is None:
                self._pipe = self._start()
            os.write(self._pipe, line.encode())

    def _start(self) -> int:
        # os.pipe() is close-on-exec: no child inherits the write end, so only drctl's
        # death (or exit) closes it.
        read_end, write_end = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _REAPER_CODE],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # no terminal signal reaches it, nor a group kill
            )
        finally:
            os.close(read_end)
        return write_end


_reaper = _Reaper()


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _signal_group(child: ManagedProcess, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def _reap(child: ManagedProcess, timeout: float) -> bool:
    try:
        child.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    # Give group members (not our direct children) a moment to go too.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(child.pid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        time.sleep(0.02)
    return False


def stop_every_supervisor() -> None:
    with _registry_lock:
        supervisors = list(_live_supervisors)
    for supervisor in supervisors:
        supervisor.stop_all(timeout=5)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    stop_every_supervisor()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _install_handlers_once() -> None:
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(stop_every_supervisor)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous: Any = signal.getsignal(sig)
        # Leave a handler someone installed on purpose (e.g. pytest's) alone for SIGINT;
        # KeyboardInterrupt unwinds through our context managers anyway.
        if sig == signal.SIGINT and previous not in (signal.default_int_handler, signal.SIG_DFL):
            continue
        if sig == signal.SIGTERM and previous not in (signal.SIG_DFL, None):
            continue
        signal.signal(sig, _on_signal)


class SupervisedServer:
    """alive/kill/stop for one server a ProcessSupervisor runs.

    Mixed into the server dataclasses, which declare ``supervisor`` and ``process``;
    ``stop_timeout`` is how long a clean shutdown may take before SIGKILL.
    """

    supervisor: ProcessSupervisor
    process: ManagedProcess | None
    stop_timeout: float = 5.0

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def kill(self) -> None:
        if self.process is not None:
            self.supervisor.kill(self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.supervisor.stop(self.process, timeout=self.stop_timeout)
