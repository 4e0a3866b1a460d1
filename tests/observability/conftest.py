"""Real servers for the observability tests: the sandbox's fixtures, and the Debian
monitoring binaries. Under ``CI=true`` a missing binary fails the test, never skips it."""

from __future__ import annotations

import shutil

from tests.sandbox.conftest import (  # noqa: F401  (pytest fixtures, re-exported)
    azurite,
    container,
    require,
    session_dir,
    supervisor,
)


def require_binary(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, name)
    assert path is not None
    return path
