"""The backup host's commands load only what they use (a lean backup process).

Each case starts a fresh interpreter, loads one command the way a user's `drctl …` or
`python -m drctl.pilotlight …` does (``--help`` runs the same command registration, and
needs no server), and lists which heavy packages ended up in ``sys.modules``. Peak RSS
is measured by ``make bench``; this test pins down its cause, an eager import, which a
timing could not.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Packages none of backup, restore or binlog-archive uses. (pydantic is not listed:
# typer 0.29 itself imports it to coerce every option value.)
HEAVY = (
    "pulumi",  # ~20 MB, the IaC engine
    "kubernetes",
    "boto3",
    "botocore",
    "aiohttp",  # ~7 MB, pulled in by azure.storage.blob's async transport probe
    "azure.identity",
    "azure.mgmt",
)

PROBE = """
import contextlib, json, sys
sys.argv = {argv!r}
with contextlib.suppress(SystemExit):  # --help and usage errors exit; the imports stay
    {run}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""

ENTRIES = {
    "drctl": "from drctl.cli import main; main()",
    "pilotlight": "from drctl.pilotlight.__main__ import app; app()",
}


def loaded_heavy_modules(entry: str, command: str) -> list[str]:
    code = PROBE.format(argv=[entry, command, "--help"], run=ENTRIES[entry], heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage:" in out.stdout, out.stderr
    result: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("entry", sorted(ENTRIES))
@pytest.mark.parametrize("command", ["backup", "restore", "binlog-archive"])
def test_backup_host_commands_import_no_heavy_package(entry: str, command: str) -> None:
    assert loaded_heavy_modules(entry, command) == []


def test_the_probe_sees_a_heavy_import_when_one_happens() -> None:
    # `drctl preview` needs Pulumi: the same probe must report it, or the test above
    # could pass by looking in the wrong place.
    assert "pulumi" in loaded_heavy_modules("drctl", "preview")


def test_aiohttp_stays_importable_after_the_blob_sdk_loads() -> None:
    code = (
        "import sys; import drctl.pilotlight.blob_sdk; import aiohttp; "
        "print('aiohttp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
