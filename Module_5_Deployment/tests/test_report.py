"""The terminal report: the dashboard's numbers, from the same snapshot and query layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capstone.dashboard_project import queries
from capstone.serving_snapshot import open_current
from capstone.tests.dashboard_snapshot import shared_serving_dir, table
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.settings import load_settings
from Module_5_Deployment.report import build_report


def run_report(serving_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HDP_SERVING_DIR": str(serving_dir), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "Module_5_Deployment.report", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def serving() -> Path:
    return shared_serving_dir()


def test_json_report_figures_equal_the_snapshot_tables(serving):
    done = run_report(serving, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    loans = table(serving, "loans")
    live = loans[loans["is_live"]]
    assert report["portfolio"]["loans"] == len(loans)
    assert report["portfolio"]["live_loans"] == len(live)
    assert report["portfolio"]["exposure"] == pytest.approx(live["outstanding_balance"].sum())
    assert report["portfolio"]["expected_loss"] == pytest.approx(live["expected_loss"].sum())
    by_band = live.groupby("band").size().to_dict()
    assert {row["band"]: row["loans"] for row in report["bands"]} == by_band
    metrics = table(serving, "model_metrics")
    assert {row["model"] for row in report["models"]} == set(metrics["model"])
    auc = metrics[metrics["metric"] == "auc"].set_index("model")["value"].to_dict()
    assert {row["model"]: row["auc"] for row in report["models"]} == pytest.approx(auc)
    manifest = open_current(load_settings(serving_dir=serving)).manifest
    assert report["snapshot"]["run_id"] == manifest["run_id"]
    assert report["champion"]["version"] == manifest["model_version"]


def test_table_report_shows_every_section(serving):
    done = run_report(serving)
    assert done.returncode == 0, done.stderr
    for title in ("Portfolio now", "PD bands", "scratch versus scikit-learn", "Champion lineage"):
        assert title in done.stdout
    lineage = queries.champion_lineage(open_current(load_settings(serving_dir=serving)))
    assert str(lineage["git_commit"]) in done.stdout


def test_the_report_and_the_dashboard_query_layer_agree(serving):
    settings = load_settings(serving_dir=serving)
    report = build_report(settings)
    kpis = queries.portfolio_kpis(open_current(settings))
    assert report["portfolio"] == pytest.approx(kpis)


def test_no_snapshot_is_one_line_naming_the_command(tmp_path):
    done = run_report(tmp_path / "serving", "--format", "json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no serving snapshot") and "make run" in lines[0]


def test_help_describes_the_formats():
    done = subprocess.run(
        [sys.executable, "-m", "Module_5_Deployment.report", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--format {table,json}" in done.stdout
