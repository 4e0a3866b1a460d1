"""Deploy-time constraints of continuous binlog archiving (pilot light).

Two stacks share one promise: ``azure-pilot`` budgets its RPO on an archiver (flush
interval + one segment upload) that ``azure-pilot-backup`` declares. Nothing in Pulumi
ties them: each `up` succeeds alone, and a site that promises 2 minutes while the job
stack runs no archiver loses up to a dump interval plus a dump in a disaster. So the
two stack files must agree on ``backup.binlog_archive`` and
``backup.binlog_flush_seconds``: checked in the backup stack against the site's outputs
(its StackReference, read from the state backend), and in the site stack against the
job stack's file (the site is deployed first, so it cannot read the job stack's state).

And the primary's parameter group (row-based binlog, what replay relies on) must be of
the instance's engine family: RDS refuses another family at `up` time. It must also
keep what the replay decodes with: whole rows (``binlog_row_image=FULL``) and their
column names (``binlog_row_metadata=FULL``). Without the names, the replay as the Azure
admin has no SQL to write: nothing in AWS refuses the group, the restore does, in a
disaster, so the rule is checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policy.common import (
    T_RDS,
    _get,
    _of,
    _stack_file_config,
    _stack_policy,
    current_context,
)

T_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
DOC_ROW_METADATA = (
    "https://dev.mysql.com/doc/refman/8.0/en/replication-options-binary-log.html"
    "#sysvar_binlog_row_metadata"
)
# What drctl.binlog.replay needs of every row event (components.sql_binlog sets them).
REPLAY_PARAMETERS = {
    "binlog_format": "ROW",
    "binlog_row_image": "FULL",
    "binlog_row_metadata": "FULL",
}
DOC_PARAMETER_GROUPS = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html"
)
_KEYS = ("binlog_archive", "binlog_flush_seconds")


def _own_settings(cfg: Any) -> dict[str, Any]:
    return {
        "binlog_archive": bool(cfg.backup.binlog_archive),
        "binlog_flush_seconds": int(cfg.backup.binlog_flush_seconds),
    }


def _differences(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    return [
        f"backup.{key} is {mine[key]!r} here but {theirs.get(key)!r} there"
        for key in _KEYS
        if theirs.get(key) != mine[key]
    ]


def _stack_settings(stack: str) -> dict[str, Any]:
    """The binlog settings in another stack's file (Pulumi.<stack>.yaml)."""
    from stacks.config import parse_config

    name = stack.split("/")[-1]
    flat, secret_keys = _stack_file_config(name)
    return _own_settings(parse_config(name, flat, secret_keys))


def _binlog_settings_agree(args: StackValidationArgs, report: ReportViolation) -> None:
    cfg = current_context(args).config
    if cfg is None or cfg.strategy != "pilot-light":
        args.not_applicable("not a pilot-light stack")
        return
    # The backup stack names its site; the site names its job stack.
    other = cfg.site_stack or cfg.backup.job_stack
    if not other:
        args.not_applicable("no backup job stack")
        return
    try:
        theirs = _stack_settings(other)
    except Exception as exc:
        report(f"cannot read the config of stack {other}: {exc}", None)
        return
    for difference in _differences(_own_settings(cfg), theirs):
        report(f"stack {cfg.stack} and stack {other} disagree: {difference}", None)


def _family_of(engine_version: Any) -> str:
    return "mysql" + ".".join(str(engine_version).split(".")[:2])


def _parameter_family_matches(args: StackValidationArgs, report: ReportViolation) -> None:
    families = {
        str(_get(group.props, "name")): str(_get(group.props, "family"))
        for group in _of(args.resources, T_PARAMETER_GROUP)
    }
    for db in _of(args.resources, T_RDS):
        group = _get(db.props, "parameterGroupName")
        version = _get(db.props, "engineVersion")
        if _get(db.props, "engine") != "mysql" or not group or not version:
            continue
        family = families.get(str(group))
        if family is not None and family != _family_of(version):
            report(
                f"{db.name} runs MySQL {version} but its parameter group {group} is of "
                f"family {family}; RDS needs {_family_of(version)}",
                db.urn,
            )


def _group_parameters(group: Any) -> dict[str, str]:
    return {
        str(_get(p, "name")).lower(): str(_get(p, "value")).upper()
        for p in _get(group.props, "parameters", default=[]) or []
    }


def _replay_parameters_set(args: StackValidationArgs, report: ReportViolation) -> None:
    groups = {str(_get(g.props, "name")): g for g in _of(args.resources, T_PARAMETER_GROUP)}
    for db in _of(args.resources, T_RDS):
        group = groups.get(str(_get(db.props, "parameterGroupName")))
        if _get(db.props, "engine") != "mysql" or group is None:
            continue
        found = _group_parameters(group)
        missing = [f"{k}={v}" for k, v in REPLAY_PARAMETERS.items() if found.get(k) != v]
        if missing:
            report(
                f"{db.name}'s parameter group {_get(group.props, 'name')} lacks "
                f"{', '.join(missing)}: the archived binlog could not be replayed as plain "
                "SQL (no column names) by the restore's account",
                group.urn,
            )


POLICIES = [
    _stack_policy(
        "binlog-archive-agrees",
        "azure-pilot budgets its RPO on the binlog archiver azure-pilot-backup declares: "
        "both stack files set the same backup.binlog_archive and "
        "backup.binlog_flush_seconds (nothing in Pulumi ties two stacks together).",
        _binlog_settings_agree,
        "Set backup.binlog_archive and backup.binlog_flush_seconds to the same values in "
        "Pulumi.azure-pilot.yaml and Pulumi.azure-pilot-backup.yaml; `pulumi up` the site "
        "first, then the backup stack.",
    ),
    _stack_policy(
        "rds-parameter-group-family",
        "An RDS instance's parameter group is of its engine's family (mysql8.0 for "
        "MySQL 8.0.x); RDS refuses another family at deploy time. " + DOC_PARAMETER_GROUPS,
        _parameter_family_matches,
        "Create the group with family mysql<major>.<minor> of rds.engine_version "
        "(components.sql_binlog.mysql_parameter_family).",
    ),
    _stack_policy(
        "binlog-replayable-as-sql",
        "The primary's parameter group sets binlog_format=ROW, binlog_row_image=FULL and "
        "binlog_row_metadata=FULL: the point-in-time replay writes plain SQL from the "
        "column names in table map events, because Azure's admin may not run "
        "mysqlbinlog's BINLOG statements. " + DOC_ROW_METADATA,
        _replay_parameters_set,
        "Keep the three parameters in components.sql_binlog.binlog_parameter_group.",
    ),
]
