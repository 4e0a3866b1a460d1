"""Locate the MariaDB/MySQL command-line tools (Debian puts the server in /usr/sbin)."""

from __future__ import annotations

import os
import shutil


class ToolMissing(RuntimeError):
    """A MariaDB binary is not installed (``make services`` installs them)."""


def find_binary(*names: str) -> str:
    """The first of ``names`` found on PATH or in /usr/sbin, /usr/bin."""
    for name in names:
        for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
            if candidate and os.access(candidate, os.X_OK):
                return candidate
    raise ToolMissing(f"{' or '.join(names)} not found; install MariaDB (make services)")
