"""The sandbox runs production's entry points, not production's internals (read with ``ast``).

Where production runs a command line (the backup CronJob, the binlog archiver
Deployment, the Azure restore job: ``drctl backup``, ``drctl binlog-archive``, ``drctl
restore``), a sandbox scenario must run that command line too
(``drctl.sandbox.production_jobs``), not call the functions behind it: a drill that calls
``run_pitr`` itself passed while the restore job production runs never replayed the
archive. So:

- no module under ``scripts/drctl/sandbox/`` names a job internal (``JOB_INTERNALS``),
  whether imported, called through a module, or reached as an attribute;
- every production module the sandbox imports is in ``ALLOWED`` with the reason it is
  an entry point, an adapter whose endpoint the sandbox swaps, or a read-only helper.
  A new import fails here until someone writes down why it is not a shortcut.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ROOT / "scripts" / "drctl" / "sandbox"

# Functions and classes behind a command line production runs. The entry point to use
# instead is named with each.
JOB_INTERNALS = {
    "run_backup": "the backup CronJob's command line (components/backup_job.py)",
    "BinlogArchiver": "the archiver Deployment's command line (components/binlog_archiver.py)",
    "ArchiverOptions": "the archiver Deployment's command line (components/binlog_archiver.py)",
    "run_restore": "the restore job's command line (components/azure_restore_job.py)",
    "plan_pitr": "the restore job's command line (--to-latest)",
    "run_pitr": "the restore job's command line (--to-latest)",
    "replay_chain": "the restore job's command line (--to-latest)",
    "restore_to_point": "the restore job's command line (--to-latest)",
    "RestoreOptions": "the restore job's command line (components/azure_restore_job.py)",
    "BackupOptions": "the backup CronJob's command line (components/backup_job.py)",
}
# Whole modules that are only the insides of those commands.
JOB_MODULES = (
    "drctl.pilotlight.backup",
    "drctl.pilotlight.restore",
    "drctl.pilotlight.commands",
    "drctl.pilotlight.swap",
    "drctl.pilotlight.dump_stream",
    "drctl.binlog.archiver",
    "drctl.binlog.command",
    "drctl.binlog.pitr",
    "drctl.binlog.pitr_command",
    "drctl.binlog.replay",
)

_ENGINE = (
    "the failover engine's own steps, as `drctl failover` and the Lambda run them; the "
    "sandbox passes adapters for its endpoints (moto's RDS cannot promote a MariaDB)"
)
# Every production module the sandbox may import, and why that is not a shortcut.
ALLOWED = {
    "components.azure_backup_access": "the SAS permissions the site stack grants each job",
    "components.azure_restore_job": "restore_command/target_dsn: the restore job's argv, run as is",
    "components.backup_job": "backup_command: the backup CronJob's argv, run as is",
    "components.binlog_archiver": "archiver_command: the archiver Deployment's argv, run as is",
    "components.settings": "BackupConfig's shipped defaults for the backup job's flags",
    "drctl.failover.runner": _ENGINE,
    "drctl.failover.steps": _ENGINE,
    "drctl.failover.planned": _ENGINE,
    "drctl.failover.state": _ENGINE,
    "drctl.failover.protocols": "the adapter interfaces the sandbox's adapters implement",
    "drctl.failover.guards": "the lag guard's decision, as the Lambda takes it",
    "drctl.failover.positions": "executed-binlog-position proof: the failback catch-up production uses",
    "drctl.failover.route53": "production's DNS adapter, pointed at moto",
    "drctl.failover.rds": "CloudWatchLagReader: production's ReplicaLag reader, pointed at "
    "moto's CloudWatch (lag_publisher injects RDS's documented -1)",
    "drctl.failover.lag": "production's reading of a lag (negative is unknown)",
    "drctl.failover.rds_fence": "production's parameter-group fence, pointed at moto with "
    "RDS's apply states injected (rds_apply_states)",
    "drctl.failover.health": "production's health probe, pointed at the app process",
    "drctl.failover.lock": "production's lock adapter, pointed at moto",
    "drctl.failover.primary_probe": "production's primary-region probe, pointed at moto",
    "drctl.alert_webhook": "the alert webhook's receiver and decision, as its service runs them",
    "drctl.exporter": "drctl exporter's registry, served in-process with the sandbox's lag "
    "reader (listed in the drill's not-covered list)",
    "drctl.aws": "the client factory, pointed at moto",
    "drctl.pilotlight.storage": "open_container and Azurite's account: endpoints only",
    "drctl.pilotlight.catalog": "list_backups: reads the catalog to measure backup age and "
    "count backups; changes nothing",
    "drctl.binlog.segments": "list_segments: counts committed segments for the report",
    "drctl.mysql_dsn": "DSN plumbing",
    "drctl.mysql_tools": "finds the MariaDB binaries",
    "drctl.command_support": "one-line errors and exit codes of `drctl drill`",
    "drctl.report": "writes the drill's report",
    "drctl.timeline": "the drill's timeline",
    "observability.metrics": "metric names Prometheus is queried for",
    "observability.stack_config": "the shipped Prometheus/Alertmanager configuration, at "
    "sandbox timings",
    "policy.budget_modes": "the budget model's prediction the drill's report compares with",
    "stacks.config": "reads the shipped stack files' objectives; declares nothing",
    "observability.rules": "alert names Prometheus is asked about",
}


def _sandbox_modules() -> list[Path]:
    return sorted(SANDBOX.rglob("*.py"))


PACKAGE_DIRS = {
    "drctl": ROOT / "scripts" / "drctl",
    "components": ROOT / "components",
    "stacks": ROOT / "stacks",
    "policy": ROOT / "policy",
    "observability": ROOT / "observability",
}


def _is_module(name: str) -> bool:
    top, _, rest = name.partition(".")
    folder = PACKAGE_DIRS.get(top)
    if folder is None:
        return False
    path = folder.joinpath(*rest.split(".")) if rest else folder
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(tree: ast.AST) -> Iterator[str]:
    """Every module an import statement reaches (``from pkg import module`` included)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if _is_module(submodule) else node.module


