"""``make run`` end to end: a fresh state folder, both DAGs through the scheduler, the dashboard
serving real pipeline output, then Ctrl-C with no process left behind. Takes minutes.

This is also issue 10's real-scheduler test: the ETL run's Asset event, not a trigger, starts
the risk model's run, and the snapshot being served is that run's output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from capstone.dashboard_project import browser, ui
from capstone.tests.dashboard_snapshot import table
from Module_1_Foundations.common import services
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.project import local_s3_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(3600)]
READY_TIMEOUT = 3000.0


def test_make_run_ends_in_the_dashboard_and_ctrl_c_stops_everything(tmp_path: Path):
    ports = {name: services.free_port() for name in ("airflow", "dashboard")}
    ports["s3"] = local_s3_server.free_s3_port()  # its derived ports must exist too
    env = {
        **os.environ,
        "HDP_STATE_DIR": str(tmp_path / "state"),
        "HDP_RAW_DIR": str(tmp_path / "raw"),
        "HDP_PROCESSED_DIR": str(tmp_path / "processed"),
        "HDP_PIPELINE_LOG_DIR": str(tmp_path / "logs"),
        "HDP_S3_PORT": str(ports["s3"]),
        "HDP_AIRFLOW_PORT": str(ports["airflow"]),
        "HDP_DASHBOARD_PORT": str(ports["dashboard"]),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "make_run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "capstone.run_all", "--dates", "2024-01-01", "--loans", "3000"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{ports['dashboard']}/"
    family: set[int] = set()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not services.http_ok(url + "_stcore/health"):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the dashboard never became healthy"
            time.sleep(2)
        while "Ctrl-C stops everything" not in log.read_text():
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
        text = log.read_text()
        assert f"Dashboard:  {url}" in text and "login: admin / " in text
        family = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}

        serving = tmp_path / "state" / "serving"
        # run_all waits for a run of run_type asset_triggered: no one triggered it by hand
        risk_run = re.search(r"^loanbook_risk_model: (\S+) success$", text, re.M)
        assert risk_run, text[-3000:]
        assert risk_run.group(1).startswith("asset_triggered__")
        manifest = json.loads((serving / "current" / "manifest.json").read_text())
        assert manifest["run_id"] == risk_run.group(1)
        assert table(serving, "loans")["loan_id"].nunique() > 0
        # every holdout loan has its true PD (the daily drops carry the ground truth too)
        metrics = table(serving, "model_metrics")
        coverage = metrics.query("metric == 'truth_coverage'")["value"]
        assert len(coverage) == 4 and (coverage == 1.0).all(), metrics
        assert (metrics.query("metric == 'best_possible_auc'")["value"] > 0.5).all()
        with browser.chromium() as chrome:
            page = chrome.new_page(viewport=browser.VIEWPORT)
            browser.open_page(page, url, browser.PAGES[0], timeout_ms=120_000)
            live = table(serving, "loans").query("is_live")
            assert browser.metric_value(page, "Live loans") == ui.count(len(live))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
            try:
                proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    left = [pid for pid in family if services.pid_alive(pid)]
    assert left == [], f"processes left after Ctrl-C: {left}"
