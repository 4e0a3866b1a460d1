"""What the backup host's imports cost: peak RSS (VmHWM) after each import stage.

    python -m benchmarks.imports          (prints JSON; benchmarks.run puts it in results.md)

Each stage is imported on top of the previous ones in one fresh interpreter, in the
order the commands load them, so a row is what that stage *adds*; shared dependencies
count where they first appear. A second interpreter imports ``azure.storage.blob`` the
plain way, to show what ``drctl.pilotlight.blob_sdk`` saves by leaving aiohttp out.
"""

from __future__ import annotations

import json
import subprocess
import sys

# (label, modules) in load order. The drctl row is whatever the commands add on top.
STAGES: list[tuple[str, list[str]]] = [
    ("typer + rich (the CLI)", ["typer", "rich.console", "rich.progress"]),
    ("pydantic (typer 0.29 coerces options with it)", ["pydantic"]),
    (
        "ssl + cryptography (TLS, and the blob SDK's and pymysql's RSA/AES code)",
        ["ssl", "cryptography.hazmat.primitives.serialization"],
    ),
    ("pymysql", ["pymysql"]),
    ("zstandard", ["zstandard"]),
    ("requests + urllib3 (the SDK's sync HTTP transport)", ["requests"]),
    ("azure-core + azure-storage-blob, without aiohttp", ["drctl.pilotlight.blob_sdk"]),
    (
        "drctl backup/restore/binlog-archive modules",
        ["drctl.pilotlight.commands", "drctl.binlog.command"],
    ),
]

_STAGE_PROBE = """
import importlib, json, sys
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
rows = [['python interpreter', hwm()]]
for label, modules in json.loads(sys.argv[1]):
    for module in modules:
        importlib.import_module(module)
    rows.append([label, hwm()])
print(json.dumps(rows))
"""

_PLAIN_SDK_PROBE = """
import json, sys
import azure.storage.blob
for line in open('/proc/self/status'):
    if line.startswith('VmHWM:'):
        print(json.dumps([int(line.split()[1]) / 1024, 'aiohttp' in sys.modules]))
"""


def _run(code: str, *args: str) -> object:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_costs() -> dict[str, object]:
    """Cumulative peaks per stage, plus the plain SDK import for comparison."""
    rows = _run(_STAGE_PROBE, json.dumps(STAGES))
    assert isinstance(rows, list)
    stages = []
    previous = 0.0
    for label, peak in rows:
        stages.append({"stage": label, "peak_mb": peak, "added_mb": peak - previous})
        previous = peak
    lean_sdk = _run("import json, drctl.pilotlight.blob_sdk as m\n" + _PLAIN_SDK_PROBE)
    plain_sdk = _run(_PLAIN_SDK_PROBE)
    assert isinstance(lean_sdk, list) and isinstance(plain_sdk, list)
    return {
        "stages": stages,
        "sdk_alone_lean_mb": lean_sdk[0],
        "sdk_alone_plain_mb": plain_sdk[0],
        "plain_sdk_loads_aiohttp": plain_sdk[1],
    }


if __name__ == "__main__":
    print(json.dumps(import_costs(), indent=2))
