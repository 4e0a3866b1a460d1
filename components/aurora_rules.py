"""What an Aurora MySQL global database accepts: instance classes and engine versions.

No cloud SDK import, so the config parser (stacks/validation.py) refuses a bad
combination quickly, before any resource exists, with the same words the component uses.
"""

from __future__ import annotations

import re

ENGINE = "aurora-mysql"

# Dated list (like stacks/rules/dated.py): what an Aurora global database accepts.
AURORA_GLOBAL_CHECKED = "2026-11-29"
# "An Aurora global database requires DB instance classes that are optimized for
# memory-intensive applications" (Aurora User Guide, "Configuration requirements of an
# Amazon Aurora global database"): the db.r* and db.x2g families, never db.t*.
AURORA_GLOBAL_CLASS_FAMILIES = (
    "db.r5",
    "db.r6g",
    "db.r6i",
    "db.r7g",
    "db.r7i",
    "db.r8g",
    "db.x2g",
)
# Aurora MySQL version 3 (MySQL 8.0 compatible), 3.01.0 and higher ("Supported Regions
# and DB engines for Aurora global databases"); written 8.0.mysql_aurora.3.MM.P.
_AURORA_VERSION = re.compile(r"^8\.0\.mysql_aurora\.3\.(\d{2})\.(\d+)$")
MIN_AURORA_MINOR = 1


def aurora_class_refusal(instance_class: str) -> str | None:
    """Why an Aurora global database would refuse this instance class, or None."""
    family = ".".join(instance_class.split(".")[:2])
    if family not in AURORA_GLOBAL_CLASS_FAMILIES:
        return (
            f"instance class {instance_class!r}: an Aurora global database needs a "
            f"memory-optimized class ({', '.join(AURORA_GLOBAL_CLASS_FAMILIES)}; list "
            f"checked {AURORA_GLOBAL_CHECKED})"
        )
    return None


def aurora_version_refusal(engine_version: str) -> str | None:
    """Why an Aurora global database would refuse this engine version, or None."""
    match = _AURORA_VERSION.match(engine_version)
    if match is None or int(match.group(1)) < MIN_AURORA_MINOR:
        return (
            f"engine version {engine_version!r}: expected Aurora MySQL 3.01.0 or later, "
            f"written like 8.0.mysql_aurora.3.10.3 (list checked {AURORA_GLOBAL_CHECKED})"
        )
    return None


def aurora_global_refusal(instance_class: str, engine_version: str) -> str | None:
    """Why AWS would refuse this global-database combination at `up`, or None."""
    return aurora_class_refusal(instance_class) or aurora_version_refusal(engine_version)
