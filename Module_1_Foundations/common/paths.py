"""The one place that knows where the repository lives on disk."""

from __future__ import annotations

from pathlib import Path

#: The repository root: the folder holding ``pyproject.toml`` and the module folders.
REPO_ROOT: Path = Path(__file__).resolve().parents[2]


def module_dir(module: str) -> Path:
    """Return the folder of a top-level module, e.g. ``module_dir("Module_2_Pipelines")``."""
    return REPO_ROOT / module
