"""No service the project starts listens beyond loopback.

Each service is started the way its make target starts it, on free ports, and every listening
socket of its whole process tree must be on 127.0.0.1 or ::1. Airflow standalone (25 s to start)
is held to the same rule by Module 2's own end-to-end test
(test_standalone_runs_the_dag_triggered_through_rest_and_stops_without_orphans), which asserts
the listening addresses of its process group are exactly {"127.0.0.1"}.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.services import free_port
from Module_1_Foundations.project.local_s3_server import free_s3_port

pytestmark = pytest.mark.e2e
LOOPBACK = {"127.0.0.1", "::1"}
BIN = Path(sys.executable).parent


def listening_addresses(root_pid: int) -> set[tuple[str, int]]:
    """Every (ip, port) a process or any of its descendants listens on."""
    try:
        root = psutil.Process(root_pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    found = set()
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            found |= {
                (c.laddr.ip, c.laddr.port)
                for c in process.net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN
            }
    return found


def wait_listening(pid: int, port: int, timeout: float = 120) -> set[tuple[str, int]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = listening_addresses(pid)
        if port in {p for _, p in found}:
            time.sleep(1)  # let the rest of the tree open its sockets too
            return listening_addresses(pid)
        if not psutil.pid_exists(pid):
            break
        time.sleep(0.5)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")


@contextlib.contextmanager
def service(
    command: list[str], env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> Iterator[int]:
    """Run a server in its own session; on exit signal its whole group, wait, then kill."""
    proc = subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **(env or {})}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def assert_loopback_only(found: set[tuple[str, int]]) -> None:
    assert found, "the service listens nowhere"
    assert sorted(a for a in found if a[0] not in LOOPBACK) == []


def test_the_loopback_check_catches_a_listener_on_every_interface():
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        found = listening_addresses(os.getpid())
    with pytest.raises(AssertionError):
        assert_loopback_only(found)


def test_the_local_object_store_listens_on_loopback_only(tmp_path):
    """`make s3-up`: SeaweedFS and its 12 helper ports."""
    port = free_s3_port()
    env = {"HDP_STATE_DIR": str(tmp_path), "HDP_S3_PORT": str(port), "HDP_PROFILE": "local"}
    s3 = [sys.executable, "-m", "Module_1_Foundations.project.local_s3_server"]
    subprocess.run(
        [*s3, "start"], cwd=REPO_ROOT, env={**os.environ, **env}, check=True, capture_output=True
    )
    try:
        pid = json.loads((tmp_path / "object_store" / "weed.pid.json").read_text())["pid"]
        assert_loopback_only(wait_listening(pid, port))
    finally:
        subprocess.run(
            [*s3, "stop"], cwd=REPO_ROOT, env={**os.environ, **env}, check=True, capture_output=True
        )


def test_the_docs_site_server_listens_on_loopback_only(tmp_path):
    """`make docs`: the built site served on DOCS_PORT (the serve line of the make recipe)."""
    port = free_port()
    make_n = subprocess.run(
        ["make", "-n", "--no-print-directory", "docs", f"DOCS_PORT={port}"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    serve = next(line for line in make_n.splitlines() if "http.server" in line).split()
    assert serve[serve.index("--bind") + 1] == "127.0.0.1"
    serve[serve.index("--directory") + 1] = str(tmp_path)  # an empty folder serves as well
    with service(serve) as pid:
        assert_loopback_only(wait_listening(pid, port))


def test_the_dbt_docs_server_listens_on_loopback_only(tmp_path):
    """`make dbt-docs`: dbt docs serve on DBT_DOCS_PORT, over a freshly parsed project."""
    port = free_port()
    runner = [
        sys.executable,
        "-m",
        "Module_3_Analytics_Eng.dbt_runner",
        "--duckdb-path",
        str(tmp_path / "w.duckdb"),
    ]
    env = {"DBT_TARGET_PATH": str(tmp_path / "target")}
    subprocess.run(
        [*runner, "--", "parse"],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    make_n = subprocess.run(
        ["make", "-n", "--no-print-directory", "dbt-docs", f"DBT_DOCS_PORT={port}"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    serve = next(line for line in make_n.splitlines() if "docs serve" in line)
    assert "--host 127.0.0.1" in serve
    command = [*runner, "--", "docs", "serve", *serve.split("docs serve", 1)[1].split()]
    with service(command, env=env) as pid:
        assert_loopback_only(wait_listening(pid, port))


def test_the_dashboard_listens_on_loopback_only(tmp_path):
    port = free_port()
    app = REPO_ROOT / "capstone" / "dashboard_project" / "app.py"
    command = [str(BIN / "streamlit"), "run", str(app), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true"]  # fmt: skip
    with service(command, env={"HDP_STATE_DIR": str(tmp_path)}) as pid:
        assert_loopback_only(wait_listening(pid, port))
