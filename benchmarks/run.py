"""drstack benchmarks: backup/restore throughput and memory, and the sandbox drill's RTO/RPO.

    python -m benchmarks.run [--size-gb 1.0] [--drill-runs 5]   (or: make bench)
    python -m benchmarks.run --skip-data --skip-drill --binlog       (archiver and replay only)
    python -m benchmarks.run --size-gb 4 --baselines-on small --skip-drill --merge
        (throughput at 1 GB, memory at 1 and 4 GB)

``--merge`` keeps the sections of ``benchmarks/results.json`` that this run does not
measure, so runs too long for one invocation still end in one results.md, each section
naming the command and date that measured it.

Every figure is compared with a baseline measured in the same run on the same server:
raw ``mariadb-dump > /dev/null``, ``mariadb-dump | gzip -6``, raw ``mariadb < dump.sql``.
Writes ``benchmarks/results.md``. Generated data lives in ``benchmarks/data/`` (git-ignored)
and is deleted at the end unless ``--keep-data``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.dataset import DATABASE, grow_to
from benchmarks.imports import import_costs
from benchmarks.results import write_results
from drctl.mysql_dsn import client_defaults_file
from drctl.pilotlight.verify import fingerprints
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.drill import DrillOptions, run_drill
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.processes import ProcessSupervisor

ROOT = Path(__file__).resolve().parent
DUMP_FLAGS = "--single-transaction --quick"


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def shell_seconds(command: str) -> float:
    started = time.monotonic()
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)
    return time.monotonic() - started


def drctl_probe(
    args: list[str],
    env: dict[str, str],
    workdir: Path,
    entry: str = "pilotlight",
    dsn: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run drctl in a fresh process; return its JSON output plus time and peak RSS.

    DSNs go through the environment (DRCTL_SOURCE_DSN / DRCTL_TARGET_DSN), as the README
    advises: a flag would put the password in `ps` and in this function's error message.
    """
    probe_file = workdir / "probe.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.rss_probe", str(probe_file), entry, *args, "--json"],
        env={**env, **(dsn or {})},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT.parent,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"drctl {' '.join(args)} failed: {completed.stderr[-800:]}")
    measured = json.loads(probe_file.read_text())
    measured["output"] = json.loads(completed.stdout)
    return measured


def pipeline_without_upload(server: MariaDBServer) -> float:
    """drctl's dump → zstd → sha256 path into a null sink: separates the cost of the local
    Azurite (a node process on the same cores) from the pipeline's own."""
    import hashlib

    from drctl.pilotlight.dump_stream import DumpStream
    from drctl.pilotlight.formats import BackupFormat, make_compressor

    started = time.monotonic()
    compressor = make_compressor(BackupFormat.ZSTD, 1, 2)
    digest = hashlib.sha256()
    with DumpStream(server.master_dsn(), DATABASE, record_position=True) as dump:
        for chunk in dump.chunks():
            digest.update(compressor.compress(chunk))
        digest.update(compressor.flush())
        dump.finish()
    return time.monotonic() - started


class _LocalBlob:
    """The newest backup's bytes from a local file, in the SDK's download shape."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get_blob_client(self, name: str) -> _LocalBlob:
        return self

    def download_blob(self, max_concurrency: int = 1) -> _LocalBlob:
        return self

    def chunks(self) -> Any:
        with self.path.open("rb") as handle:
            while chunk := handle.read(4 << 20):
                yield chunk


def restore_path_from_local_file(
    server: MariaDBServer, env: dict[str, str], workdir: Path
) -> float:
    """drctl's restore stream (sha256, zstd, DEFINER filter, mariadb client into a staging
    database) fed from a local copy of the blob: separates the local Azurite's share
    (a node process on the same two cores, serving every byte) from the pipeline's own."""
    from drctl.pilotlight.catalog import list_backups
    from drctl.pilotlight.restore import stream_into_staging
    from drctl.pilotlight.storage import CONNECTION_STRING_ENV, DEFAULT_CONTAINER, open_container

    container = open_container(env[CONNECTION_STRING_ENV], DEFAULT_CONTAINER)
    entry = list_backups(container)[0]
    local = workdir / "backup.sql.zst"
    with local.open("wb") as handle:
        for chunk in container.get_blob_client(entry.name).download_blob().chunks():
            handle.write(chunk)
    server.execute("DROP DATABASE IF EXISTS bench_local")
    started = time.monotonic()
    stream_into_staging(_LocalBlob(local), entry, server.master_dsn(), "bench_local")  # type: ignore[arg-type]
    seconds = time.monotonic() - started
    server.execute("DROP DATABASE IF EXISTS bench_local")
    local.unlink()
    return seconds


