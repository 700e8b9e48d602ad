"""Background services on this machine: start, health-check, inspect and stop them cleanly.

One :class:`ServiceSpec` says how to run a server: its command, environment, folder, health
check, the ports it must find free, and the signals that stop it. Then:

* :func:`start` runs it in its own session (``setsid``: a process group of its own), writes
  the pid file atomically (pid, pgid, ports, started_at) and waits until it is healthy. It is
  idempotent: a service that already runs and answers is reused, not started twice.
* :func:`wait_healthy` polls the health check; a service that exits or stays unhealthy is a
  one-line :class:`UserError` that quotes the last line of its log.
* :func:`stop` sends the spec's signal sequence, waiting a grace period after each, and checks
  that the whole process group is gone: no orphan survives, and nothing is killed by name.
* :func:`status` is a JSON-able dict (``make ...-status`` prints it).

The object store (``Module_1_Foundations/project/local_s3_server.py``), Airflow standalone
(``Module_2_Pipelines/airflow_local.py``) and the dbt docs server
(``Module_3_Analytics_Eng/docs_screenshots.py``) use it. A Streamlit dashboard is one call::

    from Module_1_Foundations.common.services import ServiceSpec, free_port, start, stop

    port = free_port()
    dashboard = ServiceSpec(
        name="dashboard",
        argv=(sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
              "--server.address", "127.0.0.1", "--server.port", str(port)),
        run_dir=settings.state_dir / "dashboard",  # dashboard.pid.json, dashboard.log
        health=f"http://127.0.0.1:{port}/_stcore/health",
        ports={"http": port},
    )
    print(start(dashboard)["started_at"])   # ... later: stop(dashboard)

Every server here binds 127.0.0.1: pass the flag each program needs for that in ``argv``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import write_json_atomic

HOST = "127.0.0.1"
#: how often :func:`stop` looks again; :func:`wait_healthy` starts there and backs off to
#: HEALTH_POLL_MAX, so a slow start (Airflow: minutes on a busy machine) is not hammered
POLL_SECONDS = 0.2
HEALTH_POLL_MAX = 2.0


@dataclass(frozen=True)
class StopStep:
    """One step of stopping: send ``sig`` (to the whole group, or the leader only), then wait."""

    sig: signal.Signals
    grace: float
    whole_group: bool = True

    def describe(self) -> str:
        return f"{self.sig.name} to the {'group' if self.whole_group else 'leader'}"


#: Most servers: SIGTERM the group, SIGKILL whatever is left (SeaweedFS, dbt docs, Streamlit).
TERM_THEN_KILL = (StopStep(signal.SIGTERM, 20.0), StopStep(signal.SIGKILL, 5.0))
#: ``airflow standalone``: SIGINT to the parent alone makes it stop its components in order;
#: SIGTERM to the parent orphans them, SIGINT to the group strands idle workers.
INTERRUPT_LEADER_FIRST = (
    StopStep(signal.SIGINT, 20.0, whole_group=False),
    StopStep(signal.SIGTERM, 5.0),
    StopStep(signal.SIGKILL, 5.0),
)


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one background service. Its pid file is ``run_dir/<name>.pid.json``."""

    name: str
    argv: tuple[str, ...]
    run_dir: Path
    #: the child's whole environment; ``None``: this process's
    env: Mapping[str, str] | None = None
    #: working directory (created by :func:`start`); ``None``: ``run_dir``
    cwd: Path | None = None
    #: the console log (stdout + stderr, appended); ``None``: ``run_dir/<name>.log``
    log_to: Path | None = None
    #: a URL that answers 200 when healthy, or a callable returning True; ``None``: alive is enough
    health: str | Callable[[], bool] | None = None
    #: ports the service listens on (name -> port): must be free on 127.0.0.1 before a start
    ports: Mapping[str, int] = field(default_factory=dict)
    start_timeout: float = 60.0
    stop_steps: tuple[StopStep, ...] = TERM_THEN_KILL
    #: what to do about busy ports, appended to the error
    busy_ports_hint: str = "stop what uses them, or choose other ports"
    #: extra JSON-able facts for the pid file and :func:`status` (an endpoint URL, a data dir)
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pid_file(self) -> Path:
        return Path(self.run_dir) / f"{self.name}.pid.json"

    @property
    def log_file(self) -> Path:
        return Path(self.log_to or Path(self.run_dir) / f"{self.name}.log")


