"""The monorepo's contract with the learner: layout, imports, one locked environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from Module_1_Foundations.common.paths import REPO_ROOT

MODULES = (
    "Module_1_Foundations",
    "Module_2_Pipelines",
    "Module_3_Analytics_Eng",
    "Module_4_DataScience_ML",
    "Module_5_Deployment",
    "capstone",
)
NOTES = {"Module_4_DataScience_ML": "core_concepts_notes.md"}


def _tracked() -> set[str]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(out.splitlines())


def test_top_level_holds_exactly_the_learning_path_and_its_tooling():
    top = {p.split("/")[0] for p in _tracked()}
    required = {*MODULES, "data", "README.md", "requirements.txt", "Dockerfile"}
    tooling = {
        "pyproject.toml", "uv.lock", "Makefile", ".ci", ".gitignore", ".env.example",
        ".pre-commit-config.yaml", ".hadolint.yaml", ".sqlfluff", ".sqlfluffignore",
        ".dockerignore", ".github", "CONTRIBUTING.md", ".secrets.baseline", "compose.yaml",
        "mkdocs.yml", "docs",
    }  # fmt: skip
    assert required <= top, f"missing: {sorted(required - top)}"
    assert top <= required | tooling, (
        f"unexpected top-level entries: {sorted(top - required - tooling)}"
    )


def test_data_folders_are_kept_but_their_contents_are_ignored():
    tracked = _tracked()
    assert {"data/raw/README.md", "data/processed/README.md"} <= tracked
    assert not [p for p in tracked if p.startswith("data/") and not p.endswith("README.md")]
    probes = ["data/raw/loanbook/loans.csv", "data/processed/x.parquet", ".state/a"]
    ignored = subprocess.run(
        ["git", "check-ignore", *probes], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(ignored) == 3


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_readme_notes_tests_and_is_a_package(module):
    folder = REPO_ROOT / module
    assert (folder / "README.md").is_file()
    assert (folder / NOTES.get(module, "notes.md")).is_file()
    assert list((folder / "tests").glob("test_*.py")), f"{module}/tests has no tests"
    assert (folder / "__init__.py").is_file()


def test_modules_import_each_other_from_any_folder_without_environment_variables(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",) and not k.startswith("HDP_")
    }
    code = (
        "import Module_1_Foundations.common.settings as s, capstone, Module_2_Pipelines, "
        "Module_3_Analytics_Eng, Module_4_DataScience_ML, Module_5_Deployment;"
        "print(s.get_settings().profile)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "local"


def _uv() -> str:
    found = shutil.which("uv") or str(REPO_ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: run 'make setup'"
    return found


def test_requirements_txt_is_generated_from_the_lock_and_in_sync(tmp_path):
    out = tmp_path / "requirements.txt"
    subprocess.run(
        [_uv(), "export", "--frozen", "--all-groups", "--no-hashes", "--quiet", "-o", str(out)],
        cwd=REPO_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    committed = (REPO_ROOT / "requirements.txt").read_text()

    def body(text: str) -> list[str]:  # the header names the output path: skip it
        return [ln for ln in text.splitlines() if not ln.startswith("#    uv export")]

    assert body(out.read_text()) == body(committed), (
        "requirements.txt is out of sync with uv.lock: run 'make requirements' and commit it"
    )
    pins = [ln for ln in committed.splitlines() if ln and not ln.startswith(("#", " ", "-e"))]
    assert all("==" in ln for ln in pins), "every requirement is pinned"
    assert not any(ln.startswith("dbt-core-experimental-parser") for ln in pins)


def test_the_lock_pins_the_toolchain_the_readme_promises():
    lock = (REPO_ROOT / "uv.lock").read_text()
    for name, prefix in {
        "apache-airflow": '"3.', "dbt-core": '"1.11.', "duckdb": '"1.4.', "pandas": '"3.',
    }.items():  # fmt: skip
        assert f'name = "{name}"\nversion = {prefix}' in lock, name


def test_make_help_lists_the_commands():
    done = subprocess.run(
        ["make", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    for target in ("setup", "run", "test", "bench", "clean"):
        assert f"make {target} " in done.stdout


def test_ci_calls_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make run" in readme
    assert "make test" in readme


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(1500)  # minutes of downloads and unpacking; 15 on a loaded machine
def test_plain_pip_installs_requirements_txt_into_a_fresh_venv(tmp_path):
    """The second install route: no uv, just venv + pip, from the registries only."""
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        # --no-compile: the .pyc files are not what is under test, and cost a minute
        [str(venv / "bin" / "pip"), "install", "--quiet", "--no-compile", "-r", "requirements.txt"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-3000:]
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import Module_1_Foundations.datasets.loanbook_generator, airflow.sdk, dbt.cli.main, "
         "duckdb, streamlit, sklearn; print(duckdb.__version__)"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert probe.stdout.startswith("1.4.")
