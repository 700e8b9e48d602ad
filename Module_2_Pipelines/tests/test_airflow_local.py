"""Local Airflow control: its configuration, and a real standalone run from start to clean stop."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.services import free_port, group_members
from Module_1_Foundations.common.settings import get_settings, load_settings
from Module_2_Pipelines import airflow_local
from Module_2_Pipelines.tests.conftest import TEST_LOANS


def test_airflow_env_binds_loopback_sizes_for_a_laptop_and_keeps_state_in_airflow_home(tmp_path):
    settings = load_settings(airflow_home=tmp_path / "af", airflow_port=18123)
    env = airflow_local.airflow_env(settings, base={"PATH": "/usr/bin"})

    assert env["AIRFLOW_HOME"] == str(tmp_path / "af")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path / "af" / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__PORT"] == "18123"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:18123"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["PATH"].split(os.pathsep)[:2] == [
        str(tmp_path / "af" / "bin"),
        str(Path(sys.executable).parent),
    ]


def test_the_dags_folder_links_this_module_and_the_capstone_and_is_idempotent(tmp_path):
    dags = airflow_local.prepare_dags_folder(tmp_path / "dags")
    airflow_local.prepare_dags_folder(tmp_path / "dags")

    links = {p.name: p.resolve() for p in dags.iterdir() if p.is_symlink()}
    assert links == {
        "Module_2_Pipelines": REPO_ROOT / "Module_2_Pipelines",
        "capstone": REPO_ROOT / "capstone",
    }
    ignore = (dags / ".airflowignore").read_text().splitlines()
    helpers = {"Module_2_Pipelines/etl.py", "Module_2_Pipelines/airflow_local.py"}
    assert {"tests/", "benchmarks/", *helpers, "Module_2_Pipelines/airflow_api.py"} <= set(ignore)


def test_a_real_folder_where_a_link_belongs_is_refused(tmp_path):
    (tmp_path / "dags" / "capstone").mkdir(parents=True)
    with pytest.raises(UserError, match="is a real folder, not a link"):
        airflow_local.prepare_dags_folder(tmp_path / "dags")


def test_the_shim_skips_the_log_servers_and_passes_everything_else_through(tmp_path):
    paths = airflow_local.AirflowPaths(tmp_path)
    shim = airflow_local.write_shim(paths)
    fake = tmp_path / "fake-airflow"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    shim.write_text(
        shim.read_text().replace(str(Path(sys.executable).parent / "airflow"), str(fake))
    )

    def run(*args: str) -> str:
        return subprocess.run([shim, *args], capture_output=True, text=True, check=True).stdout

    assert run("scheduler") == "scheduler --skip-serve-logs\n"
    assert run("triggerer") == "triggerer --skip-serve-logs\n"
    assert run("api-server") == "api-server\n"
    assert run("db", "migrate") == "db migrate\n"


def test_up_refuses_a_port_that_another_program_holds(tmp_path):
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        settings = load_settings(airflow_home=tmp_path / "af", airflow_port=port)
        with pytest.raises(UserError, match=rf"port\(s\) api={port} on 127.0.0.1 are in use"):
            airflow_local.up(settings, quiet=True)
    assert not airflow_local.standalone_spec(settings).pid_file.exists()


def test_status_and_down_say_so_when_nothing_runs(tmp_path, capsys):
    settings = load_settings(airflow_home=tmp_path / "af")
    assert airflow_local.status(settings) == 1
    assert airflow_local.down(settings) is False
    out = capsys.readouterr().out
    assert "Airflow is not running" in out


def test_trigger_without_a_running_airflow_says_how_to_start_it(tmp_path):
    settings = load_settings(airflow_home=tmp_path / "af")
    with pytest.raises(UserError, match="start it with 'make airflow-up'"):
        airflow_local.trigger(settings, logical_date=date(2024, 1, 3))


def test_env_prints_exports_a_shell_can_eval_for_the_airflow_cli(tmp_path):
    settings = load_settings(airflow_home=tmp_path / "af", airflow_port=18124)
    script = airflow_local.shell_exports(settings) + '\necho "$AIRFLOW_HOME|$AIRFLOW__API__PORT"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == f"{tmp_path / 'af'}|18124"
    assert (tmp_path / "af" / "dags" / "Module_2_Pipelines").is_symlink()


def test_cli_help_lists_the_commands():
    done = subprocess.run(
        [sys.executable, "-m", "Module_2_Pipelines.airflow_local", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    for command in ("up", "down", "status", "trigger", "env"):
        assert command in done.stdout


def _listening_addresses(pids: list[int]) -> set[str]:
    import psutil

    found = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        found |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    return found


@pytest.mark.slow
@pytest.mark.e2e
def test_standalone_runs_the_dag_triggered_through_rest_and_stops_without_orphans(
    lake, monkeypatch, capsys
):
    monkeypatch.setenv("HDP_AIRFLOW_HOME", str(lake.root / "airflow"))
    monkeypatch.setenv("HDP_AIRFLOW_PORT", str(free_port()))
    # only the triggered run: no catch-up of the demo window competing with it
    monkeypatch.setenv("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")
    # healthy in 30-50 s alone, but 275 s and more with other test suites on the same 2 cores
    monkeypatch.setattr(airflow_local, "START_TIMEOUT", 900.0)
    get_settings.cache_clear()
    settings = load_settings()
    info = airflow_local.up(settings)
    pgid = info["pgid"]
    try:
        assert airflow_local.status(settings) == 0
        assert airflow_local.up(settings, quiet=True)["reused"], "up is idempotent"
        assert _listening_addresses(group_members(pgid)) == {"127.0.0.1"}
        before = datetime.now(UTC)
        state = airflow_local.trigger(
            settings, logical_date=date(2024, 1, 3), conf={"loans": TEST_LOANS}, timeout=600
        )
        rerun = airflow_local.trigger(
            settings, logical_date=date(2024, 1, 3), conf={"loans": TEST_LOANS}, timeout=600
        )
        api = airflow_local.client(settings)
        latest = api.latest_run(airflow_local.DAG_ID, after=before, run_type="manual")
        waited = api.wait_for_dag_run(airflow_local.DAG_ID, after=before, timeout=30, echo=False)
        no_asset_run = api.latest_run(airflow_local.DAG_ID, run_type="asset_triggered")
    finally:
        stopped = airflow_local.down(settings)
    out = capsys.readouterr().out
    print(out)

    assert (state, rerun) == ("success", "success")
    assert latest is not None and latest["logical_date"].startswith("2024-01-03")
    assert (waited["dag_run_id"], waited["state"]) == (latest["dag_run_id"], "success")
    assert no_asset_run is None
    assert "login: admin / " in out and "(not generated yet)" not in out
    assert "cleared the existing run, running it again" in out
    for task in ("extract", "validate", "transform", "load", "verify", "publish"):
        assert f"{task:10} success" in out
    day = date(2024, 1, 3)
    assert lake.partition_files("loans", day) == ["_manifest.json", "part-00000.parquet"]
    assert lake.layout.daily_manifest(day).is_file()
    assert len(lake.object_keys()) == 9  # 4 tables x (Parquet + _manifest.json) + the manifest
    assert (lake.root / "logs" / "airflow").is_dir()  # task logs under the module's logs/
    assert stopped is True
    assert group_members(pgid) == []
    assert not airflow_local.standalone_spec(settings).pid_file.exists()