# ---------------------------------------------------------------------------------------------
# Ports and processes
# ---------------------------------------------------------------------------------------------


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the OS picks it; another program may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie, exited but not yet reaped, is dead)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ValueError):
        return False


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of the process group ``pgid``, sorted."""
    members = []
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) == pgid and pid_alive(pid):
                members.append(pid)
        except (ProcessLookupError, PermissionError):
            continue
    return sorted(members)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when a GET of ``url`` answers HTTP 200."""
    try:
        # B310 is safe: health URLs are the services' own loopback endpoints, from their specs
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310
            return response.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def log_tail(path: Path, limit: int = 300) -> str:
    """The last non-empty line of a log, shortened to ``limit`` characters."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 16_384))
            lines = handle.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return lines[-1].strip()[:limit] if lines else "(empty log)"


# Children this process started: kept so that they are reaped (no zombie, no ResourceWarning)
# and so that an exit during start reports its exit code.
_children: dict[int, subprocess.Popen] = {}


def _reap(pid: int) -> int | None:
    process = _children.get(pid)
    if process is None or process.poll() is None:
        return None
    del _children[pid]
    return process.returncode


# ---------------------------------------------------------------------------------------------
# The pid file
# ---------------------------------------------------------------------------------------------


def read_record(spec: ServiceSpec) -> dict[str, Any] | None:
    """The pid file's content, or ``None`` when there is none (or it is unreadable)."""
    try:
        record = json.loads(spec.pid_file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or "pid" not in record:
        return None
    record.setdefault("pgid", record["pid"])  # a session leader's group id is its pid
    return record


def _record_alive(record: dict[str, Any]) -> bool:
    """The recorded leader still runs and is the process we started (not a reused pid)."""
    pid = int(record["pid"])
    if not pid_alive(pid):
        return False
    try:
        return abs(psutil.Process(pid).create_time() - float(record["create_time"])) < 1.0
    except (psutil.NoSuchProcess, KeyError, TypeError, ValueError):
        return False


def _live_group(record: dict[str, Any]) -> list[int]:
    """Members of the recorded group that were created after the leader (so are its own)."""
    born = float(record.get("create_time", 0.0)) - 1.0
    members = []
    for pid in group_members(int(record["pgid"])):
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).create_time() >= born:
                members.append(pid)
    return members


def _healthy(spec: ServiceSpec) -> bool:
    if spec.health is None:
        return True
    if isinstance(spec.health, str):
        return http_ok(spec.health)
    try:
        return bool(spec.health())
    except Exception:  # a health check that raises means "not healthy yet"
        return False


# ---------------------------------------------------------------------------------------------
# start / wait_healthy / stop / status
# ---------------------------------------------------------------------------------------------


def status(spec: ServiceSpec) -> dict[str, Any]:
    """What runs: ``running``, ``healthy``, pid, pgid, ports, started_at, processes, log."""
    record = read_record(spec)
    running = record is not None and _record_alive(record)
    out: dict[str, Any] = {
        "name": spec.name,
        "running": running,
        "healthy": running and _healthy(spec),
        "pid": record["pid"] if running and record else None,
        "pgid": record.get("pgid") if running and record else None,
        "processes": len(_live_group(record)) if running and record else 0,
        "ports": dict(record.get("ports", {}) if running and record else spec.ports),
        "started_at": record.get("started_at") if running and record else None,
        "log_file": str(spec.log_file),
        "pid_file": str(spec.pid_file),
    }
    out.update(spec.details)
    return out


