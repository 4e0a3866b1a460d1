"""Bad cases of policy/deploy_backup.py: a backup CronJob whose dump asks for a global lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policy.rds_dump_options import RDS_MYSQLDUMP_DOC
from tests.pilot_light.conftest import BACKUP_IMAGE
from tests.policy.conftest import caught, mutate, run_policies, synth

T_CRON_JOB = "kubernetes:batch/v1:CronJob"


def _containers(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]


def case_backup_dump_options_rds() -> None:
    syn = synth("azure-pilot-backup", *BACKUP_IMAGE)

    def add_master_data(inputs: dict[str, Any]) -> None:
        container = _containers(inputs)[0]
        container["args"] = ["sh", "-c", "mysqldump --single-transaction --master-data=2 app"]

    resources, bad = mutate(syn, T_CRON_JOB, "cronjob", add_master_data)
    caught(
        "backup-dump-options-rds",
        run_policies(syn, resources),
        "--master-data=2",
        bad.name,
        RDS_MYSQLDUMP_DOC,
    )


CASES: dict[str, Callable[[], None]] = {"backup-dump-options-rds": case_backup_dump_options_rds}
