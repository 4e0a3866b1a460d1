"""Helpers shared by the drctl command modules: outputs loading, consoles, clients."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from drctl import deadline
from drctl.aws import ClientFactory
from drctl.stack_outputs import OutputsError, StackOutputs, load_outputs

OUTPUTS_HELP = (
    'Stack outputs JSON: {"seoul": {...}, "tokyo": {...}} as printed by '
    "`pulumi stack output --json -s NAME`. Without it drctl asks the Pulumi CLI."
)


# Overall --timeout defaults. status: a health check an operator waits for. failover:
# the RTO objective (objectives.rto_minutes) when the outputs declare one, else this.
# failback is not under the RTO clock, but reverse sync and promotion take their time.
STATUS_TIMEOUT_SECONDS = 60.0
FAILOVER_TIMEOUT_SECONDS = 1800.0
FAILBACK_TIMEOUT_SECONDS = 3600.0
# failover/failback preflight: reads only, so with the DR region's API unreachable it
# gives up after this, naming the endpoint, instead of spending the RTO budget on
# retries. An attempt already in flight may still take its read timeout (aws.py, 20 s):
# 40 + 20 keeps the worst case within a minute.
PREFLIGHT_TIMEOUT_SECONDS = 40.0
PREFLIGHT = "preflight"


@contextmanager
def time_limit(seconds: float) -> Iterator[deadline.Deadline]:
    """Every remote call inside the block gives up once ``seconds`` have passed."""
    if not seconds > 0:
        fail(f"--timeout must be a positive number of seconds, got {seconds:g}")
    with deadline.limit(seconds) as limit:
        yield limit


def restart_time_limit(seconds: float, preflight: float | None = None) -> deadline.Deadline:
    """Start the active limit's clock again, e.g. once the operator has confirmed;
    ``preflight`` bounds the step of that name on its own (--preflight-timeout)."""
    if not seconds > 0:
        fail(f"--timeout must be a positive number of seconds, got {seconds:g}")
    if preflight is not None and not preflight > 0:
        fail(f"--preflight-timeout must be a positive number of seconds, got {preflight:g}")
    active = deadline.active()
    if active is None:
        raise RuntimeError("restart_time_limit() outside time_limit()")
    active.restart(seconds)
    if preflight is not None:
        active.budgets[PREFLIGHT] = (preflight, "--preflight-timeout")
    return active


def say_gave_up(command: str, limit: deadline.Deadline, changed: str = "") -> None:
    """The one line an operator reads when a command stopped waiting for an endpoint."""
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]{command} gave up:[/] {limit.gave_up_on} did not answer "
        f"({limit.flag} {limit.seconds:g}s); {changed or 'nothing was changed'}",
        highlight=False,
    )


def make_client_factory() -> ClientFactory:
    """The clients every command uses; tests replace this to observe or forbid calls."""
    return ClientFactory()


def consoles(as_json: bool) -> tuple[Console, Console]:
    """(result console, progress console): with --json, progress goes to stderr so
    stdout stays one parseable JSON document."""
    out = Console(soft_wrap=True)
    progress = Console(stderr=True, soft_wrap=True) if as_json else out
    return out, progress


def read_outputs(
    path: Path | None, stacks: list[str], command: str = "", roles: dict[str, str] | None = None
) -> StackOutputs:
    """Load the outputs; with ``command`` and ``roles`` (stack -> "primary"/"dr") also
    validate the whole file first, so nothing runs on a malformed value."""
    try:
        outputs = load_outputs(path, stacks)
        if command:
            from drctl.outputs_schema import validate_outputs

            validate_outputs(outputs, command, roles or {})
        return outputs
    except OutputsError as exc:
        fail(str(exc))


def check_writable_file(path: Path, flag: str) -> None:
    """Refuse, before any work, an output file that cannot be written: one line."""
    _refuse_file_in_the_way(path.parent, flag, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with open(path, "ab"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        fail(f"{flag} {path}: cannot be written: {exc.strerror or exc}")


def check_writable_dir(path: Path, flag: str) -> None:
    """Refuse, before any work, an output directory that cannot be created or written."""
    _refuse_file_in_the_way(path, flag, path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".drctl-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        fail(f"{flag} {path}: cannot be written: {exc.strerror or exc}")


def _refuse_file_in_the_way(directory: Path, flag: str, given: Path) -> None:
    """mkdir's own error for a file where a directory must be ("File exists") misleads."""
    for ancestor in (directory, *directory.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                fail(f"{flag} {given}: cannot be written: {ancestor} is a file, not a directory")
            return


def fail(message: str, code: int = 2) -> NoReturn:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
