"""The image definitions: lint-clean, by role from the lock, unprivileged, with no secrets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from Module_1_Foundations.common.paths import REPO_ROOT
from Module_5_Deployment.images import ROLES

HADOLINT = Path(sys.executable).with_name("hadolint")
DOCKERFILES = sorted({role.dockerfile for role in ROLES.values()})


def _stages(text: str) -> dict[str, str]:
    """Each ``FROM ... AS name`` stage's text (the unnamed last stage is ``""``)."""
    parts = re.split(r"^(FROM .*)$", text, flags=re.M)[1:]
    stages = {}
    for header, body in zip(parts[::2], parts[1::2], strict=True):
        name = header.split(" AS ")[1].strip() if " AS " in header else ""
        stages[name] = header + body
    return stages


def _runtime_stages(text: str) -> dict[str, str]:
    """The stages that end up in an image (every stage not used only as a builder)."""
    stages = _stages(text)
    return {
        n: s
        for n, s in stages.items()
        if n in {"", "runtime", "pipeline", "dashboard", "object-store"}
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_passes_at_warning_level(dockerfile):
    done = subprocess.run(
        [str(HADOLINT), "--config", str(REPO_ROOT / ".hadolint.yaml"), str(REPO_ROOT / dockerfile)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_would_catch_a_root_image(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y make\n")
    done = subprocess.run([str(HADOLINT), str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "DL3008" in done.stdout


#: role -> (the stage that syncs its dependencies, what it syncs from the lock)
DEPENDENCY_STAGES = {
    "converter": ("builder", "--no-default-groups"),  # the core dependencies only
    "pipeline": ("pipeline-deps", "--no-default-groups --group pipeline"),
    "dashboard": ("dashboard-deps", "--no-default-groups --group dashboard"),
    "object-store": ("object-store-deps", "--only-group local-services"),  # just the binary
}


@pytest.mark.parametrize("role", ROLES.values(), ids=ROLES)
def test_each_role_installs_only_its_group_from_the_lock_in_its_own_layer(role):
    text = (REPO_ROOT / role.dockerfile).read_text()
    stages = _stages(text)
    deps_stage, selection = DEPENDENCY_STAGES[role.name]
    assert f"uv sync --frozen {selection} --no-install-project" in stages[deps_stage]
    image_stage = stages[role.target or ""]
    assert f"COPY --from={deps_stage} " in image_stage
    # the lock is copied before any code, so a code change reuses the dependency layer
    assert text.index("COPY pyproject.toml uv.lock") < text.index("COPY --chown")


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_uv_lives_in_builder_stages_only_and_the_user_is_numeric(dockerfile):
    text = (REPO_ROOT / dockerfile).read_text()
    for name, stage in _runtime_stages(text).items():
        assert not re.search(r"/opt/uv|\buv (sync|pip)", stage), f"uv in the image stage {name}"
        assert "chown -R" not in stage, "chown -R copies every file into a new layer: COPY --chown"
    assert re.search(r"^USER 10001$", text, re.M)
    assert "--chown=10001:10001" in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_no_secret_or_credential_is_baked_into_an_image(dockerfile):
    text = (REPO_ROOT / dockerfile).read_text()
    assert not re.search(r"(SECRET|PASSWORD|TOKEN|ACCESS_KEY)\w*\s*=", text, re.I)
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".git", ".state", ".venv"} <= set(ignored)


def test_servers_have_a_healthcheck_and_the_job_does_not():
    stages = _stages((REPO_ROOT / "Dockerfile").read_text())
    assert all("HEALTHCHECK" in stages[s] for s in ("pipeline", "dashboard", "object-store"))
    assert "/_stcore/health" in stages["dashboard"]
    assert "HEALTHCHECK" not in (REPO_ROOT / ROLES["converter"].dockerfile).read_text()


def test_the_dashboard_image_carries_no_airflow_and_no_dbt():
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    dashboard_group = pyproject.split("\ndashboard = [", 1)[1].split("]", 1)[0]
    assert "airflow" not in dashboard_group and "dbt" not in dashboard_group
    dashboard = _stages((REPO_ROOT / "Dockerfile").read_text())["dashboard"]
    assert "pipeline-deps" not in dashboard and "Module_3_Analytics_Eng" not in dashboard
