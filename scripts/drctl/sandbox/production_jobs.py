"""Production's pilot-light jobs, run by their own command lines with only endpoints swapped.

Three jobs move the pilot light's data in production, each a container whose command
line a component declares:
- the dump CronJob in Seoul (``components.backup_job.backup_command``),
- the binlog archiver Deployment beside it (``components.binlog_archiver.archiver_command``),
- the one-shot restore job in Azure (``components.azure_restore_job.restore_command``).

The sandbox runs exactly those argv lists as subprocesses. Only what a container runtime
supplies is swapped, never a flag:
- the environment: the variable names each component sets, with values that point at
  the local MariaDB, Azurite and moto. Where production's pod gets AWS credentials from
  EKS Pod Identity, the sandbox adds ``AWS_ENDPOINT_URL`` and moto's static keys;
- the volumes: container paths (``/spool``, ``/tmp``) become sandbox directories;
- ``python``: the interpreter drctl is installed in, first on ``PATH`` (the image's).

The database credential reaches the Seoul jobs as in production: ``DRCTL_SOURCE_SECRET_ARN``
names a Secrets Manager secret (moto's) holding the master user, which the component's
``SECRET_TO_DSN`` step turns into ``DRCTL_SOURCE_DSN`` before it execs drctl. The storage
credential is a container SAS with the permissions the site stack grants each job.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.storage.blob import generate_container_sas

from components.azure_backup_access import READER_PERMISSIONS, WRITER_PERMISSIONS
from components.azure_restore_job import restore_command, target_dsn
from components.backup_job import CONNECTION_STRING_ENV, backup_command
from components.binlog_archiver import HEARTBEAT_FILE, SPOOL_DIR, archiver_command
from components.settings import BackupConfig
from drctl.pilotlight.storage import AZURITE_ACCOUNT, AZURITE_KEY, DEFAULT_CONTAINER
from drctl.sandbox.environment import (
    REGIONS,
    SandboxEnvironment,
    backup_source_dsn,
    restore_target_dsn,
)
from drctl.sandbox.mariadb import MariaDBServer

# What a container inherits from its image besides the variables the component sets.
_IMAGE_ENV = ("HOME", "LANG", "LC_ALL", "TZ")
# Stand-ins for EKS Pod Identity's credentials: moto accepts any static key.
_MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class JobSpec:
    """One production container: its command line unchanged, its environment and volumes
    pointing at the sandbox."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    mounts: Mapping[str, Path] = field(default_factory=dict)

    def host_argv(self) -> list[str]:
        return [_remount(arg, self.mounts) for arg in self.argv]

    def host_env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in _IMAGE_ENV if name in os.environ}
        # The image's `python` is the one drctl is installed in.
        path = os.environ.get("PATH", os.defpath)
        env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), path))
        if "/tmp" in self.mounts:
            env["TMPDIR"] = str(self.mounts["/tmp"])
        return {**env, **self.env}


def _remount(arg: str, mounts: Mapping[str, Path]) -> str:
    for inside, outside in mounts.items():
        if arg == inside or arg.startswith(inside + "/"):
            return str(outside) + arg[len(inside) :]
    return arg


@dataclass
class JobOutcome:
    returncode: int
    stdout: str
    stderr: str

    def result(self) -> dict[str, Any]:
        """The job's ``--json`` document, or one line naming why there is none."""
        if self.returncode != 0:
            raise JobFailed(f"exit {self.returncode}: {self.problem()}")
        try:
            data: dict[str, Any] = json.loads(self.stdout)
        except ValueError as exc:
            raise JobFailed(f"no JSON result on stdout ({exc})") from exc
        return data

    def problem(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1].strip()[:300] if lines else "(no output on stderr)"


class JobFailed(RuntimeError):
    """A production job exited non-zero; the message is the line it printed."""


