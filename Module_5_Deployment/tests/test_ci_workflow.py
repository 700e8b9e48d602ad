"""The CI workflow: runs `make test`, caches uv, pins every action, passes the offline checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from Module_1_Foundations.common.paths import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
PRE_COMMIT = REPO_ROOT / ".pre-commit-config.yaml"
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps() -> list[dict]:
    return [step for job in _workflow()["jobs"].values() for step in job["steps"]]


def _run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_ci_runs_exactly_make_test():
    assert [s["run"].strip() for s in _steps() if s.get("run", "").startswith("make")] == [
        "make test"
    ]


def test_every_action_is_pinned_to_a_commit_sha():
    uses = [s["uses"] for s in _steps() if "uses" in s]
    assert uses, "the workflow uses no action at all"
    assert [u for u in uses if not SHA_PIN.match(u)] == []


def test_uv_is_cached_on_the_lock_file_and_pinned_to_the_makefile_version():
    (setup_uv,) = [s for s in _steps() if s.get("uses", "").startswith("astral-sh/setup-uv@")]
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert setup_uv["with"]["enable-cache"] is True
    assert setup_uv["with"]["cache-dependency-glob"] == "uv.lock"
    assert setup_uv["with"]["version"] == makefile_uv.group(1)


def test_the_token_is_read_only_and_checkout_keeps_no_credentials():
    assert _workflow()["permissions"] == {"contents": "read"}
    (checkout,) = [s for s in _steps() if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False


def test_workflow_matches_githubs_schema_offline():
    done = _run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_offline():
    done = _run(BIN / "zizmor", "--offline", WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_would_catch_an_unpinned_action(tmp_path):
    bad = tmp_path / "ci.yml"
    bad.write_text(
        re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v4", WORKFLOW.read_text())
    )
    done = _run(BIN / "zizmor", "--offline", bad)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout + done.stderr


def test_schema_check_would_catch_a_malformed_workflow(tmp_path):
    bad = tmp_path / "ci.yml"
    bad.write_text(WORKFLOW.read_text().replace("runs-on:", "runs_on:"))
    done = _run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", bad)
    assert done.returncode != 0


def _hooks() -> list[dict]:
    return [
        hook for repo in yaml.safe_load(PRE_COMMIT.read_text())["repos"] for hook in repo["hooks"]
    ]


def test_pre_push_hook_runs_the_whole_of_make_lint():
    (hook,) = [h for h in _hooks() if h["id"] == "make-lint"]
    assert hook["entry"].split()[0] == "make" and hook["entry"].split()[-1] == "lint"
    assert hook["stages"] == ["pre-push"]
    assert hook["always_run"] is True and hook["pass_filenames"] is False


@pytest.mark.parametrize(
    ("hook_id", "same_as_make_lint"),
    [
        ("ruff-check", "ruff check"),
        ("ruff-airflow", "ruff check --select AIR"),
        ("hadolint", "hadolint --config .hadolint.yaml"),
        ("bandit", "bandit --quiet -c pyproject.toml"),
        ("workflows", "make --no-print-directory lint-workflows"),
    ],
)
def test_each_per_commit_hook_runs_a_make_lint_tool_with_its_settings(hook_id, same_as_make_lint):
    (hook,) = [h for h in _hooks() if h["id"] == hook_id]
    assert hook["entry"].replace(".venv/bin/", "").startswith(same_as_make_lint)
    tool = same_as_make_lint.split()[0]
    if tool != "make":
        assert (
            f"bin/{same_as_make_lint}" in _run("make", "--no-print-directory", "-n", "lint").stdout
        )


def test_contributing_covers_the_flow_the_path_asks_for():
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    musts = ["git switch -c", "Conventional Commits", "git rebase origin/main",
             "--force-with-lease", "pull request", "make test", "pre-commit install"]  # fmt: skip
    assert [m for m in musts if m not in text] == []


def test_image_layers_are_cached_between_runs_keyed_on_what_invalidates_them():
    (cache,) = [s for s in _steps() if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == "/var/lib/containers/storage"
    for source in ("uv.lock", "'Dockerfile'", "Module_5_Deployment/dockerfile"):
        assert source in cache["with"]["key"]
    names = [s.get("name", "") for s in _steps()]
    assert names.index(cache["name"]) < names.index("make test")
