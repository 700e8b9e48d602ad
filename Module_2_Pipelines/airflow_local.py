"""Run Airflow 3 on this machine: ``airflow standalone`` on SQLite, bound to 127.0.0.1.

    python -m Module_2_Pipelines.airflow_local up        # start (idempotent), wait until healthy
    python -m Module_2_Pipelines.airflow_local status    # pid, health of each component, login
    python -m Module_2_Pipelines.airflow_local trigger --date 2024-01-05   # unpause, run, wait
    python -m Module_2_Pipelines.airflow_local down      # stop the whole process group

Everything lives under ``settings.airflow_home`` (default ``.state/airflow``): the SQLite
database, ``airflow.cfg``, the generated admin password, the pid file, and the DAG folder.

The DAG folder is ``<airflow_home>/dags``: it holds symlinks to this module and to the capstone
plus an ``.airflowignore`` that hides tests, benchmarks and helper scripts from the DAG
processor. Airflow walks symlinked folders (``os.walk(followlinks=True)``), so a DAG the capstone
adds later is picked up without touching this setup, and nothing in the repository's own folders
has to be Airflow-specific.

Stopping: standalone starts its components (scheduler, dag-processor, api-server, triggerer) as
children, and the LocalExecutor forks workers below them. A SIGTERM to the parent alone orphans
them, so ``up`` starts standalone in its own session (``setsid``) and ``down`` signals the whole
process group: SIGINT, then SIGTERM, then SIGKILL, each after a grace period.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.cli import ArgumentParser, iso_date, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.settings import Settings, get_settings
from Module_2_Pipelines.etl import pipeline_log_dir

SHIM = """\
#!/bin/sh
# written by Module_2_Pipelines/airflow_local.py: `airflow standalone` starts its components as
# `airflow <command>` from PATH. The scheduler and the triggerer would each start a log server on
# all interfaces (0.0.0.0:8793/8794, host hard-coded in Airflow 3.3); with the LocalExecutor the
# API server reads task logs from the local folder, so they are not needed: skip them.
case "$1" in
  scheduler|triggerer) exec "{airflow}" "$@" --skip-serve-logs ;;
esac
exec "{airflow}" "$@"
"""
DAG_ID = "loanbook_daily_etl"
#: Folders the DAG processor scans, linked into ``<airflow_home>/dags`` under these names.
DAG_SOURCES = ("Module_2_Pipelines", "capstone")
#: Glob rules (gitignore syntax): what under the linked folders is not a DAG file.
AIRFLOWIGNORE = """\
# written by Module_2_Pipelines/airflow_local.py: what the DAG processor must not parse
tests/
benchmarks/
logs/
__pycache__/
*_notebooks/
dbt_project/
Module_2_Pipelines/etl.py
Module_2_Pipelines/airflow_local.py
"""
PARALLELISM = 4
START_TIMEOUT = 180.0
STOP_GRACE = 20.0
SIMPLE_AUTH_MANAGER = (
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
)
FINAL_RUN_STATES = {"success", "failed"}


# ---------------------------------------------------------------------------------------------
# Pure configuration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AirflowPaths:
    """Where the local Airflow keeps its state, all under ``settings.airflow_home``."""

    home: Path

    @property
    def dags(self) -> Path:
        return self.home / "dags"

    @property
    def pid_file(self) -> Path:
        return self.home / "standalone.pid.json"

    @property
    def password_file(self) -> Path:
        return self.home / "simple_auth_manager_passwords.json.generated"

    @property
    def shim_dir(self) -> Path:
        return self.home / "bin"

    @property
    def console_log(self) -> Path:
        return pipeline_log_dir() / "airflow_standalone.log"

    @property
    def task_logs(self) -> Path:
        return pipeline_log_dir() / "airflow"


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def airflow_env(
    settings: Settings, *, port: int | None = None, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment every local Airflow process runs with (standalone and the CLI).

    ``[api] host``/``port`` are what ``airflow api-server`` binds (its ``--host`` default reads
    ``[api] host``, itself ``0.0.0.0`` by default); ``[api] base_url`` also sets the execution API
    URL task processes call back to, which otherwise defaults to ``http://localhost:8080``.
    """
    paths = AirflowPaths(Path(settings.airflow_home))
    port = port or settings.airflow_port
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        {
            # standalone starts its components as `airflow <cmd>` found on PATH: the shim first
            "PATH": os.pathsep.join((str(paths.shim_dir), venv_bin, env.get("PATH", ""))),
            "AIRFLOW_HOME": str(paths.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(paths.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url(port)}/execution/",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(paths.task_logs),
            # find a new DAG file within 30 s instead of the default 5 minutes
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "DO_NOT_TRACK": "1",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        }
    )
    return env


