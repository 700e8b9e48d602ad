"""The image definition: lint-clean, installs from the lock, runs unprivileged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from Module_1_Foundations.common.paths import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def test_hadolint_passes_at_warning_level():
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run(
        [str(hadolint), "--config", str(REPO_ROOT / ".hadolint.yaml"), str(DOCKERFILE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_would_catch_a_root_image(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y make\n")
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run([str(hadolint), str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "DL3008" in done.stdout


def test_image_installs_the_locked_environment_and_drops_root():
    text = DOCKERFILE.read_text()
    assert "uv sync --frozen --no-dev" in text
    assert "COPY pyproject.toml uv.lock" in text
    assert "USER 10001" in text
    assert "FROM python:3.11" in text
