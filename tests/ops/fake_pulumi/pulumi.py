"""A recorded stand-in for the Pulumi CLI, as the Automation API drives it.

Installed by the test as an executable ``pulumi`` on PATH. It appends its argv (one
JSON line) to ``$FAKE_PULUMI_LOG`` and answers the few commands ``pulumi.automation``
runs for ``select_stack`` / ``set_config`` / ``up``: ``version``, ``stack select``,
``config set``, ``up``, then ``stack output --json`` and ``stack history --json``.
``$FAKE_PULUMI_FAIL`` names a command (e.g. ``up``) that fails like the CLI does.
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> int:
    with open(os.environ["FAKE_PULUMI_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(argv) + "\n")
    argv = [arg for arg in argv if arg != "--non-interactive"]  # a global flag, anywhere
    command = argv[0] if argv else ""
    if command == os.environ.get("FAKE_PULUMI_FAIL"):
        sys.stderr.write(f"error: {command} failed: the update was refused by the provider\n")
        return 255
    if command == "version":
        print("v3.160.0")
    elif argv[:2] == ["stack", "output"]:
        print("{}")
    elif argv[:2] == ["stack", "history"]:
        entry = {
            "kind": "update",
            "startTime": "2026-11-29T17:00:00.000Z",
            "endTime": "2026-11-29T17:01:00.000Z",
            "message": "",
            "environment": {"exec.kind": "auto.local"},
            "config": {},
            "result": "succeeded",
            "resourceChanges": {"same": 40, "replace": 1},
            "version": 7,
        }
        print(json.dumps([entry]))
    elif command == "up":
        print(
            "Updating (tokyo):\n    refreshing...\nResources:\n    ~ 1 replaced\n    40 unchanged"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
