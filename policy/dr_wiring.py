"""DR wiring: forced failover by inversion, replica keys in region, data sovereignty,
and a DR copy (or a reviewed waiver) for every primary data store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
)

from policy.common import (
    BUCKET_TYPES,
    SCHEDULER_TYPES,
    T_AZ_CONTAINER,
    T_AZ_STORAGE,
    T_HEALTH_CHECK,
    T_KMS,
    T_RDS,
    T_REPLICATION,
    T_TABLE,
    T_TABLE_REPLICA,
    PolicyContext,
    _bucket_from_arn,
    _bucket_name,
    _dep_urns,
    _fail_closed,
    _get,
    _is_map,
    _is_sovereign_tags,
    _items,
    _of,
    _plain,
    _primary_outputs,
    _res_region,
    _tags_of,
    _true,
    arn_region,
    current_context,
)


def _is_failover_switch(hc: PolicyResource) -> bool:
    """The always-healthy lever: a calculated check with no children and threshold 0."""
    p = hc.props
    return (
        p.get("type") == "CALCULATED"
        and not _items(p.get("childHealthchecks"))
        and p.get("childHealthThreshold") in (0, None)
    )


def _force_failover_by_inversion(args: StackValidationArgs, report: ReportViolation) -> None:
    checks = _of(args.resources, T_HEALTH_CHECK)
    for hc in checks:
        if _true(hc.props.get("disabled")):
            report(
                f"health check {hc.name} is disabled: Route 53 treats a disabled check as "
                "healthy, so traffic stays on the primary",
                hc.urn,
            )
        if _true(hc.props.get("invertHealthcheck")) and not _is_failover_switch(hc):
            report(
                f"health check {hc.name} is inverted but is not the failover switch: an "
                "inverted probe reports a dead primary as healthy and sends traffic back to it",
                hc.urn,
            )
    ctx = current_context(args)
    if ctx.config is None or ctx.config.role != "dr" or not ctx.config.dns.manage_records:
        return
    if ctx.config.site_stack:
        return  # a pilot-light backup stack: the site stack owns the failover records
    want = ctx.config.force_failover
    switches = [hc for hc in checks if _is_failover_switch(hc)]
    if not switches:
        report(
            "no failover switch health check: drstack:force_failover has nothing to invert",
            None,
        )
    for hc in switches:
        inverted = _true(hc.props.get("invertHealthcheck"))
        if want and not inverted:
            report(
                f"drstack:force_failover is true but the failover switch {hc.name} is not "
                "inverted: DNS stays on the primary",
                hc.urn,
            )
        if inverted and not want:
            report(
                f"the failover switch {hc.name} is inverted while drstack:force_failover is "
                "false: DNS is forced to the DR site",
                hc.urn,
            )


def _replica_kms_in_region(args: StackValidationArgs, report: ReportViolation) -> None:
    keys = _of(args.resources, T_KMS)

    def key_region(value: Any, res: PolicyResource) -> str | None:
        region = arn_region(value)
        if region:
            return region
        for key in keys:
            if key.urn in _dep_urns(res):
                return _res_region(key)
        return None

    for db in _of(args.resources, T_RDS):
        region = _res_region(db)
        source = db.props.get("replicateSourceDb")
        key = db.props.get("kmsKeyId")
        if source and not key and arn_region(source) not in (None, region):
            report(
                f"cross-region replica {db.name} has no kmsKeyId: an encrypted source needs a "
                f"KMS key in {region}",
                db.urn,
            )
            continue
        if key:
            kr = key_region(key, db)
            if kr is None:
                report(f"RDS {db.name}: cannot tell the region of kmsKeyId {key!r}", db.urn)
            elif kr != region:
                report(
                    f"RDS {db.name} in {region} uses a KMS key in {kr}: a KMS key never leaves "
                    "its region",
                    db.urn,
                )
    for rep in _of(args.resources, T_TABLE_REPLICA):
        key = rep.props.get("kmsKeyArn")
        if key and key_region(key, rep) != _res_region(rep):
            report(f"table replica {rep.name} uses a KMS key outside {_res_region(rep)}", rep.urn)
    buckets = {n: b for b in _of(args.resources, *BUCKET_TYPES) if (n := _bucket_name(b))}
    for rc in _of(args.resources, T_REPLICATION):
        for rule in _items(rc.props.get("rules")):
            key = _get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
            dest = buckets.get(_bucket_from_arn(_get(rule, "destination", "bucket")) or "")
            if key and dest is not None and key_region(key, rc) != _res_region(dest):
                report(
                    f"replication {rc.name}: replicaKmsKeyId is not in the destination "
                    f"bucket's region {_res_region(dest)}",
                    rc.urn,
                )


def _sovereign_names(args: StackValidationArgs, ctx: PolicyContext) -> set[str]:
    names: set[str] = set()
    if ctx.config is not None:
        names.update(ctx.config.sovereign_data)
        names.update(ctx.config.buckets.get(n, n) for n in ctx.config.sovereign_data)
    outputs = _primary_outputs(args, ctx)
    listed = outputs.get("sovereign_data")
    bucket_names = outputs.get("bucket_names")
    for n in _items(listed):
        names.add(str(n))
        if _is_map(bucket_names) and n in bucket_names:
            names.add(str(bucket_names[n]))
    for res in args.resources:
        if res.resource_type in (
            *BUCKET_TYPES,
            T_TABLE,
            T_TABLE_REPLICA,
            T_RDS,
        ) and _is_sovereign_tags(_tags_of(res.props, res.provider)):
            for key in ("bucket", "name", "identifier"):
                if isinstance(res.props.get(key), str):
                    names.add(res.props[key])
    return names


def _data_sovereignty(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context(args)
    sovereign = _sovereign_names(args, ctx)
    buckets = {n: b for b in _of(args.resources, *BUCKET_TYPES) if (n := _bucket_name(b))}
    for rc in _of(args.resources, T_REPLICATION):
        source = rc.props.get("bucket")
        source_bucket = buckets.get(source) if isinstance(source, str) else None
        tagged = source_bucket is not None and _is_sovereign_tags(
            _tags_of(source_bucket.props, source_bucket.provider)
        )
        if source not in sovereign and not tagged:
            continue
        source_region = _res_region(source_bucket) if source_bucket else _res_region(rc)
        for rule in _items(rc.props.get("rules")):
            dest_name = _bucket_from_arn(_get(rule, "destination", "bucket"))
            dest = buckets.get(dest_name or "")
            dest_region = _res_region(dest) if dest is not None else None
            if dest_region is None or dest_region != source_region:
                report(
                    f"sovereign bucket {source} replicates to {dest_name} in "
                    f"{dest_region or 'an unknown region'} (seed 003: customer data never "
                    "leaves its region)",
                    rc.urn,
                )
    for rep in _of(args.resources, T_TABLE_REPLICA):
        arn = rep.props.get("globalTableArn")
        table = str(arn).rsplit("/", 1)[-1] if arn else ""
        if table in sovereign and arn_region(arn) != _res_region(rep):
            report(
                f"sovereign table {table} gets a replica in {_res_region(rep)} (seed 003)",
                rep.urn,
            )
    for db in _of(args.resources, T_RDS):
        source = db.props.get("replicateSourceDb")
        ident = str(source).rsplit(":", 1)[-1] if source else ""
        if ident and ident in sovereign and arn_region(source) != _res_region(db):
            report(f"sovereign database {ident} gets a replica in {_res_region(db)}", db.urn)
    if ctx.config is not None and ctx.config.strategy == "pilot-light":
        db_ident = _primary_db_identifier(args, ctx)
        if db_ident in sovereign:
            for job in _backup_jobs(args.resources):
                report(
                    f"sovereign database {db_ident} is exported to another region/cloud by "
                    f"{job.name} (seed 003)",
                    job.urn,
                )
            if ctx.config.backup.job_stack:
                report(
                    f"sovereign database {db_ident} is exported to another region/cloud by "
                    f"the backup job of stack {ctx.config.backup.job_stack} (seed 003)",
                    None,
                )


def _primary_db_identifier(args: StackValidationArgs, ctx: PolicyContext) -> str:
    outputs = _primary_outputs(args, ctx)
    ident = outputs.get("rds_instance_id")
    if isinstance(ident, str) and ident:
        return ident
    arn = outputs.get("rds_instance_arn")
    if isinstance(arn, str) and arn:
        return arn.rsplit(":", 1)[-1]
    return ctx.config.rds.identifier if ctx.config is not None else ""


def _backup_targets(resources: list[PolicyResource]) -> list[str]:
    targets = []
    for res in _of(resources, T_AZ_CONTAINER):
        for key in ("containerName", "name"):
            if isinstance(res.props.get(key), str):
                targets.append(res.props[key])
        if not res.props.get("containerName"):
            targets.append(res.name)
    for res in _of(resources, T_AZ_STORAGE):
        if isinstance(res.props.get("accountName"), str):
            targets.append(res.props["accountName"])
    return [t for t in targets if t]


def _backup_jobs(resources: list[PolicyResource]) -> list[PolicyResource]:
    targets = _backup_targets(resources)
    jobs = []
    for res in _of(resources, *SCHEDULER_TYPES):
        text = json.dumps(_plain(res.props))
        if any(t in text for t in targets):
            jobs.append(res)
    return jobs


def _dr_copy(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context(args)
    if _fail_closed(ctx, report, "dr-copy-for-every-data-store"):
        return
    cfg = ctx.config
    assert cfg is not None
    if cfg.role != "dr":
        args.not_applicable(
            "a primary stack knows nothing about DR: its data stores are checked from the "
            "DR stack that attaches to it"
        )
        return
    if cfg.site_stack:
        args.not_applicable(
            f"a pilot-light backup stack: data-store coverage is checked on {cfg.site_stack}"
        )
        return
    outputs = _primary_outputs(args, ctx)
    sovereign = _sovereign_names(args, ctx)
    jobs = _backup_jobs(args.resources)
    job_texts = [json.dumps(_plain(j.props)) for j in jobs]
    _check_database_copy(args, ctx, outputs, sovereign, bool(jobs), report)
    _check_table_copies(args, ctx, outputs, sovereign, job_texts, report)
    _check_bucket_copies(args, ctx, outputs, sovereign, job_texts, report)


def _backed_up(name: str, job_texts: list[str]) -> bool:
    return any(name in text for text in job_texts)


def _aurora_secondary_attached(args: StackValidationArgs, outputs: Mapping[str, Any]) -> bool:
    """An Aurora secondary cluster in the primary's global database is its DR copy."""
    global_id = outputs.get("aurora_global_cluster_id")
    return bool(global_id) and any(
        cluster.props.get("globalClusterIdentifier") == global_id
        for cluster in _of(args.resources, "aws:rds/cluster:Cluster")
    )


