"""Run one drctl command in this process and report its peak memory.

``python -m benchmarks.rss_probe OUT.json drctl|pilotlight args...`` runs the real CLI (Typer app,
same code path as a user) and then writes wall time plus peak RSS: of this Python
process (``RUSAGE_SELF``) and of the largest child it waited for (``mariadb-dump`` or
the ``mariadb`` client, ``RUSAGE_CHILDREN``), kept apart so neither hides the other.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    out_path, entry, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if entry == "drctl":  # the `drctl` entry point, which loads only the command it runs
        from drctl.cli import app
    else:  # `python -m drctl.pilotlight`: what the backup host runs
        from drctl.pilotlight.__main__ import app
    import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    code = 0
    try:
        app(args, standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    seconds = time.monotonic() - started
    out_path.write_text(
        json.dumps(
            {
                "exit_code": code,
                "seconds": seconds,
                "entry": entry,
                "import_rss_mb": import_rss,
                "self_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "child_max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )
    sys.exit(code)


if __name__ == "__main__":
    main()
