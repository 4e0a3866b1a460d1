"""`drctl report`: the seed 000 §9 report from a failover/drill timeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from drctl import command_support as support
from drctl.report import Objectives, timing_rows, write_report
from drctl.timeline import Timeline


def _load(path: Path) -> tuple[Timeline, dict[str, Any]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        support.fail(f"--timeline file {path} does not exist")
    except json.JSONDecodeError as exc:
        support.fail(f"--timeline file {path} is not valid JSON: {exc}")
    if not isinstance(raw, dict) or not ("events" in raw or "timeline" in raw):
        support.fail(f"--timeline file {path} has no 'events' (a timeline or a run-state file)")
    return Timeline.from_dict(raw), raw.get("data", {})


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        timeline_file: Annotated[
            Path, typer.Option("--timeline", help="Timeline JSON, or a .drctl/runs state file.")
        ],
        out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("reports"),
        rto_minutes: Annotated[float | None, typer.Option(help="RTO objective.")] = None,
        rpo_seconds: Annotated[float | None, typer.Option(help="RPO objective.")] = None,
        measured_rpo: Annotated[
            float | None,
            typer.Option(help="Measured RPO in seconds (default: lag at promotion)."),
        ] = None,
        outputs: Annotated[
            Path | None, typer.Option("--outputs", help=support.OUTPUTS_HELP)
        ] = None,
        stack: Annotated[str, typer.Option(help="Stack whose objectives apply.")] = "tokyo",
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Write the DR test report (Markdown + PNG timeline chart)."""
        support.check_writable_dir(out, "--out")
        timeline, run_data = _load(timeline_file)
        declared: dict[str, Any] = {}
        if outputs is not None:
            declared = (
                support.read_outputs(outputs, [stack], "report", {stack: "dr"}).optional(
                    stack, "objectives", {}
                )
                or {}
            )
        objectives = Objectives(
            rto_minutes=float(rto_minutes or declared.get("rto_minutes", 30)),
            rpo_seconds=float(
                rpo_seconds if rpo_seconds is not None else declared.get("rpo_seconds", 5)
            ),
        )
        if measured_rpo is None and run_data.get("lag_at_promotion_seconds") is not None:
            # Without a drill's write probe, the replica lag at promotion is the best
            # estimate of the data that did not make it.
            measured_rpo = float(run_data["lag_at_promotion_seconds"])
        md_path, png_path = write_report(timeline, objectives, measured_rpo, out)
        rows = [{"item": r.label.strip("*"), "seconds": r.seconds} for r in timing_rows(timeline)]
        if as_json:
            support.print_json({"markdown": str(md_path), "chart": str(png_path), "rows": rows})
        else:
            print(md_path.read_text(encoding="utf-8"))
            print(f"written: {md_path} and {png_path}")
