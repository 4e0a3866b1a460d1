"""The §9 report: the numbers in the Step 7 table and the RTO/RPO verdicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from drctl.report import Objectives, timing_rows, write_report
from drctl.timeline import STATUS_FAILED, Timeline

from .conftest import make_ops_app

app = make_ops_app()

T0 = datetime(2025, 3, 14, 2, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def drill_timeline() -> Timeline:
    timeline = Timeline(name="drill-2025q1", meta={"kind": "failover"})
    timeline.record("detection", at(0), at(90), detail="3 × 30s failures")
    timeline.record("preflight", at(92), at(95))
    timeline.record("force_dns", at(100), at(101))
    timeline.record("promote_database", at(101), at(401))
    timeline.record("scale_deployments", at(401), at(460))
    timeline.record("verify_health", at(460), at(470))
    return timeline


def table_row(markdown: str, label: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {label}"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_step7_table_numbers(tmp_path: Path) -> None:
    md_path, png_path = write_report(drill_timeline(), Objectives(30, 5), 2.0, tmp_path)
    markdown = md_path.read_text(encoding="utf-8")
    assert table_row(markdown, "Health Check") == [
        "Health Check 실패 감지 (detection)",
        "02:00:00",
        "02:01:30",
        "90.0s (1m 30s)",
    ]
    assert table_row(markdown, "DNS Failover")[1:] == ["02:01:40", "02:01:41", "1.0s (0m 01s)"]
    assert table_row(markdown, "RDS Promote")[1:] == ["02:01:41", "02:06:41", "300.0s (5m 00s)"]
    assert table_row(markdown, "서비스 정상화")[1:] == ["02:06:41", "02:07:50", "69.0s (1m 09s)"]
    assert table_row(markdown, "**총 RTO**")[1:] == ["02:00:00", "02:07:50", "470.0s (7m 50s)"]
    assert table_row(markdown, "RTO") == ["RTO", "30분", "7.8분 (470.0s)", "✅"]
    assert table_row(markdown, "RPO") == ["RPO", "5초", "2.0초", "✅"]
    assert png_path.read_bytes().startswith(b"\x89PNG")
    assert "![timeline](dr-report.png)" in markdown


def test_pilot_light_database_row_is_a_restore(tmp_path: Path) -> None:
    timeline = drill_timeline()
    timeline.meta["strategy"] = "pilot-light"
    md_path, _ = write_report(timeline, Objectives(240, 600), 2.0, tmp_path)
    markdown = md_path.read_text(encoding="utf-8")
    assert table_row(markdown, "DB 복구 (restore)")[1:] == [
        "02:01:41",
        "02:06:41",
        "300.0s (5m 00s)",
    ]
    assert "RDS Promote" not in markdown


def test_objectives_missed_are_marked_and_listed(tmp_path: Path) -> None:
    md_path, _ = write_report(
        drill_timeline(),
        Objectives(rto_minutes=5, rpo_seconds=1),
        7.5,
        tmp_path,
        extra_sections=[("Write load", "1234 writes, 0 lost")],
    )
    markdown = md_path.read_text(encoding="utf-8")
    assert table_row(markdown, "RTO")[-1] == "❌"
    assert table_row(markdown, "RPO") == ["RPO", "1초", "7.5초", "❌"]
    assert "exceeds the objective 5분" in markdown
    assert "## Write load\n1234 writes, 0 lost" in markdown


def test_failed_service_has_no_rto() -> None:
    timeline = drill_timeline()
    timeline.events[-1].status = STATUS_FAILED
    rows = timing_rows(timeline)
    assert rows[-1].seconds is None and rows[3].finished_at is None


def test_incident_start_from_meta_and_resumed_steps_use_last_attempt() -> None:
    timeline = drill_timeline()
    timeline.meta["incident_started_at"] = at(-30).isoformat()
    timeline.record("promote_database", at(500), at(530))  # a resumed attempt
    rows = timing_rows(timeline)
    assert rows[2].seconds == 30.0
    assert rows[-1].seconds == 500.0


def test_report_command_reads_run_state_and_outputs(tmp_path: Path) -> None:
    state = {
        "name": "failover-tokyo",
        "kind": "failover",
        "data": {"lag_at_promotion_seconds": 3},
        "timeline": drill_timeline().to_dict(),
    }
    state_file = tmp_path / "failover-tokyo.json"
    state_file.write_text(json.dumps(state))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"tokyo": {"objectives": {"rto_minutes": 10, "rpo_seconds": 2}}}))
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--timeline",
            str(state_file),
            "--outputs",
            str(outputs),
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"][-1] == {"item": "총 RTO", "seconds": 470.0}
    markdown = Path(summary["markdown"]).read_text(encoding="utf-8")
    assert table_row(markdown, "RPO") == ["RPO", "2초", "3.0초", "❌"]
    assert table_row(markdown, "RTO") == ["RTO", "10분", "7.8분 (470.0s)", "✅"]


def test_report_command_names_a_bad_timeline(tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text("[1, 2]")
    result = CliRunner().invoke(app, ["report", "--timeline", str(bad)])
    assert result.exit_code == 2
    assert "has no 'events'" in result.output
