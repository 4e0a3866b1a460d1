"""Binlog archiving benchmarks: archiver lag, replay throughput, archiver memory as binlog grows.

Every figure comes from the real commands in separate processes (``python -m
drctl.pilotlight binlog-archive`` and ``restore --to-latest`` under
``benchmarks.rss_probe``), against one MariaDB with binary logs and one Azurite:

- **lag**: the drill's write load (the sandbox app + ``WriteLoad``) runs while a marker
  row is committed 5 times a second; a poller lists the archive every 50 ms, downloads
  each new segment, and finds the markers in it. Lag = the moment the segment was
  listed − the marker's commit acknowledgement (resolution: one poll, 50 ms).
- **replay**: a small dump, then ``--replay-rows`` rows written with the binlog on;
  ``drctl restore --to-latest`` (whole command) and its replay stage alone
  (``replay_chain``, what the command runs after the dump: plain SQL decoded from the
  row events, as an account without BINLOG privileges) against ``mariadb-binlog …
  | mariadb`` as root (``BINLOG '…'`` statements need BINLOG REPLAY) applying the same
  binlog files from the server's datadir, in the same run. Neither carries the
  source's GTIDs (the restored server numbers its own).
- **archiver memory**: the archiver's VmHWM after it has archived each checkpoint of a
  growing binlog (rows inserted with the binlog on).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.dataset import grow_to
from benchmarks.rss_probe import vm_hwm_mb
from drctl.mysql_dsn import MySQLDsn, client_defaults_file
from drctl.sandbox.mariadb import MariaDBServer

ROOT = Path(__file__).resolve().parent
POLL_SECONDS = 0.05
_MARK = rb"lagmark-%s-(\d{8})"  # with a token per run: the archive also holds older runs' marks


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def repl_dsn(server: MariaDBServer) -> MySQLDsn:
    """The archiver's account in production: the RDS master user (its Deployment's secret)."""
    return server.master_dsn()


class ArchiverProcess:
    """``python -m drctl.pilotlight binlog-archive`` in its own process, under rss_probe."""

    def __init__(
        self,
        server: MariaDBServer,
        env: dict[str, str],
        workdir: Path,
        container: str,
        flush: float,
    ) -> None:
        self.probe = workdir / f"archiver-{container}.json"
        argv = [sys.executable, "-m", "benchmarks.rss_probe", str(self.probe), "pilotlight"]
        argv += ["binlog-archive", "--flush-seconds", f"{flush:g}", "--container", container]
        argv += ["--spool-dir", str(workdir / f"spool-{container}"), "--json"]
        self.process = subprocess.Popen(
            argv,
            env={**env, "DRCTL_BINLOG_SOURCE_DSN": repl_dsn(server).url()},
            cwd=ROOT.parent,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / f"archiver-{container}.log", "wb"),  # noqa: SIM115
        )

    def peak_mb(self) -> float:
        return vm_hwm_mb(self.process.pid) or 0.0

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)  # graceful: commits what it mirrored
        self.process.wait(timeout=120)
        return dict(json.loads(self.probe.read_text()))


def master_position(server: MariaDBServer) -> tuple[str, int]:
    row = server.execute("SHOW MASTER STATUS")[0]
    return str(row[0]), int(row[1])


def wait_caught_up(server: MariaDBServer, container: Any, timeout: float = 900.0) -> float:
    """Seconds until the archive's last segment ends where the source's binlog ends."""
    from drctl.binlog.segments import list_segments

    started = time.monotonic()
    target = master_position(server)
    while time.monotonic() - started < timeout:
        segments = list_segments(container)
        if segments and (segments[-1].binlog_file, segments[-1].end) >= target:
            return time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError(f"archiver did not reach {target} within {timeout:.0f} s")


# -- archiver lag -------------------------------------------------------------------


class SegmentWatcher(threading.Thread):
    """Lists the archive every 50 ms; records when each marker first became readable."""

    def __init__(self, container: Any, token: str) -> None:
        super().__init__(daemon=True)
        self.container = container
        self.mark = re.compile(_MARK % token.encode())
        self.seen: dict[int, float] = {}
        self.segments = 0
        self._known: set[str] = set()
        self._done = threading.Event()

    def run(self) -> None:
        from drctl.binlog.segments import PREFIX

        while not self._done.wait(POLL_SECONDS):
            for blob in self.container.list_blobs(name_starts_with=PREFIX):
                if blob.name in self._known:
                    continue
                listed = time.time()
                self._known.add(blob.name)
                self.segments += 1
                data = self.container.get_blob_client(blob.name).download_blob().readall()
                for match in self.mark.finditer(data):
                    self.seen.setdefault(int(match.group(1)), listed)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _commit_marks(
    server: MariaDBServer, database: str, seconds: float, token: str
) -> dict[int, float]:
    acked: dict[int, float] = {}
    conn = server.master_dsn(database).connect()
    try:
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS lag_marks")  # one run per flush interval
            cur.execute("CREATE TABLE lag_marks (id INT PRIMARY KEY, mark VARCHAR(32))")
            conn.commit()
            end = time.monotonic() + seconds
            index = len(acked)
            while time.monotonic() < end:
                index += 1
                cur.execute(
                    "INSERT INTO lag_marks VALUES (%s, %s)",
                    (index, f"lagmark-{token}-{index:08d}"),
                )
                conn.commit()
                acked[index] = time.time()
                time.sleep(0.2)
    finally:
        conn.close()
    return acked


def archiver_lag(
    server: MariaDBServer,
    supervisor: Any,
    env: dict[str, str],
    workdir: Path,
    blobs: Any,
    flush: float,
    seconds: float,
) -> dict[str, Any]:
    from drctl.sandbox.app_process import DATABASE, AppProcess
    from drctl.sandbox.loadgen import WriteLoad

    name = f"lag-{str(flush).replace('.', '-')}"
    container = blobs(name)
    server.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    app = AppProcess(supervisor, "seoul", "primary", server.app_dsn(DATABASE))
    app.start()
    archiver = ArchiverProcess(server, env, workdir, name, flush)
    token = f"{int(time.time()) % 100000:05d}"
    watcher = SegmentWatcher(container, token)
    load = WriteLoad(lambda: app.url)
    try:
        time.sleep(2.0)
        wait_caught_up(server, container, timeout=120)
        watcher.start()
        load.start()
        acked = _commit_marks(server, DATABASE, seconds, token)
        load.stop()
        time.sleep(flush + 2.0)  # the last marks' segment
        watcher.stop()
    finally:
        load.stop()
        probe = archiver.stop()
        supervisor.stop(app.process)
    lags = sorted(watcher.seen[i] - t for i, t in acked.items() if i in watcher.seen)
    writes = [r for r in load.records if r.acked_at is not None]
    return {
        "flush_seconds": flush,
        "seconds": seconds,
        "marks": len(acked),
        "marks_missing": len(acked) - len(lags),
        "lag_median_s": statistics.median(lags) if lags else None,
        "lag_p95_s": lags[int(0.95 * (len(lags) - 1))] if lags else None,
        "lag_worst_s": lags[-1] if lags else None,
        "segments": watcher.segments,
        "load_writes_per_second": len(writes) / seconds,
        "archiver_peak_rss_mb": probe["self_max_rss_mb"],
    }


# -- replay throughput --------------------------------------------------------------

REPLAY_DB = "replaydb"
_GTID_FILTER = r"grep -Ev '^/\*M!100001 SET @@session\.(server_id|gtid_seq_no)='"


def _backup(env: dict[str, str], workdir: Path, server: MariaDBServer, container: str) -> None:
    from benchmarks.run import drctl_probe

    drctl_probe(
        ["backup", "--container", container],
        env,
        workdir,
        dsn={"DRCTL_SOURCE_DSN": server.master_dsn(REPLAY_DB).url()},
    )


def _write_binlog_rows(server: MariaDBServer, rows: int) -> None:
    """``rows`` new orders in 10,000-row transactions, with the binlog on."""
    for start in range(1_000_001, 1_000_001 + rows, 10_000):
        end = min(start + 9_999, 1_000_000 + rows)
        server.execute(
            f"INSERT INTO {REPLAY_DB}.orders SELECT seq, seq MOD 97001, "
            "TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, 'new', "
            "CONCAT('customer', seq MOD 97001, '@example.com'), (seq MOD 100000) / 7, "
            f"CONCAT('replayed ', MD5(seq), ' ', SHA2(seq, 256)) FROM seq_{start}_to_{end}",
            database=REPLAY_DB,
        )


def _checksum(server: MariaDBServer, database: str) -> int:
    return int(server.execute(f"CHECKSUM TABLE {database}.orders")[0][1])


def _archive_after_a_dump(
    server: MariaDBServer, env: dict[str, str], workdir: Path, container: Any, name: str, rows: int
) -> None:
    """A dump of an empty table, then ``rows`` rows only the archived binlog holds."""
    server.execute(f"DROP DATABASE IF EXISTS {REPLAY_DB}")
    # dataset.grow_to created benchdb.orders; the same table in a database of its own.
    server.execute(
        f"CREATE DATABASE {REPLAY_DB}", f"CREATE TABLE {REPLAY_DB}.orders LIKE benchdb.orders"
    )
    archiver = ArchiverProcess(server, env, workdir, name, 1.0)
    try:
        _backup(env, workdir, server, name)
        _write_binlog_rows(server, rows)
        wait_caught_up(server, container)
    finally:
        archiver.stop()


def _direct_replay(server: MariaDBServer, target: MySQLDsn, start_file: str, start: int) -> float:
    """``mariadb-binlog | mariadb`` on the source's own binlog files: the baseline."""
    from benchmarks.run import shell_seconds

    files = sorted(p for p in server.datadir.glob("mysql-bin.[0-9]*") if p.name >= start_file)
    with client_defaults_file(target) as defaults:
        decode = f"mariadb-binlog --start-position={start} --database={REPLAY_DB} " + " ".join(
            shlex.quote(str(p)) for p in files
        )
        client = (
            f"mariadb --defaults-extra-file={shlex.quote(str(defaults))} --binary-mode {REPLAY_DB}"
        )
        return shell_seconds(f"TZ=UTC {decode} | {_GTID_FILTER} | {client}")


