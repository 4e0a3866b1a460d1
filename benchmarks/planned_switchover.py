"""Planned switchover benchmark: lost writes and RTO (fence-to-first-write) over N runs.

    python -m benchmarks.planned_switchover [--runs 10]

Each run is the drill's ``planned-switchover`` scenario on a fresh MariaDB pair under
the drill's write load. Writes ``benchmarks/planned_switchover.md`` (median and worst
RTO, lost writes per run, the machine and the date), a section file that
``benchmarks/results.md`` includes: ``make bench`` regenerates results.md without
erasing it. The goal: 0 acknowledged writes lost in every run.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.planned_scenario import planned_switchover
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenarios import ScenarioSettings

ROOT = Path(__file__).resolve().parent
MIN_RUNS = 10


def run(runs: int, workdir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with ProcessSupervisor(workdir / "logs") as supervisor:
        env = SandboxEnvironment(workdir, supervisor)
        env.start_shared(with_azurite=False)
        try:
            for number in range(1, runs + 1):
                settings = ScenarioSettings(
                    state_dir=workdir / "runs",
                    outputs_path=workdir / "outputs.json",
                    run=number,
                    say=lambda _line: None,
                )
                try:
                    result = planned_switchover(env, settings)
                finally:
                    env.teardown_regions()
                    env.reset_routing()
                rows.append(result.as_dict())
                print(f"run {number}: RTO {result.rto_seconds}s, lost {rows[-1]['lost_writes']}")
        finally:
            env.stop()
    return rows


def summary(rows: list[dict[str, Any]], machine: dict[str, str] | None = None) -> str:
    rtos = [r["rto_seconds"] for r in rows if r["rto_seconds"] is not None]
    lost = [r["lost_writes"] for r in rows]
    command = shlex.join(["python", "-m", "benchmarks.planned_switchover", *sys.argv[1:]])
    lines = [
        f"## Planned switchover ({len(rows)} runs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Measured with `{command}` (sandbox MariaDB pair, drill write load).",
        "",
        *(
            ["Machine: " + "; ".join(f"{k}: {v}" for k, v in machine.items()), ""]
            if machine
            else []
        ),
        f"- RTO (fence → first write on Tokyo): median {statistics.median(rtos):.3f}s, "
        f"worst {max(rtos):.3f}s"
        if rtos
        else "- RTO: no run completed",
        f"- lost acknowledged writes: total {sum(x or 0 for x in lost)}, "
        f"worst run {max((x or 0 for x in lost), default=0)}",
        f"- runs without a completed switchover: {len(rows) - len(rtos)}",
        "",
        "| run | RTO (s) | acknowledged | lost |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['run']} | {r['rto_seconds']} | {r['acknowledged_writes']} | {r['lost_writes']} |"
        for r in rows
    ]
    lines += [
        "",
        "RTO here is the sandbox's: MariaDB fences (read_only) and promotes in milliseconds "
        "on loopback. On AWS the planned path adds the parameter-group apply, one or more "
        "1-minute ReplicaLag periods after the fence, the RDS promotion and DNS (the budget "
        "model's planned terms); Aurora's SwitchoverGlobalCluster is not measured here.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=MIN_RUNS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drstack-planned-") as tmp:
        rows = run(max(1, args.runs), Path(tmp))
    from benchmarks.run import machine_info

    text = summary(rows, machine_info())
    (ROOT / "planned_switchover.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