def prepare_dags_folder(dags: Path, sources: tuple[str, ...] = DAG_SOURCES) -> Path:
    """Create ``dags/`` with one symlink per source folder and the ``.airflowignore``.

    Idempotent: existing correct links are kept, wrong ones replaced.
    """
    dags.mkdir(parents=True, exist_ok=True)
    for name in sources:
        link, target = dags / name, REPO_ROOT / name
        if link.is_symlink() and link.resolve() == target.resolve():
            continue
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            raise UserError(f"{link} is a real folder, not a link: remove it and run again")
        link.symlink_to(target, target_is_directory=True)
    (dags / ".airflowignore").write_text(AIRFLOWIGNORE, encoding="utf-8")
    return dags


def write_shim(paths: AirflowPaths) -> Path:
    """The ``airflow`` wrapper standalone finds first on PATH (see :data:`SHIM`)."""
    paths.shim_dir.mkdir(parents=True, exist_ok=True)
    shim = paths.shim_dir / "airflow"
    shim.write_text(SHIM.format(airflow=Path(sys.executable).parent / "airflow"), encoding="utf-8")
    shim.chmod(0o755)
    return shim


def shell_exports(settings: Settings) -> str:
    """``export`` lines that give a shell the local Airflow's configuration (for ``airflow ...``).

    Only the variables :func:`airflow_env` sets, so e.g. ``airflow dags test loanbook_daily_etl
    2024-01-02`` uses the same home, database and DAG folder as ``make airflow-up``.
    """
    import shlex

    paths = AirflowPaths(Path(settings.airflow_home))
    prepare_dags_folder(paths.dags)
    write_shim(paths)
    env = airflow_env(settings, base={"PATH": os.environ.get("PATH", "")})
    names = sorted(k for k in env if k.startswith("AIRFLOW") or k in ("PATH", "DO_NOT_TRACK"))
    return "\n".join(f"export {name}={shlex.quote(env[name])}" for name in names)


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped) counts as dead
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return sorted(members)