class JobRun:
    """One run of a one-shot job (CronJob pod, ACI group), in its own process group."""

    def __init__(self, spec: JobSpec, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{spec.name}-{uuid.uuid4().hex[:8]}"
        self._out = log_dir / f"{stem}.out"
        self._err = log_dir / f"{stem}.err"
        for path in spec.mounts.values():
            path.mkdir(parents=True, exist_ok=True)
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self._popen = subprocess.Popen(
                spec.host_argv(),
                env=spec.host_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.killed = False

    def done(self) -> bool:
        return self._popen.poll() is not None

    def wait(self, timeout: float) -> JobOutcome:
        try:
            code = self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise JobFailed(f"still running after {timeout:g}s (killed)") from None
        return JobOutcome(code, self._out.read_text(), self._err.read_text(errors="replace"))

    def kill(self, *, wait: bool = True) -> None:
        """The node dies: SIGKILL the whole group, nothing flushes or uploads after it.
        ``wait=False`` returns at once (the fault must not give the app time to ack)."""
        if self._popen.poll() is None:
            self.killed = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._popen.pid, signal.SIGKILL)
        if wait:
            self._popen.wait(timeout=10)


def kill_group(pid: int) -> None:
    """SIGKILL a job's process group (it was started in a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# --- the sandbox's stand-ins for what the stacks hand the jobs ----------------------


def container_sas(blob_endpoint: str, container: str, permissions: str) -> str:
    """A container-scoped SAS connection string, as the site stack hands each job
    (writer ``rcwdl`` for the Seoul jobs, reader ``rl`` for the restore): no account key."""
    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=permissions,
        expiry=datetime.now(UTC) + timedelta(hours=6),
    )
    return f"BlobEndpoint={blob_endpoint};SharedAccessSignature={sas}"


def master_account(server: MariaDBServer) -> tuple[str, str]:
    """The RDS master user, created with the instance (root plays the RDS control plane)
    with the grants RDS documents (drctl.sandbox.accounts)."""
    dsn = backup_source_dsn(server)
    return dsn.user, dsn.password


def master_secret(secretsmanager: Any, server: MariaDBServer) -> str:
    """The replicated master-credential secret the Seoul jobs read (its ARN)."""
    user, password = master_account(server)
    created = secretsmanager.create_secret(
        Name=f"drstack-sandbox/{server.name}-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"username": user, "password": password}),
    )
    return str(created["ARN"])


@dataclass(frozen=True)
class SeoulJobs:
    """What the azure-pilot-backup stack gives its two Seoul containers."""

    source: MariaDBServer
    secret_arn: str
    region: str
    aws_endpoint: str
    writer_connection_string: str
    container: str
    database: str
    workdir: Path

    def _env(self) -> dict[str, str]:
        # The names components/backup_job.py and components/binlog_archiver.py set.
        return {
            CONNECTION_STRING_ENV: self.writer_connection_string,
            "DRCTL_SOURCE_HOST": "127.0.0.1",
            "DRCTL_SOURCE_PORT": str(self.source.port),
            "DRCTL_SOURCE_SECRET_ARN": self.secret_arn,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            **_MOTO_CREDENTIALS,
        }

    def backup(self) -> JobSpec:
        shipped = BackupConfig()
        argv = backup_command(
            database=self.database,
            container=self.container,
            fmt=shipped.format,
            retention_days=shipped.retention_days,
        )
        mounts = {"/tmp": self.workdir / "backup-tmp"}
        return JobSpec("backup-job", tuple(argv), self._env(), mounts)

    def archiver(self, flush_seconds: float) -> JobSpec:
        if flush_seconds < 1 or flush_seconds != int(flush_seconds):
            # backup.binlog_flush_seconds is whole seconds, 1..300 (stacks' typed config).
            raise ValueError(
                f"the archiver flushes every whole second or more, not {flush_seconds}"
            )
        argv = archiver_command(container=self.container, flush_seconds=int(flush_seconds))
        assert HEARTBEAT_FILE.startswith("/tmp/")  # the pod's /tmp emptyDir
        mounts = {SPOOL_DIR: self.workdir / "binlog-spool", "/tmp": self.workdir / "archiver-tmp"}
        return JobSpec("binlog-archiver", tuple(argv), self._env(), mounts)


def restore_job(
    *,
    target: MariaDBServer,
    user: str,
    password: str,
    database: str,
    container: str,
    reader_connection_string: str,
    binlog_archive: bool,
    accept_gap: bool = False,
) -> JobSpec:
    """components/azure_restore_job.py's container: its argv, DRCTL_TARGET_DSN built by its
    own target_dsn (the sandbox server's port instead of 3306), the reader SAS."""
    argv = restore_command(
        database=database, container=container, binlog_archive=binlog_archive, accept_gap=accept_gap
    )
    env = {
        "DRCTL_TARGET_DSN": target_dsn(
            user=user, password=password, host="127.0.0.1", port=target.port, database=database
        ),
        "AZURE_STORAGE_CONNECTION_STRING": reader_connection_string,
    }
    return JobSpec("restore-job", tuple(argv), env)


# --- wired to a sandbox environment -------------------------------------------------


def seoul_jobs(env: SandboxEnvironment, source: MariaDBServer, database: str) -> SeoulJobs:
    """The backup CronJob's and the archiver's inputs, as azure-pilot-backup sets them."""
    assert env.aws is not None and env.moto is not None and env.azurite is not None
    region = REGIONS["seoul"]
    return SeoulJobs(
        source=source,
        secret_arn=master_secret(env.aws.client("secretsmanager", region), source),
        region=region,
        aws_endpoint=env.aws.region_endpoints.get(region, env.moto.endpoint),
        writer_connection_string=container_sas(
            env.azurite.blob_endpoint, DEFAULT_CONTAINER, WRITER_PERMISSIONS
        ),
        container=DEFAULT_CONTAINER,
        database=database,
        workdir=env.workdir / f"jobs-{source.name}-{source.server_id}",
    )


def restore_target_account(server: MariaDBServer) -> tuple[str, str]:
    """Who the restore job logs in as: the Flexible Server admin (accounts.AZURE_ADMIN),
    as in production; the replay runs plain SQL, which that admin may run."""
    dsn = restore_target_dsn(server)
    return dsn.user, dsn.password


def azure_restore_job(
    env: SandboxEnvironment, *, database: str, binlog_archive: bool
) -> Callable[[MariaDBServer], JobSpec]:
    """The restore job azure-pilot declares with run_restore, for a server made later."""
    assert env.azurite is not None
    reader = container_sas(env.azurite.blob_endpoint, DEFAULT_CONTAINER, READER_PERMISSIONS)

    def spec(server: MariaDBServer) -> JobSpec:
        user, password = restore_target_account(server)
        return restore_job(
            target=server,
            user=user,
            password=password,
            database=database,
            container=DEFAULT_CONTAINER,
            reader_connection_string=reader,
            binlog_archive=binlog_archive,
        )

    return spec
