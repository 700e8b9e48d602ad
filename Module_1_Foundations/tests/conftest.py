"""Shared fixtures for Module 1's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from Module_1_Foundations.common.paths import REPO_ROOT


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No HDP_* variable from the developer's shell leaks into a settings test."""
    for name in list(os.environ):
        if name.startswith("HDP_"):
            monkeypatch.delenv(name)
    return monkeypatch


def run_module(module: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run ``python -m module args`` in a fresh interpreter; return the CompletedProcess."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HDP_")}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd or REPO_ROOT,
        timeout=300,
        check=False,
    )
