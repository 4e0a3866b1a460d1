"""Detection in the sandbox with the real monitoring stack, all on 127.0.0.1.

Prometheus (the shipped rules, rendered with sandbox timings), Alertmanager (webhook to
drctl), blackbox_exporter (probes each region's /health), mysqld_exporter (the Tokyo
replica) and ``drctl exporter`` (backups, lag, run state). Scrape targets follow the
scenarios through file_sd files, rewritten whenever the sandbox starts a new app or
database. Every process runs under the drill's ProcessSupervisor (stopped by PID).

Timings are scaled down (Route 53 probes every 10 s, failing after 3): here every
``SCRAPE_SECONDS`` with the same failure count. Only ``for:`` and thresholds change;
the rule expressions, labels and annotations are the shipped ones.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from drctl.alert_webhook import AlertInbox, AlertWebhook, ReceivedAlert
from drctl.exporter import ExporterSources, budget_for, make_registry
from drctl.sandbox.environment import SandboxEnvironment
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.mariadb_adapter import MariaDbDatabase
from drctl.sandbox.paths import REPO_ROOT
from drctl.sandbox.ports import free_port, wait_for_port
from drctl.sandbox.processes import ManagedProcess, ProcessSupervisor
from observability import metrics as m
from observability.rules import RuleTiming, render_rules
from observability.stack_config import DR_STACKS, load_stack_config

SHIPPED_BLACKBOX = REPO_ROOT / "observability" / "blackbox.yml"
SCRAPE_SECONDS = 0.5
SCRAPE_TIMEOUT_MS = int(SCRAPE_SECONDS * 900)
FAILURES = 3  # the stacks' dns.health_check.failure_threshold
BINARIES = {
    "prometheus": "prometheus",
    "alertmanager": "prometheus-alertmanager",
    "blackbox": "prometheus-blackbox-exporter",
    "mysqld": "prometheus-mysqld-exporter",
}


def sandbox_timing(backup_interval: float) -> RuleTiming:
    detect = SCRAPE_SECONDS * FAILURES
    return RuleTiming(
        probe_interval_seconds=SCRAPE_SECONDS,
        detection_seconds=detect,
        lag_limit_seconds=5.0,
        lag_for_seconds=detect,
        standby_for_seconds=detect,
        # interval + a margin for the dump/upload, as the budget's backup RPO.
        backup_max_age_seconds=backup_interval + 2.0,
        failover_recent_seconds=60.0,
    )


def timing_statement(timing: RuleTiming) -> str:
    return (
        f"Prometheus scrapes and evaluates every {SCRAPE_SECONDS:g}s (production: Route 53 "
        f"and blackbox every 10s); primary-down `for:` {timing.detection_seconds:g}s "
        f"({FAILURES} failed probes, production 30s); lag/standby `for:` "
        f"{timing.lag_for_seconds:g}s; backup-age threshold {timing.backup_max_age_seconds:g}s "
        "(production: the budget's backup interval + dump/upload)"
    )


def monitoring_available() -> str | None:
    """None if every binary is installed, else the first missing one."""
    return next((b for b in BINARIES.values() if shutil.which(b) is None), None)


@dataclass
class Monitoring:
    env: SandboxEnvironment
    supervisor: ProcessSupervisor
    workdir: Path
    timing: RuleTiming
    inbox: AlertInbox = field(default_factory=AlertInbox)
    ports: dict[str, int] = field(default_factory=dict)
    _webhook: AlertWebhook | None = None
    _exporter: Any = None
    _mysqld: ManagedProcess | None = None
    _mysqld_for: MariaDBServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None
    _targets: dict[str, str] = field(default_factory=dict)

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['prometheus']}"

    # --- start / stop ---------------------------------------------------------------

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._webhook = AlertWebhook(self.inbox)
        self._webhook.start()
        self._start_exporter()
        self._write_targets(force=True)
        self._start("blackbox", self._blackbox_argv())
        self._start("alertmanager", self._alertmanager_argv())
        self._start("prometheus", self._prometheus_argv())
        self._watcher = threading.Thread(target=self._watch, daemon=True, name="sd-watcher")
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        for child in list(self.supervisor.children()):
            if child.name.startswith("monitor-"):
                self.supervisor.stop(child, timeout=5)
        if self._exporter is not None:
            self._exporter.shutdown()
        if self._webhook is not None:
            self._webhook.stop()

    def _start(self, name: str, argv: list[str]) -> ManagedProcess:
        port = self.ports[name]
        child = self.supervisor.start(f"monitor-{name}", argv)
        if not wait_for_port(port, 20):
            tail = child.log_tail(15)
            self.supervisor.stop(child, timeout=2)
            raise RuntimeError(f"{name} did not start on 127.0.0.1:{port}:\n{tail}")
        return child

    # --- the drctl exporter, in-process ------------------------------------------

    def _start_exporter(self) -> None:
        from prometheus_client import start_http_server

        sources = ExporterSources(
            stack="sandbox",
            container=self.env.backup_container(),
            lag_reader=self._tokyo_lag,
            state_dir=self.workdir.parent / "runs",
        )
        # As in production: the sources get 70% of this job's scrape_timeout (below).
        budget = budget_for(SCRAPE_TIMEOUT_MS / 1000)
        registry = make_registry(sources, budget_seconds=budget)
        server, _thread = start_http_server(0, addr="127.0.0.1", registry=registry)
        self._exporter = server
        self.ports["exporter"] = int(server.server_port)

    def _tokyo(self) -> MariaDBServer | None:
        return next((s for s in reversed(self.env.servers) if s.name == "tokyo-db"), None)

    def _tokyo_lag(self) -> float | None:
        tokyo = self._tokyo()
        return None if tokyo is None else MariaDbDatabase(tokyo).replica_lag_seconds()

    # --- configs ----------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.workdir / name

    def _blackbox_argv(self) -> list[str]:
        self.ports["blackbox"] = free_port()
        # The shipped module, with a timeout that fits the scaled-down scrape interval.
        config = yaml.safe_load(SHIPPED_BLACKBOX.read_text(encoding="utf-8"))
        config["modules"]["http_health"]["timeout"] = f"{int(SCRAPE_SECONDS * 800)}ms"
        self._path("blackbox.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        return [
            BINARIES["blackbox"],
            f"--config.file={self._path('blackbox.yml')}",
            f"--web.listen-address=127.0.0.1:{self.ports['blackbox']}",
        ]

    def _alertmanager_argv(self) -> list[str]:
        self.ports["alertmanager"] = free_port()
        assert self._webhook is not None
        config = {
            "route": {
                "receiver": "drctl",
                "group_by": ["alertname", "stack"],
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {
                    "name": "drctl",
                    "webhook_configs": [{"url": self._webhook.url, "send_resolved": True}],
                }
            ],
        }
        self._path("alertmanager.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        return [
            BINARIES["alertmanager"],
            f"--config.file={self._path('alertmanager.yml')}",
            f"--storage.path={self._path('alertmanager-data')}",
            f"--web.listen-address=127.0.0.1:{self.ports['alertmanager']}",
            "--cluster.listen-address=",  # no gossip port: one local instance
        ]

    def _prometheus_argv(self) -> list[str]:
        self.ports["prometheus"] = free_port()
        rule_files = []
        for stack in DR_STACKS:
            path = self._path(f"{stack}.rules.yml")
            path.write_text(render_rules(load_stack_config(stack), self.timing), encoding="utf-8")
            rule_files.append(str(path))
        interval = f"{int(SCRAPE_SECONDS * 1000)}ms"

        def probe_job(job: str, targets: str) -> dict[str, Any]:
            return {
                "job_name": job,
                "metrics_path": "/probe",
                "params": {"module": ["http_health"]},
                "file_sd_configs": [{"files": [str(self._path(targets))]}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {
                        "target_label": "__address__",
                        "replacement": f"127.0.0.1:{self.ports['blackbox']}",
                    },
                ],
            }

        config = {
            "global": {
                "scrape_interval": interval,
                "scrape_timeout": f"{SCRAPE_TIMEOUT_MS}ms",
                "evaluation_interval": interval,
            },
            "rule_files": rule_files,
            "alerting": {
                "alertmanagers": [
                    {"static_configs": [{"targets": [f"127.0.0.1:{self.ports['alertmanager']}"]}]}
                ]
            },
            "scrape_configs": [
                probe_job(m.JOB_PRIMARY, "primary.json"),
                probe_job(m.JOB_STANDBY, "standby.json"),
                {
                    "job_name": m.JOB_MYSQL,
                    "file_sd_configs": [{"files": [str(self._path("mysql.json"))]}],
                },
                {
                    "job_name": m.JOB_DRCTL,
                    "static_configs": [{"targets": [f"127.0.0.1:{self.ports['exporter']}"]}],
                },
            ],
        }
        self._path("prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        return [
            BINARIES["prometheus"],
            f"--config.file={self._path('prometheus.yml')}",
            f"--storage.tsdb.path={self._path('prometheus-data')}",
            f"--web.listen-address=127.0.0.1:{self.ports['prometheus']}",
        ]

    # --- targets that follow the scenarios --------------------------------------

    def _write_targets(self, force: bool = False) -> None:
        apps = self.env.apps
        wanted = {
            "primary.json": apps["seoul"].url + "/health" if "seoul" in apps else "",
            "standby.json": apps["tokyo"].url + "/health" if "tokyo" in apps else "",
        }
        tokyo = self._tokyo()
        if tokyo is not self._mysqld_for:
            self._restart_mysqld(tokyo)
        mysqld = f"127.0.0.1:{self.ports['mysqld']}" if self._mysqld is not None else ""
        wanted["mysql.json"] = mysqld
        for name, target in wanted.items():
            if not force and self._targets.get(name) == target:
                continue
            groups = [{"targets": [target], "labels": {}}] if target else []
            tmp = self._path(name + ".tmp")
            tmp.write_text(json.dumps(groups), encoding="utf-8")
            tmp.replace(self._path(name))  # atomic: Prometheus never reads half a file
            self._targets[name] = target

    def _restart_mysqld(self, tokyo: MariaDBServer | None) -> None:
        if self._mysqld is not None:
            self.supervisor.stop(self._mysqld, timeout=5)
            self._mysqld = None
        self._mysqld_for = tokyo
        if tokyo is None:
            return
        self.ports["mysqld"] = free_port()
        # root over the unix socket, which needs no password (0.14 refuses a my.cnf
        # without one, so the DSN goes in the environment it documents).
        self._mysqld = self.supervisor.start(
            "monitor-mysqld",
            [BINARIES["mysqld"], f"--web.listen-address=127.0.0.1:{self.ports['mysqld']}"],
            env={**os.environ, "DATA_SOURCE_NAME": f"root@unix({tokyo.socket})/"},
        )

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self._write_targets()
            except Exception:  # a server mid-teardown: the next pass catches up
                continue

    # --- waiting on alerts ------------------------------------------------------

    def wait_for_alert(
        self, name: str, stack: str, after: float, timeout: float = 30.0
    ) -> ReceivedAlert | None:
        def match(alert: ReceivedAlert) -> bool:
            return (
                alert.name == name
                and alert.status == "firing"
                and alert.labels.get("stack") == stack
                and alert.starts_at >= after
            )

        return self.inbox.wait_for(match, timeout)

    def wait_until_quiet(self, name: str, stack: str, timeout: float = 10.0) -> None:
        """Wait until Prometheus itself has ``name`` not firing (a clean baseline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.firing(name, stack):
                return
            time.sleep(SCRAPE_SECONDS)

    def firing(self, name: str, stack: str) -> bool:
        import urllib.request

        with urllib.request.urlopen(f"{self.prometheus_url}/api/v1/alerts", timeout=2) as r:
            alerts = json.loads(r.read())["data"]["alerts"]
        return any(
            a["labels"].get("alertname") == name
            and a["labels"].get("stack") == stack
            and a["state"] == "firing"
            for a in alerts
        )

    def metric_names(self) -> list[str]:
        """Every metric name Prometheus has stored during this drill."""
        import urllib.request

        url = f"{self.prometheus_url}/api/v1/label/__name__/values"
        with urllib.request.urlopen(url, timeout=5) as response:
            return sorted(json.loads(response.read())["data"])