def _check_database_copy(
    args: StackValidationArgs,
    ctx: PolicyContext,
    outputs: Mapping[str, Any],
    sovereign: set[str],
    has_jobs: bool,
    report: ReportViolation,
) -> None:
    cfg = ctx.config
    assert cfg is not None
    rds_arn = outputs.get("rds_instance_arn")
    rds_ident = _primary_db_identifier(args, ctx)
    if not rds_ident or rds_ident in sovereign or rds_ident in cfg.dr_waivers:
        return
    rdss = _of(args.resources, T_RDS)
    copy = any(
        (src := db.props.get("replicateSourceDb"))
        and (src == rds_arn or str(src).rsplit(":", 1)[-1] == rds_ident)
        for db in rdss
    )
    copy = copy or _aurora_secondary_attached(args, outputs)
    if cfg.promote_replica:
        copy = copy or any(_res_region(db) != cfg.primary_region for db in rdss)
    if cfg.strategy == "pilot-light":
        # The job may run in the stack named by backup.job_stack (next to the primary,
        # off the failover path); policy pilot-light-backup-stack-has-job checks it there.
        copy = copy or has_jobs or bool(cfg.backup.job_stack)
    if not copy:
        what = "scheduled backup job"
        if cfg.strategy == "warm-standby":
            what = "read replica" if cfg.rds.engine == "mysql" else "secondary Aurora cluster"
        report(
            f"primary database {rds_ident} has no DR copy in stack {cfg.stack} (expected a "
            f"{what} targeting it)",
            None,
        )