def replay_throughput(
    server: MariaDBServer,
    target_server: MariaDBServer,
    env: dict[str, str],
    workdir: Path,
    blobs: Any,
    rows: int,
) -> dict[str, Any]:
    """Replay into a second server (the "Azure" target), three ways, same binlog."""
    from benchmarks.run import drctl_probe
    from drctl.binlog.pitr import downloader, plan_pitr
    from drctl.binlog.replay import replay_chain
    from drctl.pilotlight.dump_options import ServerFlavour
    from drctl.pilotlight.restore import RestoreOptions, run_restore

    name = "replay"
    container = blobs(name)
    _archive_after_a_dump(server, env, workdir, container, name, rows)
    expected = _checksum(server, REPLAY_DB)
    plan = plan_pitr(container, REPLAY_DB, None, verify=False)
    segment_bytes = sum(s.size for s in plan.chain.segments)
    target = target_server.master_dsn(REPLAY_DB)
    equal: dict[str, bool] = {}

    def reset() -> None:
        target_server.execute(f"DROP DATABASE IF EXISTS {REPLAY_DB}")

    log(f"replay: drctl restore --to-latest ({segment_bytes / 1e6:.0f} MB of binlog)")
    reset()
    cli = drctl_probe(
        ["restore", "--to-latest", "--yes", "--no-verify", "--container", name],
        env,
        workdir,
        dsn={"DRCTL_TARGET_DSN": target.url()},
    )
    equal["drctl restore --to-latest"] = _checksum(target_server, REPLAY_DB) == expected
    # The replay stage alone, as the command runs it after restoring the dump.
    reset()
    run_restore(container, target, RestoreOptions(REPLAY_DB, verify=False))
    started = time.monotonic()
    replay_chain(
        plan.chain,
        downloader(container),
        target,
        REPLAY_DB,
        flavour=ServerFlavour.MARIADB,
        stop_at=None,
        source_database=REPLAY_DB,
    )
    stage_seconds = time.monotonic() - started
    equal["replay stage"] = _checksum(target_server, REPLAY_DB) == expected
    # Baseline: the same binlog files straight from the source's datadir.
    reset()
    run_restore(container, target, RestoreOptions(REPLAY_DB, verify=False))
    # As root: the app account has no BINLOG REPLAY, as no cloud admin account has.
    root = target_server.admin_dsn(REPLAY_DB)
    raw_seconds = _direct_replay(server, root, plan.chain.start_file, plan.chain.start_pos)
    equal["mariadb-binlog | mariadb"] = _checksum(target_server, REPLAY_DB) == expected
    reset()
    server.execute(f"DROP DATABASE IF EXISTS {REPLAY_DB}")
    return {
        "rows": rows,
        "segment_bytes": segment_bytes,
        "segments": len(plan.chain.segments),
        "cli_seconds": cli["seconds"],
        "cli_peak_rss_mb": cli["self_max_rss_mb"],
        "stage_seconds": stage_seconds,
        "raw_seconds": raw_seconds,
        "results_equal": equal,
    }


