"""``drctl restore --to-time T | --to-latest``: the point-in-time path of ``drctl restore``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from drctl.binlog.pitr import PitrRefused, plan_pitr, run_pitr
from drctl.instants import utc_text
from drctl.pilotlight.cli_support import EXIT_FAILED, EXIT_REFUSED, _print_result, support


def restore_to_point(
    blobs: Any,
    target: Any,
    options: Any,  # RestoreOptions
    stop_at: datetime | None,
    *,
    accept_gap: bool,
    as_json: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    out, progress = support.consoles(as_json)
    # One instant, in UTC, from here on: the replay compares it with binlog timestamps
    # (UTC seconds) and hands it to the decoder as a UTC wall-clock time.
    stop_at = stop_at.astimezone(UTC) if stop_at is not None else None
    point = utc_text(stop_at) if stop_at is not None else "the latest archived event"
    progress.print(f"point in time: {point}", highlight=False)
    try:
        plan = plan_pitr(blobs, options.database, stop_at)
    except PitrRefused as exc:
        support.fail(f"restore refused: {exc}", EXIT_REFUSED)
    if dry_run:
        report = {"dry_run": True, "target": target.redacted(), **plan.summary()}
        _print_result(report, as_json, out, "point-in-time plan (dry run, target untouched)")
        return
    if plan.chain.problem and not accept_gap:
        support.fail(
            f"restore refused: {plan.chain.problem}; last consistent point "
            f"{plan.chain.last_point()} (--accept-gap restores to it); the target database "
            "was not changed",
            EXIT_REFUSED,
        )
    if not yes and not typer.confirm(
        f"Replace database {options.database!r} on {target.redacted()} with {plan.dump.name} "
        f"+ binlog up to {point}?",
        default=False,
    ):
        support.fail("aborted by user", code=EXIT_FAILED)
    result = run_pitr(blobs, target, options, plan, accept_gap=accept_gap)
    data = {"point_in_time": point, **result.as_dict()}
    if not as_json:
        data.pop("restore")  # the dump part's table report; --json keeps it
        data.pop("plan")
    _print_result(data, as_json, out, f"restored {options.database} to {result.last_event_time}")
