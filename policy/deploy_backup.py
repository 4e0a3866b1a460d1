"""Deploy-time constraints of the pilot-light backup job (Kubernetes CronJob/Job on Seoul EKS).

Amazon RDS refuses ``FLUSH TABLES WITH READ LOCK``: the master user has no SUPER and RDS
allows no global read lock. A dump job that asks for it (``--master-data``/
``--source-data``, ``--lock-all-tables``, ``--flush-logs``, ``--set-gtid-purged=ON|AUTO``
with mysqldump ≥ 8.0.32) deploys fine and then fails on its first run, every run; the
MariaDB-only ``--gtid`` fails the same way against MySQL. Only ``pulumi up`` + the first
scheduled run would show it, so the preview refuses it.
"""

from __future__ import annotations

import shlex
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policy.common import _get, _items, _resource_policy
from policy.rds_dump_options import RDS_MYSQLDUMP_DOC, refused_options

T_CRON_JOB = "kubernetes:batch/v1:CronJob"
T_JOB = "kubernetes:batch/v1:Job"


def _pod_spec(args: ResourceValidationArgs) -> Any:
    if args.resource_type == T_CRON_JOB:
        return _get(args.props, "spec", "jobTemplate", "spec", "template", "spec")
    return _get(args.props, "spec", "template", "spec")


def _tokens(container: Any) -> list[str]:
    """command + args, with shell strings (sh -c "mysqldump ...") split into words."""
    words: list[str] = []
    for part in [*_items(_get(container, "command")), *_items(_get(container, "args"))]:
        if not isinstance(part, str):
            continue
        try:
            words += shlex.split(part)
        except ValueError:
            words += part.split()
    return words


def _no_global_lock_dump(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = _pod_spec(args)
    containers = [*_items(_get(spec, "initContainers")), *_items(_get(spec, "containers"))]
    for container in containers:
        refused = refused_options(_tokens(container))
        if refused:
            report(
                f"{args.resource_type.rsplit(':', 1)[-1]} {args.name} container "
                f"{_get(container, 'name', default='?')} passes {', '.join(refused)}: RDS "
                "refuses FLUSH TABLES WITH READ LOCK (no SUPER) and --gtid is MariaDB-only, "
                f"so every run would fail ({RDS_MYSQLDUMP_DOC})",
                None,
            )


POLICIES = [
    _resource_policy(
        "backup-dump-options-rds",
        "A MySQL dump job must not ask for a global read lock or MariaDB-only options: "
        "Amazon RDS refuses FLUSH TABLES WITH READ LOCK (--master-data/--source-data, "
        "--lock-all-tables, --flush-logs, --set-gtid-purged=ON|AUTO on mysqldump 8.0.32+) "
        f"and MySQL has no --gtid. {RDS_MYSQLDUMP_DOC}",
        (T_CRON_JOB, T_JOB),
        _no_global_lock_dump,
        "Run `python -m drctl.pilotlight backup`, which picks the options by the server's "
        "flavour (for MySQL: --single-transaction --set-gtid-purged=OFF, and the binlog "
        "position read separately), or drop the listed options from the job's command.",
    )
]
