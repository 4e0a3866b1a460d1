"""Render the benchmark measurements as ``benchmarks/results.md`` (numbers, goals, verdicts)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MB = 1e6


def _rate(nbytes: float, seconds: float | None) -> float | None:
    return None if not seconds else nbytes / MB / seconds


def _f(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def _verdict(ok: bool) -> str:
    return "✅ met" if ok else "❌ not met"


def data_section(data: dict[str, Any]) -> list[str]:
    big, small = data["big"], data["small"]
    # The throughput baselines ran on one of the two datasets (--baselines-on).
    measured = big if "raw_dump_seconds" in big else small
    other = small if measured is big else big
    return [
        *_backup_lines(measured, other),
        *_restore_lines(measured),
        *_memory_lines(big, small),
    ]


def _backup_lines(big: dict[str, Any], small: dict[str, Any]) -> list[str]:
    size = big["dump_bytes"]
    ours = _rate(size, big["backup"]["seconds"]) or 0.0
    raw = _rate(size, big["raw_dump_seconds"]) or 0.0
    gzip = _rate(size, big["gzip_dump_seconds"]) or 0.0
    nosink = _rate(size, big.get("pipeline_no_upload_seconds")) or 0.0
    return [
        f"Dataset: generated `orders` table, {big['rows']:,} rows, dump {size / 1e9:.2f} GB "
        f"(blob {big['blob_bytes'] / 1e6:.0f} MB with zstd-1, ratio "
        f"{size / big['blob_bytes']:.2f}×). The other dataset (memory check only): "
        f"{small['rows']:,} rows, dump {small['dump_bytes'] / 1e9:.2f} GB.",
        "",
        "### Backup throughput (dump bytes per second)",
        "",
        "| pipeline | seconds | MB/s | vs raw dump |",
        "|---|---|---|---|",
        f"| raw `mariadb-dump {'--single-transaction --quick'} > /dev/null` (best of 2) | "
        f"{big['raw_dump_seconds']:.1f} | {raw:.0f} | 1.00× |",
        f"| `mariadb-dump … \\| gzip -6 > /dev/null` | {big['gzip_dump_seconds']:.1f} | "
        f"{gzip:.0f} | {gzip / raw:.2f}× |",
        f"| **`drctl backup`** (zstd-1, default threads, staged blocks to Azurite; best of 2) | "
        f"{big['backup']['seconds']:.1f} | {ours:.0f} | {ours / raw:.2f}× |",
        f"| drctl's dump → zstd → sha256 path, null sink instead of Azurite (best of 2) | "
        f"{big['pipeline_no_upload_seconds']:.1f} | {nosink:.0f} | {nosink / raw:.2f}× |",
        "",
        "The last row isolates the local Azurite: it is a node process on the same two cores, "
        "receiving and writing every block. Against real Azure the upload is network I/O "
        "on other machines; the pipeline row is the CPU-bound figure to compare.",
        "",
        f"- goal ≥ 0.6× raw dump: {ours / raw:.2f}× — {_verdict(ours / raw >= 0.6)}",
        f"- goal ≥ 4× the gzip-6 pipeline: {ours / gzip:.1f}× — {_verdict(ours / gzip >= 4)}",
        f"- without the local Azurite: {nosink / raw:.2f}× raw, {nosink / gzip:.1f}× gzip-6",
        "",
    ]


def _restore_lines(big: dict[str, Any]) -> list[str]:
    size = big["dump_bytes"]
    pairs = big.get("restore_pairs") or [
        {"raw_seconds": big["raw_restore_seconds"], "drctl_seconds": big["restore"]["seconds"]}
    ]
    ratios = sorted(p["raw_seconds"] / p["drctl_seconds"] for p in pairs)
    lines = [
        "### Restore throughput",
        "",
        "Raw and drctl restores alternate (raw, drctl, local, raw, drctl, local), each into "
        "an empty database; a ratio is raw seconds / drctl seconds. The last column feeds "
        "the same restore stream from a local copy of the blob: the local Azurite is a node "
        "process on the same two cores serving every byte, which real Azure is not.",
        "",
        "| pair | raw `mariadb db < dump.sql` | **`drctl restore --no-verify`** (download, "
        "sha256, zstd, DEFINER filter, staging db, RENAME) | ratio | same stream from a "
        "local copy of the blob (no Azurite) |",
        "|---|---|---|---|---|",
    ]
    for index, pair in enumerate(pairs, 1):
        local = pair.get("local_seconds")
        lines.append(
            f"| {index} | {pair['raw_seconds']:.1f} s = "
            f"{_f(_rate(size, pair['raw_seconds']))} MB/s | {pair['drctl_seconds']:.1f} s = "
            f"{_f(_rate(size, pair['drctl_seconds']))} MB/s | "
            f"{pair['raw_seconds'] / pair['drctl_seconds']:.2f}× | "
            + (f"{local:.1f} s = {pair['raw_seconds'] / local:.2f}× |" if local else "— |")
        )
    median = ratios[len(ratios) // 2] if len(ratios) % 2 else sum(ratios) / len(ratios)
    return [
        *lines,
        "",
        f"- goal ≥ 0.9× raw restore: median {median:.2f}×, worst {ratios[0]:.2f}× — "
        f"{_verdict(median >= 0.9)} (median)",
        *(
            [
                "- the same stream without the local Azurite: "
                + ", ".join(f"{p['raw_seconds'] / p['local_seconds']:.2f}×" for p in pairs)
            ]
            if all(p.get("local_seconds") for p in pairs)
            else []
        ),
        f"- verification afterwards (row counts + CHECKSUM TABLE, not in the time above): "
        f"{big['verify_seconds']:.1f} s; restored table equals the source: "
        f"{big['verify_matches']}",
        "",
    ]


def _memory_lines(big: dict[str, Any], small: dict[str, Any]) -> list[str]:
    rss_limit = 100.0
    lines = [
        "### Peak memory (RSS)",
        "",
        "| command | dataset | drctl process | largest child |",
        "|---|---|---|---|",
    ]
    peaks = []
    for label, run in (("small", small), ("big", big)):
        for command in ("backup", "restore"):
            m = run[command]
            peaks.append(m["self_max_rss_mb"])
            lines.append(
                f"| drctl {command} | {label} ({run['dump_bytes'] / 1e9:.2f} GB) | "
                f"{m['self_max_rss_mb']:.0f} MB | {m['child_max_rss_mb']:.0f} MB "
                f"({m.get('child_name') or '?'}) |"
            )
    growth = {
        cmd: big[cmd]["self_max_rss_mb"] - small[cmd]["self_max_rss_mb"]
        for cmd in ("backup", "restore")
    }
    full = big.get("backup_full_cli")
    if full:
        lines.append(
            f"| `drctl backup` via the `drctl` entry point | big | {full['self_max_rss_mb']:.0f} MB "
            f"(of which {full['import_rss_mb']:.0f} MB before the command loads) | "
            f"{full['child_max_rss_mb']:.0f} MB |"
        )
    imports = big["backup"]["import_rss_mb"]
    lines += [
        "",
        "Rows above use `python -m drctl.pilotlight` (backup/restore only, what the backup "
        f"host runs); its imports (azure-storage-blob, typer, rich, pymysql) take {imports:.0f} MB "
        "before any data moves.",
        "",
        f"- goal < {rss_limit:.0f} MB: worst drctl peak {max(peaks):.0f} MB — "
        f"{_verdict(max(peaks) < rss_limit)}",
        f"- flat as the data grows {big['dump_bytes'] / small['dump_bytes']:.1f}×: backup "
        f"{growth['backup']:+.0f} MB, restore {growth['restore']:+.0f} MB — "
        f"{_verdict(all(abs(g) < 10 for g in growth.values()))} (flat = within 10 MB)",
        "",
    ]
    return lines


def drill_section(drill: dict[str, Any]) -> list[str]:
    lines = [
        "### Sandbox drill: RTO / RPO distribution",
        "",
        "| scenario | runs | RTO median | RTO worst | lost writes median / worst | "
        "RPO median | RPO worst | objective RTO / RPO | budget model (prod) RTO / RPO |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in drill["summary"]:
        failed = f" ({row['failed_runs']} failed)" if row["failed_runs"] else ""
        lines.append(
            f"| {row['scenario']} ({row['stack']}) | {row['runs']}{failed} | "
            f"{_f(row['rto_median_s'], '.2f')} s | {_f(row['rto_worst_s'], '.2f')} s | "
            f"{_f(row['lost_writes_median'], 'g')} / {_f(row['lost_writes_worst'], 'g')} | "
            f"{_f(row['rpo_median_s'], '.2f')} s | {_f(row['rpo_worst_s'], '.2f')} s | "
            f"{row['rto_objective_s']:g} s / {row['rpo_objective_s']:g} s | "
            f"{_f(row['rto_predicted_s'], '.0f')} s / {_f(row['rpo_predicted_s'], '.0f')} s |"
        )
    lines += [
        "",
        "RTO: injected fault → first write acknowledged by the new primary. RPO: acknowledged "
        "writes missing afterwards, and the fault time minus the oldest lost write's "
        "acknowledgement. Sandbox figures leave out what the sandbox cannot emulate:",
        "",
        *[f"- {line}" for line in drill["not_covered"]],
        "",
    ]
    failures = [r for r in drill["runs"] if r.get("error")]
    if failures:
        lines += [
            "Failed runs:",
            *[f"- {r['scenario']} run {r['run']}: {r['error']}" for r in failures],
            "",
        ]
    return lines


def _stamp(section: dict[str, Any]) -> list[str]:
    return [f"Measured {section['measured_at']} with `{section['command']}`.", ""]


# Benchmarks run on their own (``python -m benchmarks.<name>``) write a section file next
# to results.md; every regeneration of results.md includes it instead of erasing it.
SECTION_FILES = ("planned_switchover.md", "budget_model.md")


def included_sections(directory: Path) -> list[str]:
    lines: list[str] = []
    for name in SECTION_FILES:
        section = directory / name
        if section.is_file():
            lines += [*section.read_text(encoding="utf-8").rstrip("\n").splitlines(), ""]
    return lines


def write_results(path: Path, results: dict[str, Any]) -> None:
    from benchmarks.results_binlog import binlog_section, imports_section, pilot_losses

    runs = results.get("runs", [])
    lines = [
        "# drstack benchmarks — measured results",
        "",
        f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from these runs "
        "(`benchmarks/results.json` holds every number):",
        "",
        *[f"- {r['measured_at']}: `{r['command']}` ({r.get('minutes', '?')} min)" for r in runs],
        "",
    ]
    if runs:
        machine = runs[-1]["machine"]
        lines += ["Machine: " + "; ".join(f"{k}: {v}" for k, v in machine.items()), ""]
    lines += [
        "Other processes (test runs) shared the machine's two cores; every "
        "ratio compares with a baseline measured in the same run on the same server.",
        "",
    ]
    if "data" in results:
        lines += ["## Pilot-light backup and restore", "", *_stamp(results["data"])]
        lines += data_section(results["data"])
    if "data_memory" in results:
        lines += ["## Peak memory on a larger dataset", "", *_stamp(results["data_memory"])]
        lines += _memory_lines(results["data_memory"]["big"], results["data_memory"]["small"])
    if "imports" in results:
        lines += imports_section(results["imports"])
    if "binlog" in results:
        lines += ["## Binlog archiving", "", *_stamp(results["binlog"])]
        lines += binlog_section(results["binlog"])
    if "drill" in results:
        lines += ["## Sandbox drill", "", *_stamp(results["drill"])]
        lines += drill_section(results["drill"]) + pilot_losses(results["drill"])
    lines += included_sections(path.parent)
    path.write_text("\n".join(lines), encoding="utf-8")
