"""The runbook contract's last line of defence: one line for every failure, never a traceback.

Commands refuse what they can foresee themselves (``support.fail``). Whatever escapes a
command (a tool that is not installed, a file that is not YAML, a port in use, an
endpoint that refuses, a path that cannot be written) reaches ``guarded`` in the entry
point, which prints one line naming the problem and exits with the documented code:

    0 done · 1 failed (a tool, an endpoint, the host) · 2 bad input (a flag, a file)
    3 refused · 4 gave up (an endpoint did not answer in time) · 130 interrupted

``DRCTL_TRACEBACK=1`` re-raises instead, for a developer who wants the stack.

Only the standard library is imported at module level: ``python -m drctl.pilotlight``
(the small backup host) uses this too.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_GAVE_UP = 4
EXIT_INTERRUPTED = 130

# A line of a tool's stderr that carries a cause (MariaDB, Docker, Pulumi, promtool).
_CAUSE = re.compile(
    r"error|fatal|denied|refused|failed|cannot|can't|unable|not found|invalid", re.I
)
_MAX_LINE = 300


def tool_stderr(text: str | bytes | None, keep: int = 3) -> str:
    """The lines of a tool's stderr that carry its cause, in one line.

    The last line always (where Docker, Pulumi and the MariaDB clients put the cause),
    plus up to ``keep`` earlier lines that name an error, in their order, joined by
    `` | ``. Long lines keep both ends.
    """
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return "(nothing on stderr)"
    causes = [i for i, line in enumerate(lines[:-1]) if _CAUSE.search(line)][-keep:]
    return " | ".join(_shorten(lines[i]) for i in [*causes, len(lines) - 1])


def _shorten(line: str) -> str:
    if len(line) <= _MAX_LINE:
        return line
    half = _MAX_LINE // 2
    return f"{line[:half]} … {line[-half:]}"


def tool_failed(tool: str, returncode: int, stderr: str | bytes | None) -> str:
    return f"{tool} failed (exit {returncode}): {tool_stderr(stderr)}"


def conflicting(flags: Mapping[str, Any], why: str = "") -> str | None:
    """The one-line refusal when more than one of ``flags`` (name -> value) is given."""
    given = [name for name, value in flags.items() if value not in (None, False, [], ())]
    if len(given) < 2:
        return None
    names = " and ".join(given)
    return f"{names} cannot be used together" + (f": {why}" if why else "")


# --- describing an exception ---------------------------------------------------------


def describe(exc: BaseException) -> tuple[int, str]:
    """(exit code, one line naming the problem) for an exception no command handled."""
    for kinds, explain in _EXPLAINERS:
        if isinstance(exc, kinds):
            found = explain(exc)
            if found is not None:
                return found
    return _by_module(exc) or (EXIT_FAILED, f"{type(exc).__name__}: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _os_error(exc: BaseException) -> tuple[int, str] | None:
    assert isinstance(exc, OSError)
    name = exc.filename
    reason = exc.strerror or _one_line(exc)
    if exc.errno == errno.EADDRINUSE:
        return EXIT_USAGE, f"address already in use: {reason} (choose another --port)"
    if exc.errno == errno.EPIPE:
        return EXIT_FAILED, "the output was closed (broken pipe)"
    if name is None:
        return None
    if exc.errno in (errno.ENOENT, errno.EACCES) and _is_program(str(name)):
        return EXIT_FAILED, (
            f"{name} is not installed or not executable (not on PATH={os.environ.get('PATH', '')})"
        )
    return EXIT_USAGE, f"{name}: {reason}"


def _is_program(name: str) -> bool:
    """A bare program name (what subprocess reports when exec fails), not a path."""
    return "/" not in name and not os.path.exists(name)


def _json_error(exc: BaseException) -> tuple[int, str]:
    assert isinstance(exc, json.JSONDecodeError)
    return EXIT_USAGE, (
        f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
        "(a truncated or hand-edited file?)"
    )


def _called_process(exc: BaseException) -> tuple[int, str]:
    assert isinstance(exc, subprocess.CalledProcessError)
    tool = os.path.basename(str(exc.cmd[0] if isinstance(exc.cmd, list | tuple) else exc.cmd))
    return EXIT_FAILED, tool_failed(tool, exc.returncode, exc.stderr)


def _timeout_expired(exc: BaseException) -> tuple[int, str]:
    assert isinstance(exc, subprocess.TimeoutExpired)
    cmd = exc.cmd[0] if isinstance(exc.cmd, list | tuple) else exc.cmd
    return EXIT_GAVE_UP, f"{os.path.basename(str(cmd))} did not finish within {exc.timeout:g}s"


def _unicode(exc: BaseException) -> tuple[int, str]:
    assert isinstance(exc, UnicodeDecodeError)
    return EXIT_USAGE, f"an input is not UTF-8 text: {exc.reason} at byte {exc.start}"


_EXPLAINERS: tuple[
    tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[..., Any]], ...
] = (
    (json.JSONDecodeError, _json_error),
    (UnicodeDecodeError, _unicode),
    (subprocess.CalledProcessError, _called_process),
    (subprocess.TimeoutExpired, _timeout_expired),
    (OSError, _os_error),
)


def _by_module(exc: BaseException) -> tuple[int, str] | None:
    """Errors of libraries imported lazily (PyYAML, botocore): recognised by module, so
    this module never imports them itself."""
    module = type(exc).__module__ or ""
    if module.startswith("yaml"):
        return EXIT_USAGE, _yaml_line(exc)
    if module.startswith("botocore") or module.startswith("urllib3"):
        return _remote_line(exc)
    if module.startswith("drctl.deadline") and type(exc).__name__ == "GaveUp":
        return EXIT_GAVE_UP, f"gave up: {_one_line(exc)}"
    return None


def _yaml_line(exc: BaseException) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or _one_line(exc)
    if mark is None:
        return f"not valid YAML: {problem}"
    where = "" if str(mark.name).startswith("<") else f"{mark.name}: "
    return f"{where}not valid YAML: {problem} at line {mark.line + 1} column {mark.column + 1}"


def _remote_line(exc: BaseException) -> tuple[int, str]:
    name = type(exc).__name__
    if "Timeout" in name:
        return EXIT_GAVE_UP, f"gave up: {_one_line(exc)}"
    if name == "ClientError":
        error = getattr(exc, "response", {}).get("Error", {})
        operation = getattr(exc, "operation_name", "?")
        return EXIT_FAILED, f"AWS refused {operation}: {error.get('Code')}: {error.get('Message')}"
    return EXIT_FAILED, f"cannot reach the endpoint: {_one_line(exc)}"


# --- the entry point's guard ---------------------------------------------------------


def say(line: str) -> None:
    """One line on stderr, however long (no wrapping, no markup)."""
    sys.stderr.write(f"error: {' '.join(line.split())}\n")
    sys.stderr.flush()


def guarded(app: Callable[[], Any], command_names: Iterable[str] = ()) -> NoReturn:
    """Run a Typer app; whatever escapes it becomes one line and a documented exit code."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        say(f"{_command(command_names)}interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        if os.environ.get("DRCTL_TRACEBACK"):
            raise
        code, line = describe(exc)
        say(f"{_command(command_names)}{line}")
        raise SystemExit(code) from None
    raise SystemExit(0)


def _command(names: Iterable[str]) -> str:
    known = set(names)
    given = next((arg for arg in sys.argv[1:] if arg in known), None)
    return f"drctl {given}: " if given else ""
