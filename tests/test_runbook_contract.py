"""The runbook contract, for every drctl command: one line naming the problem, a
documented exit code, never a traceback.

Every command (enumerated from the Typer app, so a new command without a row here fails
``test_every_command_has_rows``) runs as a subprocess against each fault that applies to
it: a malformed YAML/JSON input, a missing or broken tool, an endpoint that refuses, a
port in use, an output path that cannot be written, conflicting flags. The documented
exit codes are read from the README's exit-code table.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from drctl.cli import COMMANDS, load_command
from drctl.sandbox.moto_server import MotoServer
from drctl.sandbox.processes import ProcessSupervisor

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BROKEN_STACK = "zz-contract-broken"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


# --- the commands and their documented exit codes ----------------------------------


def every_command() -> list[str]:
    """Every command path the entry point serves: `image push`, not `image`."""
    names: list[str] = []
    for name in COMMANDS:
        command = load_command(name)
        subcommands = getattr(command, "commands", None)
        if subcommands:
            names += [f"{name} {sub}" for sub in sorted(subcommands)]
        else:
            names.append(name)
    return names


def documented_exit_codes() -> dict[str, set[int]]:
    """README "Exit codes" table: | `drctl CMD` | meaning of 0 | 1 | 2 | 3 | 4 | 130 |."""
    text = README.read_text(encoding="utf-8")
    header = re.search(r"^\| command \| 0 \| 1 \| 2 \| 3 \| 4 \| 130 \|$", text, re.M)
    assert header, "README has no exit-code table (| command | 0 | 1 | 2 | 3 | 4 | 130 |)"
    codes = (0, 1, 2, 3, 4, 130)
    table: dict[str, set[int]] = {}
    for line in text[header.end() :].splitlines()[2:]:
        if not line.startswith("| `drctl "):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        command = cells[0].strip("`").removeprefix("drctl ")
        table[command] = {code for code, cell in zip(codes, cells[1:], strict=True) if cell != "—"}
    return table


# --- the faults ------------------------------------------------------------------------


@dataclass
class World:
    """Files, fake tools and dead endpoints one case may use."""

    tmp: Path
    closed_port: int
    busy_port: int
    moto_url: str = ""  # a moto server with the drstack-app ECR repository in Seoul
    env: dict[str, str] = field(default_factory=dict)

    @property
    def closed_url(self) -> str:
        return f"http://127.0.0.1:{self.closed_port}"

    def file(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def truncated_outputs(self) -> str:
        return self.file("outputs.json", '{"seoul": {"region": "ap-northeast-2"}, "tokyo": {"reg')

    def good_outputs(self, **tokyo: object) -> str:
        outputs = {
            "seoul": {"region": "ap-northeast-2", "rds_instance_id": "drstack-seoul-mysql"},
            "tokyo": {
                "region": "ap-northeast-1",
                "replica_instance_id": "drstack-tokyo-replica",
                "failover_switch_id": "hc-switch",
                "lock_table_name": "drstack-tokyo-failover-lock",
                **tokyo,
            },
        }
        return self.file("good-outputs.json", json.dumps(outputs))

    def truncated_run(self, kind: str) -> str:
        runs = self.tmp / "runs"
        runs.mkdir(exist_ok=True)
        (runs / f"{kind}-tokyo-0123456789ab.json").write_text('{"name": "', encoding="utf-8")
        return str(runs)

    def not_a_directory(self) -> str:
        return str(Path(self.file("a-file", "")) / "sub" / "out")

    def only_on_path(self, tools: dict[str, str]) -> None:
        """PATH holds these scripts and nothing else (no pulumi, docker, mariadb...)."""
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir(exist_ok=True)
        for name, script in tools.items():
            tool = bin_dir / name
            tool.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
            tool.chmod(0o755)
        self.env["PATH"] = str(bin_dir)


# A Pulumi that fails the way a missing passphrase does: noise first, the cause last.
BROKEN_PULUMI = (
    "echo 'warning: A new version of Pulumi is available.' >&2\n"
    "echo 'To upgrade from version 3.100.0 to 3.150.0, run' >&2\n"
    "echo '   $ curl -sSL https://get.pulumi.com | sh' >&2\n"
    "echo 'error: getting stack outputs: passphrase must be set with "
    "PULUMI_CONFIG_PASSPHRASE' >&2\nexit 1"
)


@dataclass(frozen=True)
class Case:
    command: str
    fault: str
    args: Callable[[World], list[str]]
    names: str | tuple[str, ...]  # the problem: all of it on the one line

    def named_in(self, said: str) -> bool:
        wanted = (self.names,) if isinstance(self.names, str) else self.names
        return any(all(part in line for part in wanted) for line in said.splitlines())

    @property
    def id(self) -> str:
        return f"{self.command}:{self.fault}"


def _stack_args(world: World) -> list[str]:
    return ["--stack", BROKEN_STACK]


def _pulumi_missing(world: World) -> list[str]:
    world.only_on_path({})
    return []


def _pulumi_broken(world: World) -> list[str]:
    world.only_on_path({"pulumi": BROKEN_PULUMI})
    return []


def _docker(script: str | None) -> Callable[[World], list[str]]:
    """image push for real (not --dry-run) against moto, with this docker (None: none)."""

    def args(world: World) -> list[str]:
        world.only_on_path({} if script is None else {"docker": script})
        world.env["AWS_ENDPOINT_URL"] = world.moto_url
        return ["--tag", "2026.01.01-abcdef12", "--yes", "--replica-region", "ap-northeast-2"]

    return args


# A docker whose daemon is down: the cause is the last line, after noise.
BROKEN_DOCKER = (
    "echo 'WARNING! Your password will be stored unencrypted.' >&2\n"
    "echo 'Configure a credential helper to remove this warning.' >&2\n"
    "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?' >&2\nexit 1"
)


def _aws_closed(world: World) -> list[str]:
    world.env["AWS_ENDPOINT_URL"] = world.closed_url
    return []


def _blob_closed(world: World, timeout: bool = True) -> list[str]:
    world.env["AZURE_STORAGE_CONNECTION_STRING"] = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={world.closed_url}/devstoreaccount1;"
    )
    return ["--container", "c", *(["--timeout", "5"] if timeout else [])]


DSN = "mysql://app:secret@127.0.0.1:1/app"
REFUSED = "Could not connect to the endpoint URL"
# The command that failed and the cause from its last stderr line, on one line.
PULUMI_CAUSE = ("pulumi stack output --json -s seoul` failed", "PULUMI_CONFIG_PASSPHRASE")
TIMELINE = '{"events": []}'
CASES: list[Case] = [
    Case("preview", "malformed stack file", _stack_args, f"Pulumi.{BROKEN_STACK}.yaml"),
    Case("cost", "malformed stack file", lambda w: ["--plan-a", BROKEN_STACK], BROKEN_STACK),
    Case("status", "malformed outputs", lambda w: ["--outputs", w.truncated_outputs()], "JSON"),
    Case("status", "pulumi missing", _pulumi_missing, "Pulumi CLI is not installed"),
    Case("status", "pulumi broken", _pulumi_broken, PULUMI_CAUSE),
    Case(
        "status",
        "endpoint refuses",
        lambda w: [*_aws_closed(w), "--outputs", w.good_outputs(), "--json", "--timeout", "20"],
        "endpoint unreachable (http://127.0.0.1:",
    ),
    Case("failover", "malformed outputs", lambda w: ["--outputs", w.truncated_outputs()], "JSON"),
    Case("failover", "pulumi broken", _pulumi_broken, PULUMI_CAUSE),
    Case(
        "failover",
        "null where a number is needed",
        lambda w: ["--outputs", w.good_outputs(max_lag_seconds=None), "--dry-run"],
        "tokyo.max_lag_seconds: a number is needed, not null",
    ),
    Case(
        "failover",
        "truncated run state",
        lambda w: [
            *("--outputs", w.good_outputs(), "--yes", "--resume", "failover-tokyo-0123456789ab"),
            *("--state-dir", w.truncated_run("failover")),
        ],
        "not valid JSON",
    ),
    Case(
        "failover",
        "endpoint refuses",
        lambda w: [
            *_aws_closed(w),
            *("--outputs", w.good_outputs(), "--yes", "--state-dir", str(w.tmp / "runs")),
        ],
        REFUSED,
    ),
    Case("failback", "malformed outputs", lambda w: ["--outputs", w.truncated_outputs()], "JSON"),
    Case(
        "failback",
        "truncated run state",
        lambda w: [
            *("--outputs", w.good_outputs(), "--yes", "--resume", "failback-tokyo-0123456789ab"),
            *("--state-dir", w.truncated_run("failback")),
        ],
        "not valid JSON",
    ),
    Case(
        "iac-sync",
        "malformed stack file",
        lambda w: ["--after", "failover", "--dry-run", *_stack_args(w)],
        f"Pulumi.{BROKEN_STACK}.yaml",
    ),
    Case(
        "report",
        "malformed timeline",
        lambda w: ["--timeline", w.file("run.json", '{"events": ['), "--out", str(w.tmp)],
        "not valid JSON",
    ),
    Case(
        "report",
        "malformed outputs",
        lambda w: [
            *("--timeline", w.file("t.json", TIMELINE), "--out", str(w.tmp)),
            *("--outputs", w.truncated_outputs()),
        ],
        "JSON",
    ),
    Case(
        "report",
        "unwritable output",
        lambda w: ["--timeline", w.file("t.json", TIMELINE), "--out", w.not_a_directory()],
        "--out",
    ),
    Case(
        "backup",
        "malformed outputs",
        lambda w: ["--source", DSN, "--list", "--outputs", w.truncated_outputs()],
        "JSON",
    ),
    Case(
        "backup",
        "conflicting flags",
        lambda w: ["--source", DSN, "--every", "5", "--list"],
        "--every and --list cannot be used together",
    ),
    Case(
        "backup",
        "endpoint refuses",
        lambda w: ["--source", DSN, "--list", *_blob_closed(w)],
        "Azure Blob",
    ),
    Case(
        "restore",
        "conflicting flags",
        lambda w: ["--target", DSN, "--to-time", "2026-01-01T00:00:00Z", "--to-latest"],
        "--to-time and --to-latest cannot be used together",
    ),
    Case(
        "restore",
        "time that is not ISO 8601",
        lambda w: ["--target", DSN, "--to-time", "yesterday"],
        "--to-time 'yesterday' is not a time",
    ),
    Case(
        "restore",
        "endpoint refuses",
        lambda w: ["--target", DSN, "--dry-run", *_blob_closed(w)],
        "Azure Blob",
    ),
    Case(
        "binlog-archive",
        "malformed outputs",
        lambda w: ["--source", DSN, "--dry-run", "--outputs", w.truncated_outputs()],
        "JSON",
    ),
    Case(
        "binlog-archive",
        "endpoint refuses",
        lambda w: [
            *("--source", DSN.replace(":1/", f":{w.closed_port}/"), "--dry-run"),
            *_blob_closed(w, timeout=False),
        ],
        "Can't connect to MySQL server",
    ),
    Case(
        "drill",
        "unwritable output",
        lambda w: ["--sandbox", "--report-dir", w.not_a_directory()],
        "--report-dir",
    ),
    Case(
        "exporter",
        "port in use",
        lambda w: [
            *("--outputs", w.good_outputs(replica_instance_id="")),
            *("--port", str(w.busy_port)),
        ],
        "cannot listen on 127.0.0.1:",
    ),
    Case("exporter", "malformed outputs", lambda w: ["--outputs", w.truncated_outputs()], "JSON"),
    Case("diagram", "malformed stack file", _stack_args, f"Pulumi.{BROKEN_STACK}.yaml"),
    Case(
        "diagram",
        "unwritable output",
        lambda w: ["--stack", "tokyo", "--output", w.not_a_directory() + ".png"],
        "--output",
    ),
    Case(
        "diagram",
        "conflicting flags",
        lambda w: ["--stack", "tokyo", "--json", "--output", str(w.tmp / "x.png")],
        "--json and --output cannot be used together",
    ),
    Case("plan", "malformed stack file", _stack_args, f"Pulumi.{BROKEN_STACK}.yaml"),
    Case(
        "plan",
        "unwritable output",
        lambda w: ["--stack", "tokyo", "--output", w.not_a_directory()],
        "--output",
    ),
    Case(
        "image push",
        "endpoint refuses",
        lambda w: [*_aws_closed(w), "--tag", "2026.01.01-abcdef12", "--dry-run"],
        REFUSED,
    ),
    Case("image push", "docker missing", _docker(None), ("image push", "docker is not installed")),
    Case(
        "image push",
        "docker broken",
        _docker(BROKEN_DOCKER),
        ("docker login to", "Cannot connect to the Docker daemon"),
    ),
]


# --- running the cases ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(world: World) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "AZURE_", "DRCTL_", "PULUMI_"))
    }
    # Nothing here may reach a real cloud: AWS goes to a closed port unless a case says.
    env.update(
        AWS_ENDPOINT_URL=world.closed_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
        COLUMNS="200",
    )
    return {**env, **world.env}


def _run(case: Case, world: World) -> subprocess.CompletedProcess[str]:
    argv = [*case.command.split(), *case.args(world)]
    return subprocess.run(
        [sys.executable, "-m", "drctl.cli", *argv],
        env=_environment(world),
        cwd=world.tmp,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[int, str]]]:
    """Every selected case, run once, a few at a time (most of them wait on a dead
    endpoint or on imports, not on each other)."""
    # Only this module's cases: other modules parametrize a "case" of their own.
    chosen = [
        params["case"]
        for item in request.session.items
        if isinstance(
            (params := getattr(getattr(item, "callspec", None), "params", {})).get("case"), Case
        )
    ]
    stack_file = ROOT / f"Pulumi.{BROKEN_STACK}.yaml"
    stack_file.write_text("config:\n  drstack:role: [dr\n", encoding="utf-8")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    supervisor = ProcessSupervisor(tmp_path_factory.mktemp("moto-logs"))
    moto_url = _moto_with_repository(supervisor)
    worlds = {
        case.id: World(
            tmp_path_factory.mktemp("contract"), _free_port(), busy.getsockname()[1], moto_url
        )
        for case in chosen
    }
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            done = pool.map(lambda case: (case.id, _run(case, worlds[case.id])), chosen)
            yield {key: (run.returncode, run.stdout + run.stderr) for key, run in done}
    finally:
        supervisor.stop_all()
        busy.close()
        stack_file.unlink()


def _moto_with_repository(supervisor: ProcessSupervisor) -> str:
    moto = MotoServer(supervisor)
    moto.start()
    ecr = boto3.client(
        "ecr",
        region_name="ap-northeast-2",
        endpoint_url=moto.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ecr.create_repository(repositoryName="drstack-app")
    return moto.endpoint


def test_every_command_has_rows() -> None:
    assert set(every_command()) == {case.command for case in CASES}


def test_readme_documents_the_exit_codes_of_every_command() -> None:
    documented = documented_exit_codes()
    assert set(documented) == set(every_command())
    assert all({0, 1, 2} <= codes for codes in documented.values())


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_one_line_and_a_documented_exit_code(
    case: Case, outcomes: dict[str, tuple[int, str]]
) -> None:
    returncode, said = outcomes[case.id]
    assert "Traceback" not in said, said
    assert returncode in documented_exit_codes()[case.command] - {0}, (returncode, said)
    assert case.named_in(said), said