def machine_info() -> dict[str, str]:
    cpu = "?"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    version = subprocess.run(
        ["mariadb", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    import zstandard

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "mariadb": version,
        "python-zstandard": zstandard.__version__,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def measure_pilot_light(
    server: MariaDBServer, env: dict[str, str], workdir: Path, rows: int, *, baselines: bool
) -> dict[str, Any]:
    """Backup + restore at the table's current size (and the baselines, if asked)."""
    source = server.master_dsn(DATABASE).url()
    out: dict[str, Any] = {"rows": rows}
    source_env = {"DRCTL_SOURCE_DSN": source}
    backups = [drctl_probe(["backup"], env, workdir, dsn=source_env) for _ in range(2)]
    best = min(backups, key=lambda b: b["seconds"])
    out["backup"] = best
    out["dump_bytes"] = best["output"]["uncompressed_bytes"]
    out["blob_bytes"] = best["output"]["compressed_bytes"]
    restore_target = server.master_dsn("bench_restore").url()
    restore = drctl_probe(
        ["restore", "--yes", "--no-verify"],
        env,
        workdir,
        dsn={"DRCTL_TARGET_DSN": restore_target},
    )
    out["restore"] = restore
    started = time.monotonic()
    restored = fingerprints(server.master_dsn(), "bench_restore")
    out["verify_seconds"] = time.monotonic() - started
    out["verify_matches"] = restored == fingerprints(server.master_dsn(), DATABASE)
    server.execute("DROP DATABASE IF EXISTS bench_restore")
    if not baselines:
        return out
    out["pipeline_no_upload_seconds"] = min(pipeline_without_upload(server) for _ in range(2))
    # The same backup through the `drctl` entry point (which loads only this command).
    out["backup_full_cli"] = drctl_probe(["backup"], env, workdir, "drctl", dsn=source_env)
    with client_defaults_file(server.master_dsn()) as defaults:
        dump = f"mariadb-dump --defaults-extra-file={shlex.quote(str(defaults))} {DUMP_FLAGS}"
        out["raw_dump_seconds"] = min(
            shell_seconds(f"{dump} {DATABASE} > /dev/null") for _ in range(2)
        )
        out["gzip_dump_seconds"] = shell_seconds(f"{dump} {DATABASE} | gzip -6 > /dev/null")
        dump_file = workdir / "dump.sql"
        shell_seconds(f"{dump} {DATABASE} > {shlex.quote(str(dump_file))}")
        client = f"mariadb --defaults-extra-file={shlex.quote(str(defaults))} bench_raw"
        # Raw and drctl restores alternate (raw, drctl, raw, drctl): the first restore
        # after the bulk load shares the disk with InnoDB's background flushing, so a
        # fixed order would charge that to whichever ran first.
        out["restore_pairs"] = []
        for _ in range(2):
            server.execute("DROP DATABASE IF EXISTS bench_raw", "CREATE DATABASE bench_raw")
            raw = shell_seconds(f"{client} < {shlex.quote(str(dump_file))}")
            server.execute("DROP DATABASE IF EXISTS bench_raw")
            ours = drctl_probe(
                ["restore", "--yes", "--no-verify"],
                env,
                workdir,
                dsn={"DRCTL_TARGET_DSN": restore_target},
            )
            server.execute("DROP DATABASE IF EXISTS bench_restore")
            local = restore_path_from_local_file(server, env, workdir)
            out["restore_pairs"].append(
                {"raw_seconds": raw, "drctl_seconds": ours["seconds"], "local_seconds": local}
            )
        out["raw_restore_seconds"] = out["restore_pairs"][0]["raw_seconds"]
        dump_file.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gb", type=float, default=1.0, help="dump size of the big dataset")
    parser.add_argument("--small-fraction", type=float, default=0.25)
    parser.add_argument("--drill-runs", type=int, default=5)
    parser.add_argument("--skip-drill", action="store_true")
    parser.add_argument("--skip-data", action="store_true")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--skip-baselines", action="store_true", help="data: memory only")
    parser.add_argument(
        "--baselines-on",
        choices=["big", "small"],
        default="big",
        help="which dataset gets the throughput baselines (small: a 4 GB memory run stays "
        "within 25 min and still measures throughput at 1 GB)",
    )
    parser.add_argument("--drill-scenarios", default="", help="comma list (default: all)")
    parser.add_argument("--binlog", action="store_true", help="archiver lag, replay, memory")
    parser.add_argument("--lag-flush", default="5,1", help="flush intervals to measure (s)")
    parser.add_argument("--lag-seconds", type=float, default=45.0)
    parser.add_argument("--replay-rows", type=int, default=2_000_000)
    parser.add_argument("--archiver-gb", default="0.25,1", help="binlog checkpoints (GB)")
    parser.add_argument("--merge", action="store_true", help="keep other sections' results")
    parser.add_argument("--results", type=Path, default=ROOT / "results.md")
    args = parser.parse_args()
    command = "python -m benchmarks.run " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    workdir = ROOT / "data" / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    workdir.mkdir(parents=True, exist_ok=True)
    json_path = args.results.with_suffix(".json")
    results: dict[str, Any] = {}
    if args.merge and json_path.exists():
        results = json.loads(json_path.read_text())
    stamp: dict[str, Any] = {
        "command": command.strip(),
        "measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine": machine_info(),
    }
    started = time.monotonic()
    try:
        if not args.skip_data:
            key = "data_memory" if args.skip_baselines else "data"
            results[key] = {**run_data_benchmarks(args, workdir), **stamp}
            results["imports"] = {**import_costs(), **stamp}
        if args.binlog:
            results["binlog"] = {**run_binlog_benchmarks(args, workdir), **stamp}
        if not args.skip_drill:
            results["drill"] = {**run_drill_benchmark(args, workdir), **stamp}
    finally:
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)
    stamp["minutes"] = round((time.monotonic() - started) / 60, 1)
    results.setdefault("runs", []).append(stamp)
    json_path.write_text(json.dumps(results, indent=1, default=str))
    write_results(args.results, results)
    log(f"wrote {args.results}")


def run_drill_benchmark(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    log(f"sandbox drill × {args.drill_runs}")
    scenarios = [s for s in args.drill_scenarios.split(",") if s]
    options = DrillOptions(
        report_dir=workdir / "drill",
        outputs_path=workdir / "drill" / "outputs.json",
        runs=args.drill_runs,
        write_reports=False,
    )
    if scenarios:
        options.scenarios = scenarios
    drill = run_drill(options, say=lambda line: None if line.startswith("    ") else log(line))
    return dict(drill.as_dict())


def run_binlog_benchmarks(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from benchmarks import binlog_bench as bb

    out: dict[str, Any] = {}
    with ProcessSupervisor(workdir / "binlog-logs") as supervisor:
        server = MariaDBServer(supervisor, workdir / "binlog-src", "src", 11, buffer_pool="1G")
        server.start()
        server.create_accounts()
        target = MariaDBServer(supervisor, workdir / "binlog-dst", "dst", 12, buffer_pool="512M")
        target.start()
        target.create_accounts()
        azurite = AzuriteServer(supervisor, workdir / "binlog-azurite")
        azurite.start()
        env = bb.bench_env(azurite.connection_string)
        blobs = bb.container_factory(azurite.connection_string)
        grow_to(server, 1)  # benchdb.orders: the table the replay copies its shape from
        out["lag"] = []
        for flush in [float(f) for f in args.lag_flush.split(",") if f]:
            log(f"archiver lag, flush {flush:g} s, {args.lag_seconds:g} s of drill load")
            out["lag"].append(
                bb.archiver_lag(server, supervisor, env, workdir, blobs, flush, args.lag_seconds)
            )
        if args.replay_rows:
            out["replay"] = bb.replay_throughput(
                server, target, env, workdir, blobs, args.replay_rows
            )
        checkpoints = [float(g) for g in args.archiver_gb.split(",") if g]
        if checkpoints:
            out["memory"] = bb.archiver_memory(server, env, workdir, blobs, checkpoints, 224.0)
    return out


def run_data_benchmarks(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with ProcessSupervisor(workdir / "logs") as supervisor:
        server = MariaDBServer(supervisor, workdir / "mariadb", "bench", 1, buffer_pool="2G")
        server.start()
        server.create_accounts()
        azurite = AzuriteServer(supervisor, workdir / "azurite")
        azurite.start()
        env = dict(os.environ, AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string)
        env["PYTHONPATH"] = str(ROOT.parent) + os.pathsep + env.get("PYTHONPATH", "")
        # Size the table from a first chunk's dump size.
        rows = grow_to(server, 250_000)
        probe = measure_pilot_light(server, env, workdir, rows, baselines=False)
        bytes_per_row = probe["dump_bytes"] / rows
        big_rows = math.ceil(args.size_gb * 1e9 / bytes_per_row)
        small_rows = max(rows, math.ceil(big_rows * args.small_fraction))
        log(f"{bytes_per_row:.0f} dump bytes/row; small {small_rows:,} rows, big {big_rows:,}")
        baselines = not args.skip_baselines
        grow_to(server, small_rows)
        log("small dataset: backup + restore")
        small = measure_pilot_light(
            server, env, workdir, small_rows, baselines=baselines and args.baselines_on == "small"
        )
        log("growing to the big dataset")
        grow_to(server, big_rows)
        log("big dataset: backup, restore and baselines")
        big = measure_pilot_light(
            server, env, workdir, big_rows, baselines=baselines and args.baselines_on == "big"
        )
        return {"small": small, "big": big}


if __name__ == "__main__":
    main()