def _check_table_copies(
    args: StackValidationArgs,
    ctx: PolicyContext,
    outputs: Mapping[str, Any],
    sovereign: set[str],
    job_texts: list[str],
    report: ReportViolation,
) -> None:
    cfg = ctx.config
    assert cfg is not None
    table_arns = outputs.get("dynamodb_table_arns")
    tables: dict[str, str] = (
        {str(k): str(v) for k, v in table_arns.items()} if _is_map(table_arns) else {}
    )
    for name in _items(outputs.get("dynamodb_table_names")) or list(cfg.dynamodb_tables):
        tables.setdefault(str(name), "")
    replicas = _of(args.resources, T_TABLE_REPLICA)
    waived = set(cfg.dr_waivers)
    for table, arn in tables.items():
        if table in sovereign or table in waived:
            continue
        found = any(
            (g := rep.props.get("globalTableArn")) and (g == arn or str(g).endswith(f"/{table}"))
            for rep in replicas
        )
        if not found and not _backed_up(table, job_texts):
            report(
                f"primary DynamoDB table {table} has no DR copy in stack {cfg.stack} "
                "(no TableReplica and no backup job naming it)",
                None,
            )


def _check_bucket_copies(
    args: StackValidationArgs,
    ctx: PolicyContext,
    outputs: Mapping[str, Any],
    sovereign: set[str],
    job_texts: list[str],
    report: ReportViolation,
) -> None:
    cfg = ctx.config
    assert cfg is not None
    bucket_map = outputs.get("bucket_names")
    buckets = (
        [str(v) for v in bucket_map.values()] if _is_map(bucket_map) else list(cfg.buckets.values())
    )
    replications = _of(args.resources, T_REPLICATION)
    waived = set(cfg.dr_waivers)
    for bucket in buckets:
        if bucket in sovereign or bucket in waived:
            continue
        found = any(
            rc.props.get("bucket") == bucket
            and any(
                _get(rule, "status") == "Enabled" and _get(rule, "destination", "bucket")
                for rule in _items(rc.props.get("rules"))
            )
            for rc in replications
        )
        if not found and not _backed_up(bucket, job_texts):
            report(
                f"primary bucket {bucket} has no DR copy in stack {cfg.stack} (no enabled "
                "BucketReplicationConfig and no backup job naming it)",
                None,
            )


def _dr_copy_waived(args: StackValidationArgs, report: ReportViolation) -> None:
    """Advisory: every accepted data-loss waiver is printed on every preview, so it is
    reviewed again rather than forgotten."""
    ctx = current_context(args)
    if ctx.config is None or not ctx.config.dr_waivers:
        args.not_applicable("no drstack:dr_waivers")
        return
    for name, reason in sorted(ctx.config.dr_waivers.items()):
        report(f"{name} has no DR copy in stack {ctx.config.stack} by waiver: {reason}", None)
