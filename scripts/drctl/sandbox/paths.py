"""Where the repository (and so ``app/`` and ``.tools/``) is, independent of the cwd."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
