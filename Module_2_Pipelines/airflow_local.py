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
them, so ``up`` starts standalone in its own session (``setsid``) and ``down`` sends SIGINT to the
parent alone, then SIGTERM and SIGKILL to what is left of the group, each after a grace period:
``Module_1_Foundations/common/services.py`` does both; this file says how to run Airflow.
The REST client (trigger, wait) is ``Module_2_Pipelines/airflow_api.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from Module_1_Foundations.common import services
from Module_1_Foundations.common.cli import ArgumentParser, iso_date, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.services import ServiceSpec
from Module_1_Foundations.common.settings import Settings, get_settings
from Module_2_Pipelines.airflow_api import ApiClient, base_url, health, is_healthy
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
Module_2_Pipelines/airflow_api.py
"""
PARALLELISM = 4
START_TIMEOUT = 300.0  # healthy in 30-50 s here; 275 s once with load average 11 on 2 cores
SIMPLE_AUTH_MANAGER = (
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
)


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
# The standalone service: up, down, status
# ---------------------------------------------------------------------------------------------


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


def standalone_spec(settings: Settings, port: int | None = None) -> ServiceSpec:
    """``airflow standalone`` as a service: healthy once every component is and the admin
    password exists; pid file ``<airflow_home>/airflow-standalone.pid.json``."""
    paths = AirflowPaths(Path(settings.airflow_home))
    port = port or settings.airflow_port
    return ServiceSpec(
        name="airflow-standalone",
        argv=(str(Path(sys.executable).parent / "airflow"), "standalone"),
        run_dir=paths.home,
        env=airflow_env(settings, port=port),
        log_to=paths.console_log,
        health=lambda: is_healthy(health(port)) and admin_password(paths) is not None,
        ports={"api": port},
        start_timeout=START_TIMEOUT,
        # SIGINT to standalone alone: it SIGTERMs each component and waits for them; the
        # scheduler then ends the LocalExecutor, whose workers exit on their queue's stop signal.
        # (SIGINT to the whole group interrupts the scheduler mid-shutdown and strands the
        # workers, which ignore SIGINT.) What is left after 20 s: SIGTERM, then SIGKILL.
        stop_steps=services.INTERRUPT_LEADER_FIRST,
        busy_ports_hint="stop the other program, or pick another port: "
        "HDP_AIRFLOW_PORT=8081 make airflow-up",
    )


def running(settings: Settings) -> dict[str, Any] | None:
    """The running standalone's status (see ``services.status``), or ``None``.

    Its spec uses the port it was started on, which may differ from today's settings.
    """
    record = services.read_record(standalone_spec(settings))
    port = int(record.get("ports", {}).get("api", 0)) if record else 0
    state = services.status(standalone_spec(settings, port or None))
    return {**state, "port": port} if state["running"] else None


def up(settings: Settings | None = None, *, port: int | None = None, quiet: bool = False) -> dict:
    """Start ``airflow standalone`` detached in its own session; wait until it is healthy.

    Returns its status (``pid``, ``pgid``, ``port``, ``ports``, ``started_at``, ...).
    """
    settings = settings or get_settings()
    paths = AirflowPaths(Path(settings.airflow_home))
    already = running(settings)
    if already is not None:
        port = already["port"]
    else:
        paths.home.mkdir(parents=True, exist_ok=True)
        prepare_dags_folder(paths.dags)
        write_shim(paths)
        port = port or settings.airflow_port
        if not quiet:
            print(f"starting airflow standalone on port {port}, console log: {paths.console_log}")
    info = {**services.start(standalone_spec(settings, port)), "port": port}
    if not quiet:
        if info["reused"]:
            print(f"Airflow is already running (pid {info['pid']}, port {port})")
        else:
            print(f"Airflow is healthy after {info['ready_seconds']} s")
        print(login_line(paths, port))
    return info


def down(settings: Settings | None = None, *, quiet: bool = False) -> bool:
    """Stop standalone and every process of its group. Returns False if nothing was running."""
    settings = settings or get_settings()
    stopped = services.stop(standalone_spec(settings))
    if not quiet:
        if stopped["was_running"]:
            print(
                f"Airflow stopped in {stopped['seconds']} s; "
                f"last signal needed: {stopped['last_step']}"
            )
        else:
            print("Airflow is not running")
    return bool(stopped["was_running"])


def status(settings: Settings | None = None) -> int:
    """Print what runs and how healthy it is. Exit 0 when healthy, 1 otherwise."""
    settings = settings or get_settings()
    paths = AirflowPaths(Path(settings.airflow_home))
    info = running(settings)
    if info is None:
        print(f"Airflow is not running (AIRFLOW_HOME={paths.home})")
        return 1
    report = health(info["port"])
    print(
        f"Airflow standalone pid {info['pid']}, {info['processes']} processes, port {info['port']}"
    )
    for name, state in (report or {"api-server": "not answering"}).items():
        print(f"  {name:14} {state}")
    print(login_line(paths, info["port"]))
    return 0 if is_healthy(report) else 1


# ---------------------------------------------------------------------------------------------
# Triggering through the REST API
# ---------------------------------------------------------------------------------------------


def client(settings: Settings | None = None) -> ApiClient:
    """A REST client logged in as ``admin`` to the running local Airflow."""
    settings = settings or get_settings()
    paths = AirflowPaths(Path(settings.airflow_home))
    info = running(settings)
    if info is None:
        raise UserError("Airflow is not running: start it with 'make airflow-up'")
    password = admin_password(paths)
    if not password:
        raise UserError(f"no admin password in {paths.password_file}: restart with make airflow-up")
    return ApiClient(info["port"], "admin", password)


def trigger(
    settings: Settings | None = None,
    *,
    dag_id: str = DAG_ID,
    logical_date: date | None = None,
    conf: dict[str, Any] | None = None,
    timeout: float = 900.0,
) -> str:
    """Unpause and trigger ``dag_id`` through the REST API, print task states, return the state."""
    api = client(settings)
    api.wait_for_dag(dag_id)
    first, last = api.window(dag_id)
    day = logical_date or first
    if day is None:
        raise UserError(f"{dag_id} has no start_date: pass --date YYYY-MM-DD")
    if (first and day < first) or (last and day > last):
        raise UserError(
            f"{day} is outside {dag_id}'s schedule ({first} to {last}): Airflow creates no task "
            "for a date outside start_date/end_date, so pick a --date inside it"
        )
    when = f"{day.isoformat()}T00:00:00Z"
    run_id, rerun = api.trigger(dag_id, when, conf or {})
    how = "cleared the existing run, running it again" if rerun else "triggered"
    print(f"{dag_id} {day}: {how}: {run_id}")
    state = api.wait_for_run(dag_id, run_id, timeout=timeout)
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