def _names(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.alias):
            yield node.name.rpartition(".")[2]


def _is_production(module: str) -> bool:
    top = module.split(".")[0]
    if module == "drctl" or module.startswith("drctl.sandbox"):
        return False
    return top in {"drctl", "components", "stacks", "policy", "observability"}


def _job_internals_named(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename)
    found = {
        f"{filename}: {name} (run {JOB_INTERNALS[name]})"
        for name in _names(tree)
        if name in JOB_INTERNALS
    }
    for module in _imports(tree):
        if module in JOB_MODULES or any(module.startswith(m + ".") for m in JOB_MODULES):
            found.add(f"{filename}: imports {module}")
    return sorted(found)


def _unexplained_imports(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename)
    return sorted(
        {
            f"{filename}: {module}"
            for module in _imports(tree)
            if _is_production(module) and module not in ALLOWED
        }
    )


def test_the_scan_sees_the_sandbox() -> None:
    # Guards the guard: a path slip would make the checks below pass on nothing.
    names = {p.name for p in _sandbox_modules()}
    assert {"scenarios.py", "pilot_light_adapter.py", "production_jobs.py"} <= names


@pytest.mark.parametrize("path", _sandbox_modules(), ids=lambda p: p.name)
def test_sandbox_calls_no_job_internal(path: Path) -> None:
    assert _job_internals_named(path.read_text(), path.name) == []


@pytest.mark.parametrize("path", _sandbox_modules(), ids=lambda p: p.name)
def test_every_production_import_of_the_sandbox_has_a_reason(path: Path) -> None:
    assert _unexplained_imports(path.read_text(), path.name) == []


def test_the_guard_catches_the_shortcuts_it_exists_for() -> None:
    """The drill's old pilot light, in miniature: each shortcut is reported."""
    old = (
        "from drctl.binlog.pitr import plan_pitr, run_pitr\n"
        "from drctl.pilotlight import restore\n"
        "import drctl.binlog.archiver\n"
        "def promote(c, dsn, options):\n"
        "    plan = plan_pitr(c, 'db', None)\n"
        "    return restore.run_restore(c, dsn, options)\n"
        "def archive(dsn, c):\n"
        "    return drctl.binlog.archiver.BinlogArchiver(dsn, c)\n"
    )
    found = _job_internals_named(old, "old.py")
    assert "old.py: imports drctl.binlog.pitr" in found
    assert "old.py: imports drctl.binlog.archiver" in found
    assert "old.py: imports drctl.pilotlight.restore" in found
    for name in ("plan_pitr", "run_pitr", "run_restore", "BinlogArchiver"):
        assert any(f": {name} (run " in line for line in found), name
    assert _unexplained_imports("from drctl.failover.aurora import X\n", "new.py") == [
        "new.py: drctl.failover.aurora"
    ]
    assert _unexplained_imports("from drctl import iac_sync\n", "new.py") == [
        "new.py: drctl.iac_sync"
    ]


def test_the_allow_list_names_no_job_module() -> None:
    assert not set(ALLOWED) & set(JOB_MODULES)
    assert all(reason.strip() for reason in ALLOWED.values())


def test_what_stays_in_process_is_reported_as_not_covered() -> None:
    """The allow-list's in-process exporter and the pilot light's engine-driven phases are
    kept differences: the drill must say so in every report."""
    from drctl.sandbox.drill import NOT_COVERED

    text = " ".join(NOT_COVERED)
    for kept in ("drctl exporter", "control planes", "restore job's own command line"):
        assert kept in text, kept