def read_pid_file(paths: AirflowPaths) -> dict[str, Any] | None:
    try:
        return json.loads(paths.pid_file.read_text())
    except (OSError, ValueError):
        return None


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _http_json(
    url: str,
    *,
    method: str = "GET",
    body: Any = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One HTTP call with a JSON body and answer; returns ``(status, parsed body)``."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        # B310 is safe: the url is the local Airflow API (http://127.0.0.1:port) built here
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def health(port: int) -> dict[str, str] | None:
    """Component -> status from ``/api/v2/monitor/health``, or ``None`` when nothing answers."""
    try:
        status, payload = _http_json(f"{base_url(port)}/api/v2/monitor/health", timeout=3)
    except (OSError, urllib.error.URLError):
        return None
    if status != 200 or not isinstance(payload, dict):
        return None
    return {name: (part or {}).get("status", "unknown") for name, part in payload.items()}


def is_healthy(report: dict[str, str] | None) -> bool:
    wanted = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return bool(report) and all(report.get(name) == "healthy" for name in wanted)


def admin_password(paths: AirflowPaths) -> str | None:
    try:
        return json.loads(paths.password_file.read_text()).get("admin")
    except (OSError, ValueError):
        return None


def login_line(paths: AirflowPaths, port: int) -> str:
    password = admin_password(paths) or "(not generated yet)"
    return (
        f"Airflow UI: {base_url(port)}  login: admin / {password}  "
        f"(password stored in {paths.password_file})"
    )


def up(settings: Settings | None = None, *, port: int | None = None, quiet: bool = False) -> dict:
    """Start ``airflow standalone`` detached in its own session; wait until it is healthy."""
    settings = settings or get_settings()
    port = port or settings.airflow_port
    paths = AirflowPaths(Path(settings.airflow_home))
    info = read_pid_file(paths)
    if info and _alive(info["pid"]):
        if not quiet:
            print(f"Airflow is already running (pid {info['pid']}, port {info['port']})")
            print(login_line(paths, info["port"]))
        return info
    if port_in_use(port):
        raise UserError(
            f"port {port} on 127.0.0.1 is in use by another program: stop it, or pick another "
            f"port with HDP_AIRFLOW_PORT=8081 make airflow-up"
        )
    paths.home.mkdir(parents=True, exist_ok=True)
    prepare_dags_folder(paths.dags)
    write_shim(paths)
    paths.console_log.parent.mkdir(parents=True, exist_ok=True)
    env = airflow_env(settings, port=port)
    airflow = str(Path(sys.executable).parent / "airflow")
    with open(paths.console_log, "ab") as console:
        process = subprocess.Popen(
            [airflow, "standalone"],
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=paths.home,
            start_new_session=True,  # setsid: its own process group, stopped as a whole
        )
    info = {"pid": process.pid, "pgid": process.pid, "port": port, "started": time.time()}
    paths.pid_file.write_text(json.dumps(info))
    if not quiet:
        print(f"starting airflow standalone (pid {process.pid}), console log: {paths.console_log}")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise UserError(
                f"airflow standalone exited with status {process.returncode} during startup: "
                f"read {paths.console_log}"
            )
        if is_healthy(health(port)) and admin_password(paths):
            info["ready_seconds"] = round(time.time() - info["started"], 1)
            paths.pid_file.write_text(json.dumps(info))
            if not quiet:
                print(f"Airflow is healthy after {info['ready_seconds']} s")
                print(login_line(paths, port))
            return info
        time.sleep(1)
    down(settings, quiet=True)
    raise UserError(
        f"Airflow was not healthy after {START_TIMEOUT:.0f} s and was stopped: "
        f"read {paths.console_log}"
    )


def _wait_group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_members(pgid):
            return True
        time.sleep(0.3)
    return not group_members(pgid)


def down(settings: Settings | None = None, *, quiet: bool = False) -> bool:
    """Stop standalone and every process of its group. Returns False if nothing was running."""
    settings = settings or get_settings()
    paths = AirflowPaths(Path(settings.airflow_home))
    info = read_pid_file(paths)
    if not info:
        if not quiet:
            print("Airflow is not running (no pid file)")
        return False
    pgid, pid = int(info["pgid"]), int(info["pid"])
    started = time.monotonic()
    # 1. SIGINT to standalone alone: it SIGTERMs each component and waits for them; the
    #    scheduler then ends the LocalExecutor, whose workers exit on their queue's stop signal.
    #    (SIGINT to the whole group instead interrupts the scheduler mid-shutdown and strands
    #    the workers, which ignore SIGINT and keep waiting on SIGTERM.)
    # 2. whatever is left of the group after the grace period: SIGTERM, then SIGKILL.
    steps = (
        (pid, signal.SIGINT, STOP_GRACE),
        (-pgid, signal.SIGTERM, 5.0),
        (-pgid, signal.SIGKILL, 5.0),
    )
    used = "nothing"
    for target, sig, grace in steps:
        members = group_members(pgid)
        if not members:
            break
        used = f"{sig.name} to {'pid' if target > 0 else 'group'} ({len(members)} processes)"
        try:
            if target > 0:
                os.kill(target, sig)
            else:
                os.killpg(-target, sig)
        except ProcessLookupError:
            pass
        if _wait_group_gone(pgid, grace):
            break
    # reap the parent if this very process started it (tests); harmless otherwise
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    left = group_members(pgid)
    if left:
        raise UserError(f"processes {left} of Airflow's group {pgid} survived SIGKILL: check ps")
    paths.pid_file.unlink(missing_ok=True)
    if not quiet:
        print(
            f"Airflow stopped (process group {pgid}) in {time.monotonic() - started:.1f} s; "
            f"last signal needed: {used}"
        )
    return True


def status(settings: Settings | None = None) -> int:
    """Print what runs and how healthy it is. Exit 0 when healthy, 1 otherwise."""
    settings = settings or get_settings()
    paths = AirflowPaths(Path(settings.airflow_home))
    info = read_pid_file(paths)
    if not info or not _alive(info["pid"]):
        print(f"Airflow is not running (AIRFLOW_HOME={paths.home})")
        return 1
    report = health(info["port"])
    members = group_members(int(info["pgid"]))
    print(f"Airflow standalone pid {info['pid']}, {len(members)} processes, port {info['port']}")
    for name, state in (report or {"api-server": "not answering"}).items():
        print(f"  {name:14} {state}")
    print(login_line(paths, info["port"]))
    return 0 if is_healthy(report) else 1


# ---------------------------------------------------------------------------------------------
# REST API: unpause, trigger, wait
# ---------------------------------------------------------------------------------------------


class ApiClient:
    """The few calls of Airflow's public REST API (``/api/v2``) the learner needs."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.url = base_url(port)
        status, payload = _http_json(
            f"{self.url}/auth/token",
            method="POST",
            body={"username": username, "password": password},
        )
        if status not in (200, 201) or "access_token" not in (payload or {}):
            raise UserError(f"Airflow refused the login for {username!r} (HTTP {status})")
        self.token = payload["access_token"]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return _http_json(f"{self.url}/api/v2{path}", method=method, body=body, token=self.token)

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = self.call("GET", f"/dags/{dag_id}")
            if status == 200:
                return
            time.sleep(2)
        raise UserError(
            f"DAG {dag_id!r} is not known to Airflow after {timeout:.0f} s: check import errors "
            "in the UI (Dags > Import errors) or the dag-processor lines of the console log"
        )

    def window(self, dag_id: str) -> tuple[date | None, date | None]:
        """The DAG's ``start_date`` and ``end_date``: task instances exist only inside them."""
        _, details = self.call("GET", f"/dags/{dag_id}/details")
        bounds = [(details or {}).get(k) for k in ("start_date", "end_date")]
        first, last = (None if v is None else date.fromisoformat(v[:10]) for v in bounds)
        return first, last

    def run_for(self, dag_id: str, logical_date: str) -> str | None:
        """The id of the run with this logical date, if there is one."""
        query = urllib.parse.urlencode(
            {"logical_date_gte": logical_date, "logical_date_lte": logical_date}
        )
        _, payload = self.call("GET", f"/dags/{dag_id}/dagRuns?{query}")
        runs = (payload or {}).get("dag_runs", [])
        return runs[0]["dag_run_id"] if runs else None

    def trigger(self, dag_id: str, logical_date: str, conf: dict[str, Any]) -> tuple[str, bool]:
        """Create the run for ``logical_date``, or clear the existing one so it runs again.

        Returns ``(run_id, rerun)``. A logical date is unique per DAG, so a date the scheduler
        already ran (catchup) is rerun in place: idempotent tasks replace its outputs. The DAG
        is unpaused last, so a new run is queued before the scheduler creates catchup runs.
        """
        status, payload = self.call(
            "POST", f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": conf}
        )
        rerun = status == 409
        if rerun:
            run_id = self.run_for(dag_id, logical_date)
            if run_id is None:
                raise UserError(f"{dag_id}: HTTP 409 for {logical_date} but no such run: {payload}")
            status, payload = self.call(
                "POST",
                f"/dags/{dag_id}/clearTaskInstances",
                {"dag_run_id": run_id, "dry_run": False, "only_failed": False},
            )
            if status != 200:
                raise UserError(f"could not clear run {run_id} (HTTP {status}): {payload}")
        elif status in (200, 201):
            run_id = payload["dag_run_id"]
        else:
            raise UserError(f"could not trigger {dag_id} (HTTP {status}): {payload}")
        status, payload = self.call("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        if status != 200:
            raise UserError(f"could not unpause {dag_id} (HTTP {status}): {payload}")
        return run_id, rerun

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        _, payload = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti["state"] for ti in (payload or {}).get("task_instances", [])}

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout: float = 900.0, echo: bool = True
    ) -> str:
        deadline = time.monotonic() + timeout
        seen: dict[str, str | None] = {}
        while time.monotonic() < deadline:
            _, run = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            states = self.task_states(dag_id, run_id)
            for task_id, state in states.items():
                if echo and seen.get(task_id) != state:
                    print(f"  {time.strftime('%H:%M:%S')} {task_id:10} {state}")
            seen = states
            if run and run.get("state") in FINAL_RUN_STATES:
                return run["state"]
            time.sleep(2)
        raise UserError(f"run {run_id} did not finish within {timeout:.0f} s: see the UI")


