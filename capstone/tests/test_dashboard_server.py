"""The dashboard as a service: started on 127.0.0.1, reused, stopped with nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from capstone.dashboard_project import server
from capstone.tests.dashboard_snapshot import shared_serving_dir
from Module_1_Foundations.common import services
from Module_1_Foundations.common.settings import load_settings

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path):
    return load_settings(
        state_dir=tmp_path / "state",
        serving_dir=shared_serving_dir(),
        dashboard_port=services.free_port(),
    )


def test_start_is_idempotent_and_stop_leaves_no_process(settings):
    first = server.start(settings)
    try:
        assert first["healthy"] and not first["reused"]
        assert first["url"] == f"http://127.0.0.1:{settings.dashboard_port}/"
        listening = {
            c.laddr.ip
            for c in psutil.Process(first["pid"]).net_connections()
            if c.status == psutil.CONN_LISTEN
        }
        assert listening == {"127.0.0.1"}
        again = server.start(settings)
        assert again["reused"] and again["pid"] == first["pid"]
    finally:
        stopped = server.stop(settings)
    assert stopped["was_running"]
    assert services.group_members(first["pgid"]) == []
    assert not server.stop(settings)["was_running"]


def test_serve_stops_on_ctrl_c(settings):
    env = {
        **os.environ,
        "HDP_STATE_DIR": str(settings.state_dir),
        "HDP_SERVING_DIR": str(settings.serving_dir),
        "HDP_DASHBOARD_PORT": str(settings.dashboard_port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "capstone.dashboard_project.server", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"dashboard: http://127.0.0.1:{settings.dashboard_port}/")
        assert services.http_ok(f"http://127.0.0.1:{settings.dashboard_port}/_stcore/health")
        record = services.read_record(server.dashboard_spec(settings))
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole group
        assert proc.wait(timeout=120) == 0  # the stop itself takes up to 25 s (TERM, then KILL)
        assert "dashboard stopped" in proc.stdout.read()
        deadline = time.monotonic() + 10
        while services.group_members(record["pgid"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert services.group_members(record["pgid"]) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        server.stop(settings)


def test_make_stop_with_nothing_running_says_so(tmp_path):
    env = {**os.environ, "HDP_STATE_DIR": str(tmp_path / "state")}
    result = subprocess.run(
        [sys.executable, "-m", "capstone.run_all", "stop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "dashboard was not running" in result.stdout
    assert "object store was not running" in result.stdout


def test_the_benchmarks_floor_is_a_bare_page_served_like_the_dashboard(tmp_path):
    """bench_dashboard.py measures a bare Streamlit page beside the dashboard: it must render
    the title and the one metric the benchmark waits for, and be served with the dashboard's
    own flags under its own service name (its pid file must not be the dashboard's)."""
    from streamlit.testing.v1 import AppTest

    from capstone.benchmarks import bench_dashboard

    at = AppTest.from_file(str(bench_dashboard.FLOOR_APP)).run()
    assert not at.exception
    assert [t.value for t in at.title] == [bench_dashboard.FLOOR_TITLE]
    assert [m.label for m in at.metric] == [bench_dashboard.FLOOR_METRIC]
    assert at.metric[0].value == "0" and not at.multiselect  # the first-render floor: bare
    # the interaction floor (?pick=1): each pick in the multiselect changes the watched metric
    at = AppTest.from_file(str(bench_dashboard.FLOOR_APP))
    at.query_params["pick"] = "1"
    at.run()
    at.multiselect[0].select("A").run()
    at.multiselect[0].select("B").run()
    assert at.metric[0].value == "2"
    settings = load_settings(state_dir=tmp_path / "state")
    floor = server.dashboard_spec(
        settings, 8601, app=bench_dashboard.FLOOR_APP, name="streamlit-floor"
    )
    dashboard = server.dashboard_spec(settings, 8601)
    swapped = [str(server.APP) if a == str(bench_dashboard.FLOOR_APP) else a for a in floor.argv]
    assert swapped == list(dashboard.argv), "the same command, another script"
    assert floor.run_dir != dashboard.run_dir and floor.name == "streamlit-floor"
