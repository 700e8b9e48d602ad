"""Background services, specified on tiny real processes: start, reuse, health, stop, no orphans."""

from __future__ import annotations

import json
import signal
import socket
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from Module_1_Foundations.common import services
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.services import ServiceSpec, StopStep

FAST_STOP = (StopStep(signal.SIGTERM, 3.0), StopStep(signal.SIGKILL, 3.0))
LEADER_FIRST = (
    StopStep(signal.SIGINT, 1.5, whole_group=False),
    StopStep(signal.SIGTERM, 1.5),
    StopStep(signal.SIGKILL, 3.0),
)


def http_server(run_dir: Path, **changes) -> ServiceSpec:
    """``python -m http.server`` on a free loopback port, healthy when it answers GET /."""
    port = services.free_port()
    spec = ServiceSpec(
        name="web",
        argv=(sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)),
        run_dir=run_dir,
        health=f"http://127.0.0.1:{port}/",
        ports={"http": port},
        start_timeout=20.0,
        stop_steps=FAST_STOP,
    )
    return replace(spec, **changes)


def python_service(run_dir: Path, name: str, code: str, **changes) -> ServiceSpec:
    """A service running ``code``; healthy once it has written ``run_dir/ready``."""
    script = run_dir / f"{name}.py"
    run_dir.mkdir(parents=True, exist_ok=True)
    script.write_text(textwrap.dedent(code))
    spec = ServiceSpec(
        name=name,
        argv=(sys.executable, str(script)),
        run_dir=run_dir,
        health=lambda: (run_dir / "ready").exists(),
        start_timeout=20.0,
        stop_steps=LEADER_FIRST,
    )
    return replace(spec, **changes)


@pytest.fixture
def cleanup():
    """Stop every spec a test started, even when it fails halfway."""
    started: list[ServiceSpec] = []
    yield started.append
    for spec in started:
        services.stop(replace(spec, stop_steps=(StopStep(signal.SIGKILL, 5.0),)))


# --- ports and processes -----------------------------------------------------------------------


def test_free_port_is_free_and_port_in_use_sees_a_listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        assert services.port_in_use(taken)
        assert services.port_in_use(taken, host="127.0.0.1")
    port = services.free_port()
    assert 1024 < port < 65536 and not services.port_in_use(port)


def test_pid_alive_is_false_for_an_exited_unreaped_process_and_true_for_this_one(tmp_path):
    import subprocess

    assert services.pid_alive(psutil.Process().pid)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not services.pid_alive(child.pid), "a zombie counts as dead"
    child.wait()
    assert not services.pid_alive(child.pid)


# --- start / status / stop ---------------------------------------------------------------------


def test_start_writes_the_pid_file_waits_until_healthy_and_stop_removes_both(tmp_path, cleanup):
    spec = http_server(tmp_path)
    cleanup(spec)
    up = services.start(spec)

    assert up["running"] and up["healthy"] and not up["reused"]
    record = json.loads(spec.pid_file.read_text())
    assert record["pid"] == record["pgid"] == up["pid"], "its own process group"
    assert record["ports"] == {"http": spec.ports["http"]}
    assert record["started_at"].endswith("+00:00")
    assert services.http_ok(spec.health)
    json.dumps(services.status(spec))  # status is JSON-able as it is

    down = services.stop(spec)
    assert down["was_running"] and down["last_step"] == "SIGTERM to the group"
    assert services.group_members(record["pgid"]) == []
    assert not spec.pid_file.exists()
    assert not services.port_in_use(spec.ports["http"])
    after = services.status(spec)
    assert (after["running"], after["healthy"], after["pid"]) == (False, False, None)


def test_start_is_idempotent_a_running_healthy_service_is_reused(tmp_path, cleanup):
    spec = http_server(tmp_path)
    cleanup(spec)
    first = services.start(spec)
    again = services.start(spec)
    assert again["reused"] and again["pid"] == first["pid"]
    assert services.group_members(first["pgid"]) == [first["pid"]], "no second server"


def test_the_console_log_gets_the_service_output(tmp_path, cleanup):
    spec = http_server(tmp_path, log_to=tmp_path / "logs" / "web-console.log")
    cleanup(spec)
    services.start(spec)
    assert services.http_ok(spec.health)
    services.stop(spec)
    assert spec.log_file == tmp_path / "logs" / "web-console.log"
    assert '"GET / HTTP/1.1" 200' in spec.log_file.read_text()


def test_stop_without_a_pid_file_reports_nothing_ran(tmp_path):
    assert services.stop(http_server(tmp_path)) == {
        "name": "web",
        "was_running": False,
        "last_step": None,
        "seconds": 0.0,
    }


def test_a_stale_pid_file_is_not_mistaken_for_a_running_service(tmp_path, cleanup):
    spec = http_server(tmp_path)
    cleanup(spec)
    # this very pytest process, but with another start time: a reused pid, not our server
    me = psutil.Process()
    stale = {"pid": me.pid, "pgid": me.pid, "create_time": me.create_time() - 3600}
    spec.pid_file.write_text(json.dumps(stale))

    assert services.status(spec)["running"] is False
    up = services.start(spec)
    assert not up["reused"] and up["pid"] != me.pid


# --- failures are one clear line -----------------------------------------------------------------


def test_a_service_that_exits_at_start_is_an_error_quoting_its_log(tmp_path):
    spec = python_service(
        tmp_path, "crash", "import sys\nprint('config key missing: foo')\nsys.exit(3)\n"
    )
    with pytest.raises(UserError) as error:
        services.start(spec)
    message = str(error.value)
    assert "\n" not in message
    assert "crash exited with status 3" in message
    assert message.endswith("config key missing: foo")
    assert not spec.pid_file.exists()


