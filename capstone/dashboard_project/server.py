"""Run the dashboard as a background service: ``streamlit run`` on 127.0.0.1, health-checked.

Process management is ``Module_1_Foundations.common.services`` (own process group, pid file,
health wait, clean stop); this module only says how to run Streamlit::

    python -m capstone.dashboard_project.server serve   # foreground, Ctrl-C stops (make dashboard)
    python -m capstone.dashboard_project.server start    # background, idempotent
    python -m capstone.dashboard_project.server status
    python -m capstone.dashboard_project.server stop

The port is the settings' ``dashboard_port`` (``HDP_DASHBOARD_PORT``) unless ``--port`` says
otherwise; the pid file and log live in ``<state_dir>/dashboard``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from Module_1_Foundations.common import services
from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.settings import Settings, load_settings

APP = Path(__file__).resolve().parent / "app.py"
NAME = "dashboard"


def url(port: int) -> str:
    return f"http://{services.HOST}:{port}/"


def dashboard_spec(
    settings: Settings,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    app: Path = APP,
    name: str = NAME,
) -> services.ServiceSpec:
    """How to run the dashboard on ``port`` (default: the settings'), reading ``settings``.

    ``app`` and ``name`` run another Streamlit script the same way (the benchmark's bare page).
    """
    port = port or settings.dashboard_port
    child_env = dict(os.environ if env is None else env)
    # the server reads the same snapshot folder as whoever started it
    child_env["HDP_SERVING_DIR"] = str(settings.serving_dir)
    child_env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    argv = (
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--server.address", services.HOST,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    )  # fmt: skip
    return services.ServiceSpec(
        name=name,
        argv=argv,
        run_dir=Path(settings.state_dir) / name,
        env=child_env,
        cwd=app.parent,
        health=f"http://{services.HOST}:{port}/_stcore/health",
        ports={"http": port},
        start_timeout=90.0,
        busy_ports_hint="stop what uses it (make stop), or set HDP_DASHBOARD_PORT",
        details={"url": url(port), "serving_dir": str(settings.serving_dir)},
    )


def running_port(settings: Settings) -> int | None:
    """The port of the dashboard this state folder runs, if one runs."""
    record = services.read_record(dashboard_spec(settings))
    if record is None:
        return None
    port = int(record.get("ports", {}).get("http", 0)) or None
    if port and services.status(dashboard_spec(settings, port))["running"]:
        return port
    return None


def start(settings: Settings, port: int | None = None) -> dict:
    """Start the dashboard (or reuse the one running for this state folder)."""
    return services.start(dashboard_spec(settings, running_port(settings) or port))


def stop(settings: Settings) -> dict:
    return services.stop(dashboard_spec(settings, running_port(settings)))


def serve(settings: Settings, port: int | None = None) -> int:
    """Start, print the URL, wait for Ctrl-C, then stop what this call started."""
    # a shell starts background jobs with SIGINT ignored, and Python keeps an inherited
    # "ignore": Ctrl-C (or a test's SIGINT) would then never reach us
    signal.signal(signal.SIGINT, signal.default_int_handler)
    info = start(settings, port)
    print(f"dashboard: {info['url']} (serving {settings.serving_dir}); Ctrl-C stops it")
    if info["reused"]:
        print("it was already running: left running on exit (make stop stops it)")
    try:
        while services.status(dashboard_spec(settings, info["ports"]["http"]))["running"]:
            time.sleep(1.0)
        print("the dashboard exited; see " + info["log_file"], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if not info["reused"]:
            stop(settings)
            print("dashboard stopped")
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m capstone.dashboard_project.server",
        description="Run the credit-risk dashboard on 127.0.0.1 (background service).",
    )
    parser.add_argument(
        "action",
        choices=("serve", "start", "stop", "status"),
        help="what to do (serve: foreground)",
    )
    parser.add_argument("--port", type=int, help="port (default: HDP_DASHBOARD_PORT, 8501)")
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        settings = load_settings()
        if args.action == "serve":
            return serve(settings, args.port)
        if args.action == "start":
            info = start(settings, args.port)
            print(f"dashboard {'already running' if info['reused'] else 'started'}: {info['url']}")
            return 0
        if args.action == "stop":
            result = stop(settings)
            print("dashboard stopped" if result["was_running"] else "dashboard was not running")
            return 0
        report = services.status(dashboard_spec(settings, running_port(settings) or args.port))
        print(json.dumps(report, indent=2))
        return 0 if report["healthy"] else 1

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
