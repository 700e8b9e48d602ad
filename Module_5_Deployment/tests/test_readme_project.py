"""README_project.md: every command it tells a newcomer to type exists."""

from __future__ import annotations

import re
import subprocess

import pytest

from Module_1_Foundations.common.paths import REPO_ROOT

README = (REPO_ROOT / "Module_5_Deployment" / "README_project.md").read_text()


def _make_targets() -> set[str]:
    out = subprocess.run(
        ["make", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return set(re.findall(r"^\s+make (\S+)", out.stdout, re.M))


@pytest.mark.parametrize("target", sorted(set(re.findall(r"\bmake ([a-z][\w-]*)", README))))
def test_every_make_target_it_names_exists(target):
    assert target in _make_targets()


def test_every_repository_path_it_names_exists():
    paths = set(re.findall(r"`((?:Module_\d\w+|capstone)/[\w./-]*)`", README))
    paths |= {"compose.yaml", "requirements.txt", ".env.example"}
    assert paths, "the README names no path at all"
    assert sorted(p for p in paths if not (REPO_ROOT / p).exists()) == []