# -- archiver memory as the binlog grows ----------------------------------------------


def archiver_memory(
    server: MariaDBServer,
    env: dict[str, str],
    workdir: Path,
    blobs: Any,
    checkpoints_gb: list[float],
    bytes_per_row: float,
) -> list[dict[str, Any]]:
    """The archiver's peak RSS after archiving each checkpoint of binlog volume."""
    name = "memory"
    container = blobs(name)
    server.execute("CREATE DATABASE IF NOT EXISTS binlogdb")
    archiver = ArchiverProcess(server, env, workdir, name, 5.0)
    points = []
    try:
        for gb in checkpoints_gb:
            rows = int(gb * 1e9 / bytes_per_row)
            log(f"archiver memory: writing {gb:g} GB of rows with the binlog on")
            grow_to(server, rows, database="binlogdb", binlog=True)
            caught = wait_caught_up(server, container, timeout=1200)
            archived = sum(b.size for b in container.list_blobs(name_starts_with="binlog/"))
            points.append(
                {
                    "binlog_gb": archived / 1e9,
                    "rows": rows,
                    "peak_rss_mb": archiver.peak_mb(),
                    "catch_up_seconds": caught,
                }
            )
    finally:
        archiver.stop()
        server.execute("DROP DATABASE IF EXISTS binlogdb")
    return points


def container_factory(connection_string: str) -> Any:
    from drctl.pilotlight.storage import open_container

    def make(name: str) -> Any:
        return open_container(connection_string, name, create=True)

    return make


def bench_env(connection_string: str) -> dict[str, str]:
    env = dict(os.environ, AZURE_STORAGE_CONNECTION_STRING=connection_string)
    env["PYTHONPATH"] = str(ROOT.parent) + os.pathsep + env.get("PYTHONPATH", "")
    return env