def start(spec: ServiceSpec) -> dict[str, Any]:
    """Start the service (or reuse the running one), wait until healthy, return its status.

    The returned dict is :func:`status` plus ``reused`` (it was already running) and
    ``ready_seconds``. A failed start leaves no process and no pid file behind.
    """
    started = time.monotonic()
    record = read_record(spec)
    if record is not None and _record_alive(record):
        wait_healthy(spec, spec.start_timeout)
        return {**status(spec), "reused": True, "ready_seconds": 0.0}
    if record is not None and _live_group(record):
        # the leader died but its children did not: clear them out before starting afresh
        stop(spec)
    spec.pid_file.unlink(missing_ok=True)
    busy = [f"{name}={port}" for name, port in spec.ports.items() if port_in_use(port)]
    if busy:
        raise UserError(
            f"{spec.name} cannot start: port(s) {', '.join(busy)} on {HOST} are in use: "
            f"{spec.busy_ports_hint}"
        )
    for folder in (spec.run_dir, spec.cwd, spec.log_file.parent):
        if folder is not None:
            Path(folder).mkdir(parents=True, exist_ok=True)
    with open(spec.log_file, "ab") as log:
        process = subprocess.Popen(
            list(spec.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=spec.cwd or spec.run_dir,
            env=None if spec.env is None else dict(spec.env),
            start_new_session=True,  # setsid: its own process group, signalled as a whole
        )
    _children[process.pid] = process
    create_time = time.time()  # a process that is gone already fails the health wait below
    with contextlib.suppress(psutil.NoSuchProcess):
        create_time = psutil.Process(process.pid).create_time()
    record = {
        "name": spec.name,
        "pid": process.pid,
        "pgid": process.pid,  # a session leader leads its own group
        "create_time": create_time,
        "ports": dict(spec.ports),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": list(spec.argv),
        "log_file": str(spec.log_file),
        **spec.details,
    }
    write_json_atomic(spec.pid_file, record)
    try:
        wait_healthy(spec, spec.start_timeout)
    except BaseException:
        # unhealthy, exited, or interrupted (Ctrl-C): leave nothing running behind
        with contextlib.suppress(UserError):
            stop(spec)
        spec.pid_file.unlink(missing_ok=True)
        raise
    return {**status(spec), "reused": False, "ready_seconds": round(time.monotonic() - started, 1)}


def wait_healthy(spec: ServiceSpec, timeout: float | None = None) -> float:
    """Wait until the running service is healthy; return the seconds waited.

    Raises a one-line :class:`UserError` (with the log's last line) when it is not running,
    exits while waiting, or is still unhealthy after ``timeout`` (default: the spec's).
    """
    timeout = spec.start_timeout if timeout is None else timeout
    started = time.monotonic()
    deadline = started + timeout
    pause = POLL_SECONDS
    while True:
        record = read_record(spec)
        if record is None or not _record_alive(record):
            code = _reap(int(record["pid"])) if record else None
            how = "is not running" if record is None else "exited"
            if code is not None:
                how += f" with status {code}"
            raise UserError(f"{spec.name} {how}; see {spec.log_file}: {log_tail(spec.log_file)}")
        if _healthy(spec):
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            raise UserError(
                f"{spec.name} was not healthy within {timeout:.0f} s; see {spec.log_file}: "
                f"{log_tail(spec.log_file)}"
            )
        time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
        pause = min(pause * 1.5, HEALTH_POLL_MAX)


def _wait_gone(record: dict[str, Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        _reap(int(record["pid"]))
        if not _live_group(record):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def stop(spec: ServiceSpec) -> dict[str, Any]:
    """Stop the service's whole process group with the spec's signal sequence.

    Returns ``{"name", "was_running", "last_step", "seconds"}``; ``last_step`` names the signal
    that ended it (``None`` when nothing ran). Raises :class:`UserError` if any process of the
    group survives the last step; otherwise the pid file is removed.
    """
    started = time.monotonic()
    record = read_record(spec)
    if record is None:
        return {"name": spec.name, "was_running": False, "last_step": None, "seconds": 0.0}
    pid, pgid = int(record["pid"]), int(record["pgid"])
    was_running = bool(_live_group(record))
    last_step = None
    for step in spec.stop_steps:
        if not _live_group(record):
            break
        if not step.whole_group and not _record_alive(record):
            continue  # the leader is gone already: nobody to receive a leader-only signal
        last_step = step.describe()
        with contextlib.suppress(ProcessLookupError):
            if step.whole_group:
                os.killpg(pgid, step.sig)
            else:
                os.kill(pid, step.sig)
        if _wait_gone(record, step.grace):
            break
    _reap(pid)  # a leader this process started would stay a zombie until waited for
    left = _live_group(record)
    if left:
        raise UserError(
            f"processes {left} of {spec.name}'s group {pgid} survived {last_step}: check "
            f"'ps -o pid,pgid,stat,cmd -g {pgid}'"
        )
    spec.pid_file.unlink(missing_ok=True)
    return {
        "name": spec.name,
        "was_running": was_running,
        "last_step": last_step,
        "seconds": round(time.monotonic() - started, 1),
    }
