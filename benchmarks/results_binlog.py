"""results.md sections for the lean backup process and binlog archiving."""

from __future__ import annotations

from typing import Any


def _f(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def _verdict(ok: bool) -> str:
    return "✅ met" if ok else "❌ not met"


def imports_section(imports: dict[str, Any]) -> list[str]:
    lines = [
        "### Where the backup process's memory goes: imports",
        "",
        "VmHWM after each import stage, cumulative, in one fresh interpreter "
        "(`python -m benchmarks.imports`); the rest of a command's peak is data buffers.",
        "",
        "| stage | peak after it | added |",
        "|---|---|---|",
    ]
    for row in imports["stages"]:
        lines.append(f"| {row['stage']} | {row['peak_mb']:.1f} MB | +{row['added_mb']:.1f} MB |")
    saved = imports["sdk_alone_plain_mb"] - imports["sdk_alone_lean_mb"]
    return [
        *lines,
        "",
        f"`import azure.storage.blob` alone: {imports['sdk_alone_plain_mb']:.1f} MB the plain "
        f"way (loads aiohttp: {imports['plain_sdk_loads_aiohttp']}), "
        f"{imports['sdk_alone_lean_mb']:.1f} MB through `drctl.pilotlight.blob_sdk` "
        f"(−{saved:.1f} MB).",
        "",
    ]


def binlog_section(binlog: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if binlog.get("lag"):
        lines += _lag_lines(binlog["lag"])
    if binlog.get("replay"):
        lines += _replay_lines(binlog["replay"])
    if binlog.get("memory"):
        lines += _archiver_memory_lines(binlog["memory"])
    return lines


def _lag_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "### Archiver lag (commit acknowledged → segment listed in Blob)",
        "",
        "The drill's write load (sandbox app + `WriteLoad`) plus a marker row committed every "
        "0.2 s; a poller lists the archive every 50 ms and finds each marker in the new "
        "segment. `drctl binlog-archive` runs as its own process against Azurite.",
        "",
        "| flush interval | load (writes/s) | markers | median | p95 | worst | "
        "goal: worst ≤ flush + 1 s | archiver peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        worst = run["lag_worst_s"]
        ok = worst is not None and worst <= run["flush_seconds"] + 1.0 and not run["marks_missing"]
        missing = f" ({run['marks_missing']} never seen)" if run["marks_missing"] else ""
        lines.append(
            f"| {run['flush_seconds']:g} s | {run['load_writes_per_second']:.0f} | "
            f"{run['marks']}{missing} | {_f(run['lag_median_s'])} s | {_f(run['lag_p95_s'])} s | "
            f"{_f(worst)} s | {_verdict(ok)} | {run['archiver_peak_rss_mb']:.0f} MB |"
        )
    return [
        *lines,
        "",
        "The goal is the budget model's: RPO = flush interval + one segment's upload; "
        "1 s is our allowance for the upload, the 0.2 s spool poll and the 50 ms listing "
        "poll. Real Azure adds its own upload latency (tens of ms per small Put Blob).",
        "",
    ]


def _replay_lines(replay: dict[str, Any]) -> list[str]:
    size = replay["segment_bytes"] / 1e6
    stage = size / replay["stage_seconds"]
    raw = size / replay["raw_seconds"]
    equal = ", ".join(f"{k}: {v}" for k, v in replay["results_equal"].items())
    return [
        "### Binlog replay throughput",
        "",
        f"{replay['rows']:,} rows written after a dump, in 10,000-row transactions: "
        f"{size:.0f} MB of binlog in {replay['segments']} segments, replayed into a second "
        'MariaDB (the "Azure" target).',
        "",
        "| pipeline | seconds | binlog MB/s | vs direct |",
        "|---|---|---|---|",
        f"| `mariadb-binlog --start-position … \\| grep -v <GTID lines> \\| mariadb` on the "
        f"datadir's files | {replay['raw_seconds']:.1f} | {raw:.1f} | 1.00× |",
        f"| **drctl's replay stage** (download, sha256 per segment, `mariadb-binlog`, GTID "
        f"filter, `mariadb`) | {replay['stage_seconds']:.1f} | {stage:.1f} | "
        f"{stage / raw:.2f}× |",
        f"| whole `drctl restore --to-latest --no-verify` (plan, dump restore, replay) | "
        f"{replay['cli_seconds']:.1f} | — | — |",
        "",
        f"- restored table equal to the source ({equal})",
        f"- `drctl restore --to-latest` peak RSS: {replay['cli_peak_rss_mb']:.0f} MB",
        "",
    ]


def _archiver_memory_lines(points: list[dict[str, Any]]) -> list[str]:
    lines = [
        "### Archiver peak memory as the binlog grows",
        "",
        "| binlog archived | archiver peak RSS (VmHWM) | catch-up after the writes (flush 5 s) |",
        "|---|---|---|",
    ]
    for point in points:
        lines.append(
            f"| {point['binlog_gb']:.2f} GB | {point['peak_rss_mb']:.0f} MB | "
            f"{point['catch_up_seconds']:.0f} s |"
        )
    peaks = [p["peak_rss_mb"] for p in points]
    return [
        *lines,
        "",
        f"- goal < 100 MB: worst {max(peaks):.0f} MB — {_verdict(max(peaks) < 100)}",
        f"- flat as the binlog grows: {peaks[-1] - peaks[0]:+.0f} MB — "
        f"{_verdict(abs(peaks[-1] - peaks[0]) < 10)} (flat = within 10 MB)",
        "",
    ]


def pilot_losses(drill: dict[str, Any]) -> list[str]:
    """Per-run lost writes of the two pilot-light variants, and the archive's goal."""
    runs = [r for r in drill["runs"] if r["scenario"].startswith("pilot-light")]
    if not runs:
        return []
    lines = [
        "### Pilot light: lost acknowledged writes per run",
        "",
        "| scenario | run | lost writes | goal (≤ one flush interval of writes) | "
        "write rate | restore RPO (binlog) |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        goal = run.get("lost_writes_goal")
        lost = run.get("lost_writes")
        verdict = "" if goal is None or lost is None else f" {_verdict(lost <= goal)}"
        lines.append(
            f"| {run['scenario']} | {run['run']} | {_f(lost, 'g')} | "
            f"{_f(goal, 'g')}{verdict} | {_f(run.get('write_rate_per_second'), 'g')}/s | "
            f"{_f(run.get('binlog_restore_rpo_seconds'))} s |"
        )
    lines += [
        "",
        "Restore RPO (binlog) is what `drctl restore` reports: the failure time minus the "
        "last replayed event's binlog timestamp, which the server writes in whole seconds, "
        "so it overstates the loss by up to 1 s. The lost-writes column is exact.",
    ]
    return [*lines, ""]