def trigger(
    settings: Settings | None = None,
    *,
    dag_id: str = DAG_ID,
    logical_date: date | None = None,
    conf: dict[str, Any] | None = None,
    timeout: float = 900.0,
) -> str:
    """Unpause and trigger ``dag_id`` through the REST API, print task states, return the state."""
    settings = settings or get_settings()
    paths = AirflowPaths(Path(settings.airflow_home))
    info = read_pid_file(paths)
    if not info or not _alive(info["pid"]):
        raise UserError("Airflow is not running: start it with 'make airflow-up'")
    password = admin_password(paths)
    if not password:
        raise UserError(f"no admin password in {paths.password_file}: restart with make airflow-up")
    client = ApiClient(info["port"], "admin", password)
    client.wait_for_dag(dag_id)
    first, last = client.window(dag_id)
    day = logical_date or first
    if day is None:
        raise UserError(f"{dag_id} has no start_date: pass --date YYYY-MM-DD")
    if (first and day < first) or (last and day > last):
        raise UserError(
            f"{day} is outside {dag_id}'s schedule ({first} to {last}): Airflow creates no task "
            "for a date outside start_date/end_date, so pick a --date inside it"
        )
    when = f"{day.isoformat()}T00:00:00Z"
    run_id, rerun = client.trigger(dag_id, when, conf or {})
    how = "cleared the existing run, running it again" if rerun else "triggered"
    print(f"{dag_id} {day}: {how}: {run_id}")
    state = client.wait_for_run(dag_id, run_id, timeout=timeout)
    print(f"run {run_id}: {state}")
    return state


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m Module_2_Pipelines.airflow_local",
        description="Start, inspect, trigger and stop a local Airflow 3 (standalone, SQLite, "
        "127.0.0.1, state under settings.airflow_home).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start airflow standalone and wait until it is healthy")
    sub.add_parser("down", help="stop it, with every child process")
    sub.add_parser("status", help="show pid, component health and the admin login")
    sub.add_parser(
        "env",
        help="print export lines for the airflow CLI: "
        'eval "$(python -m Module_2_Pipelines.airflow_local env)"',
    )
    trig = sub.add_parser("trigger", help="unpause and trigger the DAG, wait for the result")
    trig.add_argument("--dag-id", default=DAG_ID)
    trig.add_argument(
        "--date", type=iso_date, default=None, help="logical date (default: the DAG's start_date)"
    )
    trig.add_argument("--loans", type=int, default=None, help="loans in the raw drop (param)")
    trig.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the run")
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        if args.command == "up":
            up()
            return 0
        if args.command == "down":
            down()
            return 0
        if args.command == "status":
            return status()
        if args.command == "env":
            print(shell_exports(get_settings()))
            return 0
        conf = {} if args.loans is None else {"loans": args.loans}
        state = trigger(dag_id=args.dag_id, logical_date=args.date, conf=conf, timeout=args.timeout)
        return 0 if state == "success" else 1

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
