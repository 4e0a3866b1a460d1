"""Bad cases of policy/deploy_binlog.py: one per policy, each seen to fire."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tests.policy.conftest import caught, mutate, run_policies, synth

PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"


def case_binlog_settings_disagree() -> None:
    # The site promises a 10 s flush; the job stack's file still says 5.
    site = synth("azure-pilot", "backup.binlog_flush_seconds=10")
    caught(
        "binlog-archive-agrees",
        run_policies(site),
        "stack azure-pilot and stack azure-pilot-backup disagree",
        "backup.binlog_flush_seconds is 10 here but 5 there",
    )
    # The job stack turns the archiver off; the site still counts on it. (Its program
    # refuses that too, at `up`: the config is swapped in after synthesis here.)
    job = synth("azure-pilot-backup")
    off = replace(job.config, backup=replace(job.config.backup, binlog_archive=False))
    caught(
        "binlog-archive-agrees",
        run_policies(job, config=off),
        "stack azure-pilot-backup and stack azure-pilot disagree",
        "backup.binlog_archive is False here but True there",
    )


def case_parameter_group_family() -> None:
    s = synth("seoul")
    rs, _ = mutate(s, PARAMETER_GROUP, "", lambda i: i.update(family="mysql5.7"))
    caught(
        "rds-parameter-group-family",
        run_policies(s, rs),
        "runs MySQL 8.0 but its parameter group",
        "is of family mysql5.7; RDS needs mysql8.0",
    )


def case_binlog_not_replayable_as_sql() -> None:
    s = synth("seoul")

    def minimal(inputs: dict) -> None:
        inputs["parameters"] = [
            p if p["name"] != "binlog_row_metadata" else {**p, "value": "MINIMAL"}
            for p in inputs["parameters"]
        ]

    rs, _ = mutate(s, PARAMETER_GROUP, "", minimal)
    caught(
        "binlog-replayable-as-sql",
        run_policies(s, rs),
        "lacks binlog_row_metadata=FULL",
        "replayed as plain SQL",
    )


CASES: dict[str, Callable[[], None]] = {
    "binlog-archive-agrees": case_binlog_settings_disagree,
    "rds-parameter-group-family": case_parameter_group_family,
    "binlog-replayable-as-sql": case_binlog_not_replayable_as_sql,
}
