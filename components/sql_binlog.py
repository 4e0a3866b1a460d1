"""The MySQL server's binlog settings for the binlog archive: a DB parameter group.

Used by RdsReplica for the primary (the instance the archiver reads).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def mysql_parameter_family(engine_version: str) -> str:
    """``8.0.39`` or ``8.0`` -> ``mysql8.0``: RDS refuses a group of another family."""
    major_minor = ".".join(engine_version.split(".")[:2])
    return f"mysql{major_minor}"


def binlog_parameter_group(
    name: str,
    *,
    identifier: str,
    engine_version: str,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.rds.ParameterGroup:
    """The binlog settings point-in-time recovery from the archived binlog relies on.

    ROW: replay keeps only the dumped database's events (exact for row events only; a
    statement is filed under the session's default database, whatever tables it
    writes), and a row event replays the same way on any server. binlog_row_image
    FULL: each event carries whole rows. binlog_row_metadata FULL (MySQL 8.0.14+):
    each table map event also carries the column names, primary key and signedness,
    from which the replay writes plain INSERT/UPDATE/DELETE, since the restore's
    account (Azure's admin) may not run mysqlbinlog's ``BINLOG '...'`` statements
    (https://dev.mysql.com/doc/refman/8.0/en/replication-options-binary-log.html#sysvar_binlog_row_metadata;
    an RDS parameter group sets it, as in ClickHouse's RDS MySQL CDC guide
    https://clickhouse.com/docs/integrations/clickpipes/mysql/source/rds).
    All three are dynamic parameters, applied at once to an instance already in the
    group; but *associating* the group with an existing instance (the first `up`
    after this change) takes effect only after a manual reboot (RDS User Guide "Associating a DB parameter group";
    terraform-provider-aws #40089: not even with apply_immediately).
    """
    family = mysql_parameter_family(engine_version)
    return aws.rds.ParameterGroup(
        f"{name}-binlog-params",
        # The family is in the name: an engine upgrade (8.0 -> 8.4) creates the new
        # group before the old one, still in use, is deleted.
        name=f"{identifier}-{family.replace('.', '-')}",
        family=family,
        description=f"{identifier}: row-based binlog for the binlog archive",
        parameters=[
            aws.rds.ParameterGroupParameterArgs(name="binlog_format", value="ROW"),
            aws.rds.ParameterGroupParameterArgs(name="binlog_row_image", value="FULL"),
            aws.rds.ParameterGroupParameterArgs(name="binlog_row_metadata", value="FULL"),
        ],
        tags=tags,
        opts=opts,
    )
