"""The seed 000 §9 DR test report (Markdown) with the §5.3 Step 7 timing table and a
matplotlib timeline chart, built from a ``Timeline``.

The drill calls ``write_report``; ``drctl report`` is a thin CLI over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drctl.timeline import (
    DETECTION,
    FORCE_DNS,
    PROMOTE_DATABASE,
    SCALE_DEPLOYMENTS,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SKIPPED,
    VERIFY_HEALTH,
    Timeline,
    TimelineEvent,
    from_iso,
)

# A drill may record what it observed (e.g. when DNS actually answered with the DR
# address); that beats the time of the API call that caused it.
DNS_OBSERVED = "dns_failover"
SERVICE_RESTORED = "service_restored"

KIND_LABELS = {"failover": "Failover", "failback": "Failback", "drill": "전체훈련"}


@dataclass(frozen=True)
class Objectives:
    rto_minutes: float = 30.0
    rpo_seconds: float = 5.0


@dataclass(frozen=True)
class TimingRow:
    label: str
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def _first(timeline: Timeline, names: Sequence[str]) -> TimelineEvent | None:
    for name in names:
        event = timeline.last(name)
        if event is not None and event.status != STATUS_SKIPPED:
            return event
    return None


def _span(event: TimelineEvent | None) -> tuple[datetime | None, datetime | None]:
    if event is None:
        return None, None
    end = from_iso(event.finished_at) if event.finished_at else None
    return from_iso(event.started_at), end


def incident_start(timeline: Timeline) -> datetime | None:
    if "incident_started_at" in timeline.meta:
        return from_iso(timeline.meta["incident_started_at"])
    detection = timeline.last(DETECTION)
    if detection is not None:
        return from_iso(detection.started_at)
    starts = [from_iso(e.started_at) for e in timeline.events]
    return min(starts) if starts else None


def timing_rows(timeline: Timeline) -> list[TimingRow]:
    """Seed 000 §5.3 Step 7: detection, DNS, promotion, service restored, total RTO."""
    detection = _span(timeline.last(DETECTION))
    dns = _span(_first(timeline, [DNS_OBSERVED, FORCE_DNS]))
    promote = _span(_first(timeline, [PROMOTE_DATABASE]))
    restored_event = _first(timeline, [SERVICE_RESTORED, VERIFY_HEALTH])
    restore_start_event = _first(timeline, [SERVICE_RESTORED, SCALE_DEPLOYMENTS, VERIFY_HEALTH])
    restored = (_span(restore_start_event)[0], _span(restored_event)[1])
    if restored_event is not None and restored_event.status != STATUS_OK:
        restored = (restored[0], None)  # the service never came back: no end time
    total = (incident_start(timeline), restored[1])
    return [
        TimingRow("Health Check 실패 감지 (detection)", *detection),
        TimingRow("DNS Failover 완료", *dns),
        TimingRow(
            # Pilot light has no replica: its database step creates and restores one.
            "DB 복구 (restore) 완료"
            if timeline.meta.get("strategy") == "pilot-light"
            else "RDS Promote 완료",
            *promote,
        ),
        TimingRow("서비스 정상화 (service restored)", *restored),
        TimingRow("**총 RTO**", *total),
    ]


def _clock(moment: datetime | None) -> str:
    return moment.strftime("%H:%M:%S") if moment else "—"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{seconds:.1f}s ({minutes}m {rest:02d}s)"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✅" if ok else "❌")


def render_markdown(
    timeline: Timeline,
    objectives: Objectives,
    measured_rpo_seconds: float | None,
    chart_name: str,
    extra_sections: Sequence[tuple[str, str]] = (),
) -> str:
    rows = timing_rows(timeline)
    rto_seconds = rows[-1].seconds
    rto_ok = None if rto_seconds is None else rto_seconds <= objectives.rto_minutes * 60
    rpo_ok = (
        None if measured_rpo_seconds is None else measured_rpo_seconds <= objectives.rpo_seconds
    )
    starts = [from_iso(e.started_at) for e in timeline.events]
    ends = [from_iso(e.finished_at) for e in timeline.events if e.finished_at]
    when = f"{min(starts):%Y-%m-%d %H:%M} ~ {max(ends):%H:%M} UTC" if starts and ends else "—"
    kind = KIND_LABELS.get(str(timeline.meta.get("kind", "failover")), "Failover")
    rto_text = (
        "측정 불가 (service not restored)"
        if rto_seconds is None
        else (f"{rto_seconds / 60:.1f}분 ({rto_seconds:.1f}s)")
    )
    rpo_text = "측정 안 됨" if measured_rpo_seconds is None else f"{measured_rpo_seconds:.1f}초"
    ok_events = [e for e in timeline.events if e.status == STATUS_OK]
    failed_events = [e for e in timeline.events if e.status == STATUS_FAILED]
    improvements = []
    if rto_ok is False:
        improvements.append(f"RTO {rto_text} exceeds the objective {objectives.rto_minutes:g}분")
    if rpo_ok is False:
        improvements.append(f"RPO {rpo_text} exceeds the objective {objectives.rpo_seconds:g}초")
    lines = [
        "# DR 테스트 결과 보고서",
        "",
        "## 기본 정보",
        f"- 테스트 일시: {when}",
        f"- 테스트 유형: {kind}",
        f"- 실행: {timeline.name}",
        "- 참여자: ",
        "",
        "## 테스트 결과 요약",
        "| 항목 | 목표 | 실제 | 결과 |",
        "|------|------|------|------|",
        f"| RTO | {objectives.rto_minutes:g}분 | {rto_text} | {_verdict(rto_ok)} |",
        f"| RPO | {objectives.rpo_seconds:g}초 | {rpo_text} | {_verdict(rpo_ok)} |",
        "",
        "## 결과 기록 (Step 7)",
        "| 항목 | 시작 시간 | 완료 시간 | 소요 시간 |",
        "|------|-----------|-----------|-----------|",
    ]
    lines += [
        f"| {row.label} | {_clock(row.started_at)} | {_clock(row.finished_at)} | "
        f"{_duration(row.seconds)} |"
        for row in rows
    ]
    lines += ["", "## 상세 결과", "### 성공 항목"]
    lines += [f"- {e.name}: {e.detail}" for e in ok_events] or ["- (없음)"]
    lines += ["", "### 실패 항목"]
    lines += [f"- {e.name}: {e.detail}" for e in failed_events] or ["- (없음)"]
    lines += ["", "### 개선 필요 사항"]
    lines += [f"- {item}" for item in improvements] or ["- (없음)"]
    for heading, body in extra_sections:
        lines += ["", f"## {heading}", body.rstrip()]
    lines += ["", "## 첨부", f"- 타임라인 차트: ![timeline]({chart_name})", ""]
    return "\n".join(lines)


def render_chart(timeline: Timeline, objectives: Objectives, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    origin = incident_start(timeline)
    colours = {STATUS_OK: "tab:green", STATUS_FAILED: "tab:red", STATUS_SKIPPED: "tab:gray"}
    events = [e for e in timeline.events if e.finished_at]
    fig, axis = plt.subplots(figsize=(9, 0.5 * max(len(events), 3) + 1.2))
    offsets = [
        ((from_iso(e.started_at) - origin).total_seconds() if origin else 0.0, e) for e in events
    ]
    span = max((start + (e.duration_seconds or 0.0) for start, e in offsets), default=1.0) or 1.0
    # Steps that ran before the incident start (a failback's preparation) sit left of 0.
    first = min((start for start, _ in offsets), default=0.0)
    left = min(first, 0.0)
    for index, (start, event) in enumerate(offsets):
        duration = event.duration_seconds or 0.0
        # Keep sub-second steps visible next to minutes-long promotions.
        width = max(duration, (span - left) * 0.004)
        axis.barh(index, width, left=start, color=colours.get(event.status, "tab:blue"))
        axis.text(start + width, index, f" {duration:.1f}s", va="center", fontsize=8)
    axis.set_yticks(range(len(events)), [e.name for e in events])
    axis.invert_yaxis()
    objective = objectives.rto_minutes * 60
    if objective <= span * 1.5:
        axis.axvline(objective, color="tab:red", linestyle="--", label="RTO objective")
        axis.legend(loc="upper right")
    else:
        # Drawing a far-off objective would squash every bar into a sliver.
        axis.set_xlim(left - (span - left) * 0.02, span * 1.2)
        axis.set_title(
            f"RTO objective {objectives.rto_minutes:g} min (off scale)", loc="right", fontsize=8
        )
    axis.set_xlabel("seconds since incident start")
    axis.set_title(f"{timeline.name} timeline", loc="left")
    # bbox "tight" grows the canvas to fit long step labels (tight_layout cannot).
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def write_report(
    timeline: Timeline,
    objectives: Objectives,
    measured_rpo_seconds: float | None,
    out_dir: Path,
    extra_sections: Sequence[tuple[str, str]] = (),
    basename: str = "dr-report",
) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png_path = out_dir / f"{basename}.png"
    md_path = out_dir / f"{basename}.md"
    render_chart(timeline, objectives, png_path)
    md_path.write_text(
        render_markdown(timeline, objectives, measured_rpo_seconds, png_path.name, extra_sections),
        encoding="utf-8",
    )
    return md_path, png_path
