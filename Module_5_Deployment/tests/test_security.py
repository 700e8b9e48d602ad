"""Security checks in `make test`: bandit on the shipped code, the secret scan on the tree."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from Module_1_Foundations.common.paths import REPO_ROOT
from Module_5_Deployment import secret_scan

BANDIT = Path(sys.executable).with_name("bandit")


def _bandit(*args: str | Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BANDIT), *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_bandit_is_clean_on_the_code_that_ships():
    done = _bandit("--quiet", "-c", REPO_ROOT / "pyproject.toml", "-r", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_bandit_with_the_project_config_still_catches_a_shell_injection(tmp_path):
    (tmp_path / "job.py").write_text(
        "import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    done = _bandit("--quiet", "-c", REPO_ROOT / "pyproject.toml", "-r", tmp_path)
    assert done.returncode == 1
    assert "B602" in done.stdout


def _tracked_python() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return [REPO_ROOT / p for p in out.stdout.splitlines()]


def test_every_nosec_names_its_rule_and_says_why():
    """Why goes on the line above (``# B310 is safe: ...``) or after the rule on the line itself
    (``# nosec B608: ...``): the closing line of a multi-line SQL string has no line above it
    that is code."""
    marker = "# no" + "sec"  # split, so this file holds no marker of its own
    unjustified = []
    for path in _tracked_python():
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if marker not in line:
                continue
            after = line.split(marker, 1)[1]
            rules = re.findall(r"B\d{3}", after)
            above = lines[number - 1].strip() if number else ""
            inline = re.search(r"B\d{3}: \S", after) is not None
            reasoned = [above.startswith(f"# {rule} is safe") or inline for rule in rules]
            if not rules or not all(reasoned):
                unjustified.append(f"{path.relative_to(REPO_ROOT)}:{number + 1}")
    assert unjustified == []


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "settings.py").write_text('region = "eu-west-1"\n')
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    shutil.copy(REPO_ROOT / ".secrets.baseline", tmp_path / "baseline.json")
    return tmp_path


def test_secret_scan_flags_a_committed_aws_key(tiny_repo):
    # built at run time, so this file itself holds no key for the scanner to find
    key = "AKIA" + "J7QX3ZL5WM2BRT6Y"
    (tiny_repo / "settings.py").write_text(f'aws_access_key_id = "{key}"\n')
    result = secret_scan.check(tiny_repo, tiny_repo / "baseline.json")
    assert ("settings.py", "AWS Access Key", 1) in result.new
    assert not result.clean


def test_secret_scan_passes_a_clean_tree(tiny_repo):
    assert secret_scan.check(tiny_repo, tiny_repo / "baseline.json").clean


def test_a_baseline_entry_nobody_audited_fails_the_scan(tiny_repo):
    text = (tiny_repo / "baseline.json").read_text()
    (tiny_repo / "baseline.json").write_text(
        text.replace('"is_secret": false', '"is_secret": null', 1)
    )
    assert secret_scan.check(tiny_repo, tiny_repo / "baseline.json").unaudited != []


def test_the_scan_runs_in_process_while_other_threads_live(tiny_repo):
    # detect-secrets forks a pool; a fork beside a live server thread deadlocked a full test run
    key = "AKIA" + "J7QX3ZL5WM2BRT6Y"
    (tiny_repo / "more.py").write_text(f'aws_access_key_id = "{key}"\n')
    subprocess.run(["git", "-C", str(tiny_repo), "add", "more.py"], check=True)
    release = threading.Event()
    waiter = threading.Thread(target=release.wait, daemon=True)
    waiter.start()
    try:
        result = secret_scan.check(tiny_repo, tiny_repo / "baseline.json")
    finally:
        release.set()
    assert [(f, t) for f, t, _ in result.new] == [("more.py", "AWS Access Key")]
