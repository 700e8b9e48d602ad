"""Every role image builds, stays within its size budget, and does its job when run.

The images are built with the commands `make image` runs (Module_5_Deployment/images.py):
docker when a daemon answers, else podman on a base made from Debian's packages. A rebuild
reuses every cached layer, so after the first run only changed code layers are rebuilt.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from capstone.tests.dashboard_snapshot import copy_serving_dir
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.services import free_port
from Module_5_Deployment import images
from Module_5_Deployment.images import ROLES, Engine

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]
BUILD_SECONDS: dict[str, float] = {}


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.detect()


def _built(engine: Engine, name: str) -> str:
    role = ROLES[name]
    if name not in BUILD_SECONDS:
        BUILD_SECONDS[name] = images.build(engine, role)
        above = engine.megabytes_above_base(role.tag)
        print(f"\n{role.tag}: built in {BUILD_SECONDS[name]:.0f} s, {above:.0f} MB above base")
    return role.tag


def _run(engine: Engine, image: str, *args: str, options: tuple[str, ...] = (), timeout: int = 600):
    return subprocess.run(
        engine.run_command(image, *args, options=options),
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("name", [n for n in ROLES if n != "dashboard"])
def test_image_stays_within_its_size_budget_above_the_base(engine, name):
    tag = _built(engine, name)
    assert engine.megabytes_above_base(tag) <= ROLES[name].budget_mb


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    folder.chmod(0o777)  # the job runs as uid 10001, not as the owner of the temp folder
    rows = ["loan_id,amount,issued"] + [
        f"{i},{100 + i}.5,2024-01-{1 + i % 28:02d}" for i in range(500)
    ]
    rows += ["7,107.5,2024-01-08", "501,not-a-number,2024-02-01"]  # a duplicate, a bad amount
    (folder / "loans.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_converter_job_converts_a_mounted_csv_as_non_root_and_counts_reconcile(engine, work):
    tag = _built(engine, "converter")
    done = _run(engine, tag, "convert", "/work/loans.csv", "--out", "/work/loans", "--quiet",
                options=("--network=none", "-v", f"{work}:/work"))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    out = work / "loans"
    manifest = json.loads((out / "_manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["rows_in"] == 502
    assert (
        counts["rows_in"]
        == counts["rows_out"] + counts["rows_rejected"] + counts["duplicates_removed"]
    )
    assert counts["duplicates_removed"] == 1
    parquet_rows = sum(pq.read_metadata(p).num_rows for p in out.rglob("*.parquet"))
    assert parquet_rows == counts["rows_out"]
    assert {p.stat().st_uid for p in out.rglob("*")} == {10001}, "written by the image's user"


def test_converter_job_reports_a_missing_input_in_one_line(engine, work):
    tag = _built(engine, "converter")
    done = _run(
        engine, tag, "convert", "/work/nope.csv", options=("--network=none", "-v", f"{work}:/work")
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in done.stderr


def _capstone_dag_ids() -> set[str]:
    """DAG ids the capstone pipeline defines in this tree (none until it is merged)."""
    folder = REPO_ROOT / "capstone" / "risk_model_pipeline"
    text = " ".join(p.read_text() for p in folder.rglob("*.py") if "tests" not in p.parts)
    return {"loanbook_risk_model"} if "loanbook_risk_model" in text else set()


def test_pipeline_image_lists_its_dags_and_parses_the_dbt_project(engine):
    tag = _built(engine, "pipeline")
    script = " && ".join([
        "id -u",
        "airflow db migrate >/dev/null 2>&1",
        # cosmos renders the risk DAG from the dbt manifest: built first, as make airflow-up does
        "python -m capstone.risk_model_pipeline.dbt_manifest >/dev/null",
        "airflow dags list --local -o json 2>/dev/null",
        "python -m Module_3_Analytics_Eng.dbt_runner -- parse >/dev/null",
        "echo dbt-parse-ok",
    ])  # fmt: skip
    done = _run(engine, tag, "bash", "-c", script, options=("--network=none",), timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "10001"
    # Airflow's structured logs share stdout with the listing: the listing is the JSON array
    (listing,) = [line for line in lines if line.startswith("[")]
    dags = {d["dag_id"] for d in json.loads(listing)}
    assert {"loanbook_daily_etl", *_capstone_dag_ids()} <= dags
    assert lines[-1] == "dbt-parse-ok"


def test_object_store_image_runs_seaweedfs_as_non_root(engine):
    tag = _built(engine, "object-store")
    done = _run(engine, tag, "sh", "-c", "id -u && weed version", options=("--network=none",))
    assert done.returncode == 0, done.stderr[-2000:]
    uid, version = done.stdout.strip().splitlines()[:2]
    assert uid == "10001" and "version" in version.lower()


def test_dashboard_image_answers_its_health_endpoint_on_a_snapshot_volume(engine, tmp_path):
    tag = _built(engine, "dashboard")
    assert engine.megabytes_above_base(tag) <= ROLES["dashboard"].budget_mb
    state = tmp_path / "state"
    state.mkdir()
    copy_serving_dir(state / "serving")  # a real published snapshot, as the pipeline writes it
    port, name = free_port(), f"hdp-dashboard-test-{os.getpid()}"
    # host network on 127.0.0.1 only: these machines have no container network; no port is published
    command = engine.run_command(tag, "streamlit", "run", "capstone/dashboard_project/app.py",
        "--server.address=127.0.0.1", f"--server.port={port}", "--server.headless=true",
        options=("-d", "--name", name, "--network=host", "-v", f"{state}:/state:ro"))  # fmt: skip
    command.remove("--rm")
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    try:
        deadline, answer = time.monotonic() + 180, ""
        while time.monotonic() < deadline and answer != "ok":
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=3
                ) as r:
                    answer = r.read().decode()
            except OSError:
                time.sleep(1)
        assert answer == "ok"
    finally:
        subprocess.run(
            [engine.name, "rm", "-f", name], capture_output=True, check=False, timeout=120
        )
