"""The metric names the rules, the exporters and the dashboards agree on.

``drstack_*`` come from ``drctl exporter``; ``probe_success`` from blackbox_exporter;
``mysql_slave_status_*`` from mysqld_exporter (it runs ``SHOW SLAVE STATUS``).
"""

from __future__ import annotations

# drctl exporter (prometheus-client)
BACKUP_UP = "drstack_backup_up"
BACKUP_LAST_SUCCESS = "drstack_backup_last_success_timestamp_seconds"
BACKUP_LAST_SIZE = "drstack_backup_last_size_bytes"
BACKUP_LAST_UNCOMPRESSED = "drstack_backup_last_uncompressed_bytes"
BACKUP_LAST_VERIFIABLE = "drstack_backup_last_checksummed"
BACKUP_COUNT = "drstack_backups"
REPLICA_LAG = "drstack_replica_lag_seconds"
REPLICA_LAG_KNOWN = "drstack_replica_lag_known"
FAILOVER_ACTIVE = "drstack_failover_run_active"
FAILOVER_LAST_FINISHED = "drstack_failover_last_finished_timestamp_seconds"
FAILOVER_RUNS = "drstack_failover_runs"
BINLOG_CHECKED = "drstack_binlog_archiver_checked_timestamp_seconds"
BINLOG_LAG = "drstack_binlog_archiver_lag_seconds"
BINLOG_LAST_EVENT = "drstack_binlog_last_archived_event_timestamp_seconds"
# Binlog the source purged before it was archived, while a kept dump's replay crosses it.
BINLOG_GAPS = "drstack_binlog_archive_gaps"
# One series per gap ({start, end} positions): they exist only while a gap does, so they
# are not in EXPORTER_METRICS (the dashboard's and the drill's every-metric-seen checks).
BINLOG_GAP_START = "drstack_binlog_archive_gap_start_timestamp_seconds"
BINLOG_GAP_END = "drstack_binlog_archive_gap_end_timestamp_seconds"
# Per source of drctl exporter: 1 if it answered within this scrape's budget; and how
# long ago it last did (a source that does not answer shows no value, never its last).
EXPORTER_SOURCE_UP = "drstack_exporter_source_up"
EXPORTER_SOURCE_AGE = "drstack_exporter_source_last_success_age_seconds"
# The drstack-drctl job's scrape_timeout in prometheus.yml: a scrape must answer within it.
DRCTL_SCRAPE_TIMEOUT_SECONDS = 10.0

EXPORTER_METRICS = (
    BACKUP_UP,
    BACKUP_LAST_SUCCESS,
    BACKUP_LAST_SIZE,
    BACKUP_LAST_UNCOMPRESSED,
    BACKUP_LAST_VERIFIABLE,
    BACKUP_COUNT,
    REPLICA_LAG,
    REPLICA_LAG_KNOWN,
    FAILOVER_ACTIVE,
    FAILOVER_LAST_FINISHED,
    FAILOVER_RUNS,
    BINLOG_CHECKED,
    BINLOG_LAG,
    BINLOG_LAST_EVENT,
    BINLOG_GAPS,
    EXPORTER_SOURCE_UP,
    EXPORTER_SOURCE_AGE,
)

# Prometheus itself: 1 if the target's last scrape succeeded (within scrape_timeout).
SCRAPE_UP = "up"
# blackbox_exporter
PROBE_SUCCESS = "probe_success"
PROBE_DURATION = "probe_duration_seconds"
# mysqld_exporter (collector slave_status, on by default)
MYSQL_LAG = "mysql_slave_status_seconds_behind_master"
MYSQL_IO_RUNNING = "mysql_slave_status_slave_io_running"
MYSQL_SQL_RUNNING = "mysql_slave_status_slave_sql_running"

# Scrape job names (observability/prometheus.yml and the sandbox use the same).
JOB_PRIMARY = "drstack-primary"
JOB_STANDBY = "drstack-standby"
JOB_MYSQL = "drstack-standby-mysql"
JOB_DRCTL = "drstack-drctl"
