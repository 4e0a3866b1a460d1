"""results.md keeps the sections of benchmarks that run on their own."""

from __future__ import annotations

from pathlib import Path

from benchmarks.planned_switchover import summary
from benchmarks.results import write_results

RESULTS = {"command": "make bench", "machine": {"cores": "2"}, "total_minutes": 1.0}


def test_regenerating_results_keeps_the_planned_switchover_section(tmp_path: Path) -> None:
    rows = [
        {
            "run": 1,
            "mode": "planned",
            "rto_seconds": 0.8,
            "acknowledged_writes": 30,
            "lost_writes": 0,
        },
        {
            "run": 1,
            "mode": "unplanned",
            "rto_seconds": 2.0,
            "acknowledged_writes": 60,
            "lost_writes": 4,
        },
        {
            "run": 2,
            "mode": "planned",
            "rto_seconds": 1.2,
            "acknowledged_writes": 31,
            "lost_writes": 0,
        },
        {
            "run": 2,
            "mode": "unplanned",
            "rto_seconds": None,
            "acknowledged_writes": 58,
            "lost_writes": 6,
        },
    ]
    (tmp_path / "planned_switchover.md").write_text(summary(rows, {"cores": "2"}))
    write_results(tmp_path / "results.md", RESULTS)
    text = (tmp_path / "results.md").read_text()
    assert "## Planned switchover (2 runs," in text
    assert "| planned | 2 | 0 | median 1.000s, worst 1.200s | 0 | 0 | 0 |" in text
    assert "| unplanned | 2 | 1 | median 2.000s, worst 2.000s | 10 | 5 | 6 |" in text


def test_without_a_section_file_nothing_is_added(tmp_path: Path) -> None:
    write_results(tmp_path / "results.md", RESULTS)
    assert "Planned switchover" not in (tmp_path / "results.md").read_text()
