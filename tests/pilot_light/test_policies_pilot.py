"""Pilot-light specifics of the shared DR policies after the backup job moved out."""

from __future__ import annotations

from dataclasses import replace

from tests.pilot_light.conftest import BACKUP_IMAGE
from tests.policy.conftest import caught, names, run_policies, synth


def test_site_without_a_backup_job_stack_has_no_dr_copy_of_the_database() -> None:
    s = synth("azure-pilot")
    assert "dr-copy-for-every-data-store" not in names(run_policies(s))
    cfg = replace(s.config, backup=replace(s.config.backup, job_stack=""))
    caught(
        "dr-copy-for-every-data-store",
        run_policies(s, config=cfg),
        "primary database portforge-rds has no DR copy in stack azure-pilot",
    )


def test_sovereign_database_is_not_exported_by_the_backup_stack() -> None:
    s = synth("azure-pilot")
    cfg = replace(s.config, sovereign_data=("portforge-rds",))
    caught(
        "data-sovereignty",
        run_policies(s, config=cfg),
        "exported to another region/cloud by the backup job of stack azure-pilot-backup",
    )


def test_backup_stack_is_not_checked_as_a_dr_site() -> None:
    found = names(run_policies(synth("azure-pilot-backup", *BACKUP_IMAGE)), "mandatory")
    assert not found & {"dr-copy-for-every-data-store", "force-failover-by-inversion"}
