"""Deploy-time constraints: rules a cloud enforces only at `pulumi up` time, caught at preview.

Each area keeps its policies in its own module (``policy/deploy_<area>.py``, each exporting
``POLICIES``), written with the helpers of ``policy.common``; this module only gathers
them, so the pack, ``drctl preview`` and the tests see one list. A deploy module imports
from ``policy.common``, never ``policy.policies`` (which imports this module): that keeps
the gathering free of import circles (tests/test_layering.py checks it).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

_PREFIX = "deploy_"


def gather() -> list[Any]:
    """Every ``POLICIES`` list of the ``policy/deploy_*.py`` modules, in name order."""
    found: list[Any] = []
    here = [str(Path(__file__).parent)]
    for module in sorted(pkgutil.iter_modules(here), key=lambda m: m.name):
        if module.name.startswith(_PREFIX):
            found.extend(importlib.import_module(f"policy.{module.name}").POLICIES)
    return found
