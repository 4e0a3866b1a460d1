"""The primary dies under load with replication stalled: the lost writes are counted
exactly, and the report says the same number."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from drctl.sandbox.app_process import DATABASE
from drctl.sandbox.azurite import azurite_available
from drctl.sandbox.drill import DrillResult, _write_reports
from drctl.sandbox.environment import SandboxEnvironment, WarmStandby
from drctl.sandbox.mariadb import mariadb_available
from drctl.sandbox.objectives import stack_targets
from drctl.sandbox.processes import ProcessSupervisor
from drctl.sandbox.scenarios import ScenarioSettings, _warm_standby_failover

from .conftest import require

# DESIGN.md "Stack outputs": the keys drctl reads must be in the sandbox's file too.
CONTRACT = {
    "seoul": {"region", "eks_cluster_name", "app_url", "rds_instance_id", "rds_instance_arn",
              "dynamodb_table_names", "bucket_names", "ecr_repository_names", "secret_arns",
              "kubeconfig"},
    "tokyo": {"region", "strategy", "eks_cluster_name", "app_url", "replica_instance_id",
              "replica_instance_arn", "dynamodb_table_names", "dr_bucket_names",
              "health_check_id", "hosted_zone_id", "record_fqdn", "failover_function_name",
              "kubeconfig"},
    "azure-pilot": {"location", "resource_group_name", "storage_account_name",
                    "backup_container", "health_check_id", "record_fqdn"},
}  # fmt: skip


@pytest.mark.mariadb
@pytest.mark.azurite
def test_primary_killed_under_load_losses_match_report(tmp_path: Path) -> None:
    require(mariadb_available(), "MariaDB")
    require(azurite_available(), "Azurite")

    def stall_replication(ws: WarmStandby) -> None:
        # The replica stops receiving; everything acknowledged from now on is at risk.
        ws.tokyo_db.execute("STOP SLAVE IO_THREAD")
        time.sleep(1.0)

    with ProcessSupervisor(tmp_path / "logs") as supervisor:
        env = SandboxEnvironment(tmp_path, supervisor)
        env.start_shared()
        settings = ScenarioSettings(
            state_dir=tmp_path / "runs",
            outputs_path=tmp_path / "outputs.json",
            warmup_seconds=0.5,
            say=lambda _line: None,
        )
        result, ws, _ctx = _warm_standby_failover(
            env, settings, "db-failure", kill_app=False, before_fault=stall_replication
        )
        assert result.load is not None and result.loss is not None
        # Recount independently: acknowledged by the app, absent from the new primary.
        rows = ws.tokyo_db.execute(
            f"SELECT seq FROM {DATABASE}.drill_writes WHERE writer = '{result.load.writer}'"
        )
        present = {int(row[0]) for row in rows}
        acked = {r.seq for r in result.load.records if r.acked_at is not None}
        lost = sorted(acked - present)
        outputs = json.loads(settings.outputs_path.read_text())
        env.stop()

    assert len(lost) >= 5, "a second of stalled replication must lose acknowledged writes"
    assert result.loss.lost == len(lost)
    assert result.loss.lost_seqs == lost[:50]
    assert result.loss.acknowledged == len(acked)
    assert 0.8 <= result.loss.rpo_seconds < 10
    assert result.rto_seconds is not None  # the promoted replica took writes again

    targets = stack_targets("tokyo")
    drill = DrillResult([result], {"tokyo": targets}, tmp_path / "r", tmp_path)
    _write_reports(drill)
    report = (tmp_path / "r" / "db-failure-run1.md").read_text()
    assert f"lost (acknowledged, missing after recovery): {len(lost)}" in report
    verdict = "✅" if result.loss.rpo_seconds <= targets.rpo_seconds else "❌"
    rpo_row = f"| RPO | {targets.rpo_seconds:g}초 | {result.loss.rpo_seconds:.1f}초 | {verdict} |"
    assert rpo_row in report
    summary = json.loads((tmp_path / "r" / "drill-summary.json").read_text())
    assert summary["runs"][0]["lost_writes"] == len(lost)
    assert summary["summary"][0]["lost_writes_worst"] == len(lost)

    for stack, keys in CONTRACT.items():
        assert keys <= set(outputs[stack]), f"{stack} outputs miss {keys - set(outputs[stack])}"
    assert outputs["tokyo"]["app_url"].startswith("http://127.0.0.1:")
