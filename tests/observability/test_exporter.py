"""`drctl exporter`'s collector against a real Azurite container and run-state files."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from drctl.exporter import ExporterSources, make_registry
from drctl.pilotlight.catalog import BackupMetadata, backup_name
from drctl.pilotlight.formats import BackupFormat
from drctl.pilotlight.storage import AZURITE_ACCOUNT, azurite_connection_string, open_container
from drctl.sandbox.ports import free_port
from observability import metrics as m


def _samples(sources: ExporterSources) -> dict[str, float]:
    text = generate_latest(make_registry(sources)).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("drstack_exporter_"):
                continue  # the per-source health, tested on its own below
            kind = sample.labels.get("kind")
            out[sample.name + (f":{kind}" if kind else "")] = sample.value
    return out


def test_backup_metrics_come_from_the_newest_committed_blob(container) -> None:
    older = datetime.now(UTC) - timedelta(minutes=10)
    newer = datetime.now(UTC) - timedelta(minutes=2)
    for when, body in ((older, b"x" * 10), (newer, b"y" * 20)):
        meta = BackupMetadata(
            sha256="ab" * 32, uncompressed_bytes=len(body) * 3, snapshot_time=when.isoformat()
        )
        container.upload_blob(
            backup_name(when, BackupFormat("zstd")), body, metadata=meta.to_azure()
        )
    got = _samples(ExporterSources(stack="azure-pilot", container=container))
    assert got["drstack_backup_up"] == 1
    assert got["drstack_backups"] == 2
    assert abs(got["drstack_backup_last_success_timestamp_seconds"] - newer.timestamp()) < 0.01
    assert got["drstack_backup_last_size_bytes"] == 20
    assert got["drstack_backup_last_uncompressed_bytes"] == 60
    assert got["drstack_backup_last_checksummed"] == 1


def test_empty_container_reads_as_never_backed_up(container) -> None:
    got = _samples(ExporterSources(stack="azure-pilot", container=container))
    assert got["drstack_backup_last_success_timestamp_seconds"] == 0  # the age alert fires


def test_unreachable_storage_is_down_not_silent() -> None:
    from drctl.pilotlight.storage import AZURITE_ACCOUNT, azurite_connection_string, open_container
    from drctl.sandbox.ports import free_port

    nobody = f"http://127.0.0.1:{free_port()}/{AZURITE_ACCOUNT}"  # nothing listens there
    broken = open_container(azurite_connection_string(nobody), "nope", retries=0)
    got = _samples(ExporterSources(stack="azure-pilot", container=broken))
    assert got["drstack_backup_up"] == 0
    assert "drstack_backup_last_success_timestamp_seconds" not in got


def test_lag_known_and_unknown() -> None:
    assert _samples(ExporterSources(stack="tokyo", lag_reader=lambda: 2.5)) == {
        "drstack_replica_lag_known": 1,
        "drstack_replica_lag_seconds": 2.5,
    }
    unknown = _samples(ExporterSources(stack="tokyo", lag_reader=lambda: None))
    assert unknown == {"drstack_replica_lag_known": 0}
    # ReplicaLag -1: replication is not running (RDS User Guide), not a lag of -1 s.
    stopped = _samples(ExporterSources(stack="tokyo", lag_reader=lambda: -1.0))
    assert stopped == {"drstack_replica_lag_known": 0}


def test_failover_run_state(tmp_path: Path) -> None:
    finished_at = "2026-11-29T10:00:05Z"
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "kind": "failover",
                "finished": True,
                "steps": {
                    "preflight": {"status": "done", "updated_at": "2026-11-29T10:00:00Z"},
                    "print_config": {"status": "done", "updated_at": finished_at},
                },
            }
        )
    )
    (tmp_path / "b.json").write_text(
        json.dumps(
            {
                "kind": "failback",
                "finished": False,
                "steps": {"failback_preflight": {"status": "done", "updated_at": finished_at}},
            }
        )
    )
    got = _samples(ExporterSources(stack="tokyo", state_dir=tmp_path))
    assert got["drstack_failover_run_active:failover"] == 0
    assert got["drstack_failover_run_active:failback"] == 1
    expected = datetime(2026, 11, 29, 10, 0, 5, tzinfo=UTC).timestamp()
    assert got["drstack_failover_last_finished_timestamp_seconds:failover"] == expected


def test_exporter_command_once_reads_the_outputs_file(azurite, container, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from drctl.cli import app
    from drctl.pilotlight.storage import AZURITE_ACCOUNT

    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "azure-pilot": {
                    "storage_account_name": AZURITE_ACCOUNT,
                    "blob_endpoint": azurite.blob_endpoint,
                    "backup_container": container.container_name,
                }
            }
        )
    )
    args = ["exporter", "--stack", "azure-pilot", "--outputs", str(outputs), "--once"]
    result = CliRunner().invoke(app, [*args, "--state-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert 'drstack_backup_up{container="' in result.output
    missing = CliRunner().invoke(app, ["exporter", "--stack", "tokyo", "--outputs", str(outputs)])
    assert missing.exit_code == 2 and "tokyo" in missing.output


def test_binlog_archiver_metrics_come_from_its_status_blob(container) -> None:
    from drctl.binlog.status import ArchiverStatus, write_status

    missing = _samples(ExporterSources(stack="azure-pilot", container=container))
    assert missing["drstack_binlog_archiver_checked_timestamp_seconds"] == 0  # alert fires

    write_status(
        container,
        ArchiverStatus(
            checked_at=1_800_000_000.5,
            archived_file="mysql-bin.000003",
            archived_pos=900,
            source_file="mysql-bin.000003",
            source_pos=1200,
            lag_seconds=42.0,
            last_event_time=1_799_999_990,
        ),
    )
    got = _samples(ExporterSources(stack="azure-pilot", container=container))
    assert got["drstack_binlog_archiver_checked_timestamp_seconds"] == 1_800_000_000.5
    assert got["drstack_binlog_archiver_lag_seconds"] == 42.0
    assert got["drstack_binlog_last_archived_event_timestamp_seconds"] == 1_799_999_990


class _Switchable:
    """The container the exporter was given, whose endpoint the test swaps (a real SDK
    client on each side): healthy Azurite first, then a broken endpoint."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def hanging_endpoint() -> Iterator[str]:
    """A socket that accepts (the kernel completes the handshake) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/{AZURITE_ACCOUNT}"
    server.close()


@pytest.fixture
def refusing_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}/{AZURITE_ACCOUNT}"  # nothing listens there


def _timed_scrape(registry: Any) -> tuple[float, dict[str, float]]:
    started = time.monotonic()
    text = generate_latest(registry).decode()
    elapsed = time.monotonic() - started
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            source = sample.labels.get("source")
            out[sample.name + (f":{source}" if source else "")] = sample.value
    return elapsed, out


@pytest.mark.parametrize("broken", ["hanging_endpoint", "refusing_endpoint"])
def test_a_source_that_does_not_answer_is_down_within_the_scrape_timeout(
    container: Any, broken: str, request: pytest.FixtureRequest
) -> None:
    """Healthy, then the storage hangs or refuses: the next scrape answers within the
    shipped scrape_timeout with backup_up 0, source up 0 and its age, and no stale
    backup value; it never repeats the last healthy answer."""
    when = datetime.now(UTC) - timedelta(minutes=2)
    meta = BackupMetadata(sha256="ab" * 32, uncompressed_bytes=3, snapshot_time=when.isoformat())
    container.upload_blob(backup_name(when, BackupFormat("zstd")), b"x", metadata=meta.to_azure())
    switchable = _Switchable(container)
    registry = make_registry(ExporterSources(stack="azure-pilot", container=switchable))
    _, healthy = _timed_scrape(registry)
    assert healthy["drstack_backup_up"] == 1

    endpoint = request.getfixturevalue(broken)
    switchable.inner = open_container(azurite_connection_string(endpoint), "nope")
    for _ in range(2):  # the second scrape finds the first's read still hanging
        elapsed, got = _timed_scrape(registry)
        assert elapsed < m.DRCTL_SCRAPE_TIMEOUT_SECONDS, elapsed
        assert got["drstack_backup_up"] == 0
        assert "drstack_backup_last_success_timestamp_seconds" not in got
        assert "drstack_backups" not in got
        assert got["drstack_exporter_source_up:backup"] == 0
        assert got["drstack_exporter_source_last_success_age_seconds:backup"] > 0


def test_a_source_that_never_answered_has_no_age() -> None:
    def hangs() -> float:
        time.sleep(60)
        return 1.0

    elapsed, got = _timed_scrape(
        make_registry(ExporterSources(stack="tokyo", lag_reader=hangs), budget_seconds=0.5)
    )
    assert elapsed < 2
    assert got == {
        "drstack_replica_lag_known": 0,
        "drstack_exporter_source_up:replica_lag": 0,
    }


def test_a_failing_lag_reader_is_a_source_down() -> None:
    def refuses() -> float:
        raise ConnectionRefusedError("cloudwatch")

    _, got = _timed_scrape(make_registry(ExporterSources(stack="tokyo", lag_reader=refuses)))
    assert got == {
        "drstack_replica_lag_known": 0,
        "drstack_exporter_source_up:replica_lag": 0,
    }


def test_the_scrape_budget_is_below_the_shipped_scrape_timeout() -> None:
    import yaml

    from drctl.exporter import DEFAULT_BUDGET_SECONDS

    config = yaml.safe_load((Path(m.__file__).parent / "prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == m.JOB_DRCTL]
    assert job["scrape_timeout"] == f"{m.DRCTL_SCRAPE_TIMEOUT_SECONDS:g}s"
    assert DEFAULT_BUDGET_SECONDS < m.DRCTL_SCRAPE_TIMEOUT_SECONDS - 1