def _live_children() -> list[psutil.Process]:
    """This process's children that still run (a zombie of an earlier test has no cmdline)."""
    return [child for child in psutil.Process().children() if services.pid_alive(child.pid)]


def test_a_service_never_healthy_is_stopped_and_the_error_names_the_timeout(tmp_path):
    log = tmp_path / "sulky.log"

    def never_healthy() -> bool:
        # wait (bounded) for the service's first line, so a loaded machine that starts `sh`
        # late still shows it in the error; the answer is always "not healthy"
        deadline = time.monotonic() + 30
        while b"listening soon" not in (log.read_bytes() if log.exists() else b""):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return False

    spec = ServiceSpec(
        name="sulky",
        argv=("sh", "-c", "echo listening soon; exec sleep 300"),
        run_dir=tmp_path,
        health=never_healthy,
        start_timeout=1.0,
        stop_steps=FAST_STOP,
    )
    with pytest.raises(
        UserError, match=r"^sulky was not healthy within 1 s; see .*: listening soon$"
    ):
        services.start(spec)
    assert not spec.pid_file.exists()
    assert not [p for p in _live_children() if "sleep" in p.cmdline()]


def test_busy_ports_are_refused_before_anything_starts(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        spec = http_server(tmp_path, ports={"http": port}, busy_ports_hint="pick another port")
        with pytest.raises(UserError) as error:
            services.start(spec)
    assert str(error.value) == (
        f"web cannot start: port(s) http={port} on 127.0.0.1 are in use: pick another port"
    )
    assert not spec.pid_file.exists() and not spec.log_file.exists()


def test_wait_healthy_on_a_service_that_is_not_running_says_so(tmp_path):
    with pytest.raises(UserError, match=r"^web is not running; see "):
        services.wait_healthy(http_server(tmp_path), timeout=1)


# --- the stop sequence -------------------------------------------------------------------------

IGNORES_SIGINT = """
    import pathlib, signal, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pathlib.Path("ready").write_text("")
    time.sleep(300)
"""

STUBBORN = """
    import pathlib, signal, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pathlib.Path("ready").write_text("")
    time.sleep(300)
"""

# The leader exits on SIGINT (KeyboardInterrupt) but leaves a grandchild that ignores SIGINT:
# what ``airflow standalone``'s idle workers do. A leader-only signal would orphan it.
FORKS_A_GRANDCHILD = """
    import pathlib, subprocess, sys, time
    code = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(300)"
    child = subprocess.Popen([sys.executable, "-c", code])
    pathlib.Path("grandchild.pid").write_text(str(child.pid))
    pathlib.Path("ready").write_text("")
    time.sleep(300)
"""


def test_a_leader_that_ignores_sigint_is_stopped_by_the_next_step(tmp_path, cleanup):
    spec = python_service(tmp_path, "deaf", IGNORES_SIGINT)
    cleanup(spec)
    up = services.start(spec)
    down = services.stop(spec)
    assert down["last_step"] == "SIGTERM to the group"
    assert down["seconds"] >= 1.5, "SIGINT got its grace period first"
    assert services.group_members(up["pgid"]) == []


def test_a_process_that_ignores_sigint_and_sigterm_is_killed(tmp_path, cleanup):
    spec = python_service(tmp_path, "stubborn", STUBBORN)
    cleanup(spec)
    up = services.start(spec)
    assert services.stop(spec)["last_step"] == "SIGKILL to the group"
    assert services.group_members(up["pgid"]) == []


def test_stop_leaves_no_orphan_when_the_leader_exits_before_its_grandchild(tmp_path, cleanup):
    spec = python_service(tmp_path, "forker", FORKS_A_GRANDCHILD)
    cleanup(spec)
    up = services.start(spec)
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    assert services.status(spec)["processes"] == 2
    assert sorted(services.group_members(up["pgid"])) == sorted([up["pid"], grandchild])

    down = services.stop(spec)
    assert down["last_step"] == "SIGTERM to the group", "SIGINT ended the leader only"
    assert not services.pid_alive(grandchild)
    assert services.group_members(up["pgid"]) == []
    assert not spec.pid_file.exists()


def test_start_clears_the_leftovers_of_a_dead_leader_first(tmp_path, cleanup):
    spec = python_service(tmp_path, "forker", FORKS_A_GRANDCHILD)
    cleanup(spec)
    first = services.start(spec)
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    psutil.Process(first["pid"]).kill()  # the leader dies; its grandchild lives on
    deadline = time.monotonic() + 10
    while services.status(spec)["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert services.pid_alive(grandchild)

    second = services.start(spec)
    assert second["pid"] != first["pid"]
    assert not services.pid_alive(grandchild), "the old group is gone before the new start"


@pytest.mark.slow
def test_the_docstring_streamlit_dashboard_is_one_spec(tmp_path, cleanup):
    app = tmp_path / "app.py"
    app.write_text("import streamlit as st\nst.write('hello')\n")
    port = services.free_port()
    dashboard = ServiceSpec(
        name="dashboard",
        argv=(sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
              "--server.address", "127.0.0.1", "--server.port", str(port)),
        run_dir=tmp_path / "dashboard",
        health=f"http://127.0.0.1:{port}/_stcore/health",
        ports={"http": port},
    )  # fmt: skip
    cleanup(dashboard)
    up = services.start(dashboard)
    assert up["healthy"] and services.http_ok(f"http://127.0.0.1:{port}/")
    listening = {
        c.laddr.ip
        for pid in services.group_members(up["pgid"])
        for c in psutil.Process(pid).net_connections("inet")
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {"127.0.0.1"}
    assert services.stop(dashboard)["last_step"] == "SIGTERM to the group"
    assert not services.port_in_use(port)
