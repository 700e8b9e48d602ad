"""``make run``: the whole learning path on this machine, ending in the dashboard.

    python -m capstone.run_all                  # everything, then wait for Ctrl-C
    python -m capstone.run_all --dates 2024-01-05 --loans 5000
    python -m capstone.run_all stop             # stop every service (make stop)

Steps, each reusing what is already there (a second run skips the work it finds done):

1. the object store (SeaweedFS on 127.0.0.1) and the default loan book (generated once),
   converted to Parquet and uploaded to the lake bucket;
2. the dbt manifest the risk DAG renders from, then Airflow standalone (127.0.0.1);
3. the one-slot ``duckdb_warehouse`` pool, the risk DAG unpaused (it is scheduled on the ETL's
   Asset), the ETL DAG triggered through the REST API for each demo date and waited for;
4. the risk DAG's Asset-triggered run, started by the scheduler, waited for to success;
5. the dashboard on the new serving snapshot; its URL, the Airflow login, what to try next.

Ctrl-C (at any step) stops every service this invocation started, with their whole process
groups (``Module_1_Foundations.common.services``); services it found running are left running.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from capstone import serving_snapshot
from capstone.dashboard_project import server
from Module_1_Foundations.common.cli import ArgumentParser, iso_date, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.lake import DATASET, LakeLayout
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.settings import Settings, load_settings
from Module_2_Pipelines.airflow_api import AirflowUnreachableError

ETL_DAG = "loanbook_daily_etl"
RISK_DAG = "loanbook_risk_model"
WAREHOUSE_POOL = "duckdb_warehouse"
#: the ETL DAG's demo window (its start_date .. end_date)
DEMO_DATES = tuple(date(2024, 1, 1) + timedelta(days=i) for i in range(7))
DEFAULT_LOANS = 10_000
RUN_TIMEOUT = 3600.0
AIRFLOW_START_TIMEOUT = 900.0


@dataclass
class Started:
    """What this invocation started, in start order: stopped in reverse on exit."""

    stops: list[tuple[str, Callable[[], object]]] = field(default_factory=list)

    def add(self, name: str, stop: Callable[[], object]) -> None:
        self.stops.append((name, stop))

    def stop_all(self) -> None:
        for name, stop in reversed(self.stops):
            print(f"stopping {name} ...", flush=True)
            try:
                stop()
            except UserError as exc:  # keep stopping the others, then report
                print(f"error: {exc}", file=sys.stderr)
        self.stops.clear()


def step(text: str) -> None:
    print(f"== {time.strftime('%H:%M:%S')} {text}", flush=True)


def python_module(*args: str) -> None:
    """Run ``python -m <args>`` of this venv; its failure is a one-line error."""
    result = subprocess.run([sys.executable, "-m", *args], cwd=REPO_ROOT)
    if result.returncode != 0:
        raise UserError(f"'python -m {' '.join(args)}' failed (exit {result.returncode})")


def object_store(settings: Settings, started: Started) -> None:
    from Module_1_Foundations.project import local_s3_server

    was_running = local_s3_server.status(settings)["running"]
    info = local_s3_server.start(settings)
    if not was_running:
        started.add("the object store", lambda: local_s3_server.stop(settings))
    print(f"object store: {info.get('endpoint_url')} ({'reused' if was_running else 'started'})")


def loan_book(settings: Settings, loans: int, seed: int) -> None:
    manifest = LakeLayout.from_settings(settings).raw_manifest()
    if manifest.exists():
        print(f"loan book: reusing {manifest.parent} (delete it or 'make clean' to regenerate)")
    else:
        python_module(
            "Module_1_Foundations.datasets.loanbook_generator", "--loans", str(loans),
            "--seed", str(seed),
        )  # fmt: skip
    python_module(
        "Module_1_Foundations.project.csv_to_parquet_to_s3", DATASET, "--upload",
        "--create-bucket",
    )  # fmt: skip


def airflow(settings: Settings, started: Started, start_timeout: float):
    """Airflow standalone as ``make airflow-up`` starts it, with a longer health wait: on a
    fresh clone it migrates its database first, and a busy laptop can take minutes."""
    from Module_1_Foundations.common import services
    from Module_2_Pipelines import airflow_local

    python_module("capstone.risk_model_pipeline.dbt_manifest")
    already = airflow_local.running(settings)
    port = already["port"] if already else settings.airflow_port
    if already is None:
        paths = airflow_local.AirflowPaths(Path(settings.airflow_home))
        paths.home.mkdir(parents=True, exist_ok=True)
        airflow_local.prepare_dags_folder(paths.dags)
        airflow_local.write_shim(paths)
        print(f"starting Airflow standalone on port {port}, console log: {paths.console_log}")
    spec = replace(airflow_local.standalone_spec(settings, port), start_timeout=start_timeout)
    info = {**services.start(spec), "port": port}
    how = "reused" if info["reused"] else f"healthy after {info['ready_seconds']} s"
    print(f"Airflow: {how}")
    if not info["reused"]:
        started.add("Airflow", lambda: airflow_local.down(settings))
    api = PatientApi(airflow_local.client(settings))
    status, payload = api.call("POST", "/pools", {"name": WAREHOUSE_POOL, "slots": 1})
    if status not in (200, 201, 409):
        raise UserError(f"could not create the pool {WAREHOUSE_POOL} (HTTP {status}): {payload}")
    return api, info


class PatientApi:
    """The REST client, retrying single calls that time out: a loaded machine's API server can
    take longer than the client's 10 s to answer, which is no reason to stop a run (the
    client's own polling loops retry too)."""

    ATTEMPTS = 10

    def __init__(self, api) -> None:
        self._api = api

    def __getattr__(self, name: str):
        method = getattr(self._api, name)

        def patient(*args, **kwargs):
            for attempt in range(1, self.ATTEMPTS + 1):
                try:
                    return method(*args, **kwargs)
                except (
                    AirflowUnreachableError,
                    TimeoutError,
                    ConnectionError,
                    urllib.error.URLError,
                ) as exc:
                    if attempt == self.ATTEMPTS:
                        raise UserError(
                            f"Airflow's API did not answer {name} after {attempt} tries ({exc}): "
                            "is it overloaded? See the Airflow console log"
                        ) from None
                    print(f"  Airflow's API is slow ({exc}); asking again", flush=True)
                    time.sleep(5)
            raise AssertionError("unreachable")

        return patient


def run_dags(api, dates: tuple[date, ...], refresh: bool, settings: Settings) -> None:
    """ETL for each date (skipping dates already done), then the risk DAG the Asset starts."""
    for dag_id in (ETL_DAG, RISK_DAG):
        api.wait_for_dag(dag_id, timeout=300.0)
    api.unpause(RISK_DAG)  # before the ETL: the Asset event must find it unpaused
    have_snapshot = (Path(settings.serving_dir) / serving_snapshot.CURRENT).exists()
    before = datetime.now(UTC)
    triggered = 0
    for day in dates:
        when = f"{day.isoformat()}T00:00:00Z"
        existing = api.run_for(ETL_DAG, when)
        if existing and not refresh and have_snapshot:
            _, run = api.call("GET", f"/dags/{ETL_DAG}/dagRuns/{existing}")
            if (run or {}).get("state") == "success":
                print(f"{ETL_DAG} {day}: already succeeded ({existing}); --refresh reruns it")
                continue
        run_id, rerun = api.trigger(ETL_DAG, when, {})
        print(f"{ETL_DAG} {day}: {'rerunning' if rerun else 'triggered'} {run_id}", flush=True)
        state = api.wait_for_run(ETL_DAG, run_id, timeout=RUN_TIMEOUT)
        if state != "success":
            raise UserError(f"{ETL_DAG} {day} ended {state}: see the Airflow UI for the task log")
        triggered += 1
    if not triggered:
        print(f"{RISK_DAG}: nothing new for it to run; the current snapshot stays")
        return
    step(f"{RISK_DAG}: waiting for the run its Asset triggers (through the scheduler)")
    while True:
        run = api.wait_for_dag_run(
            RISK_DAG, after=before, run_type="asset_triggered", timeout=RUN_TIMEOUT
        )
        latest = api.latest_run(RISK_DAG, after=before, run_type="asset_triggered")
        if latest and latest["dag_run_id"] != run["dag_run_id"]:
            continue  # later events queued another run: wait for that one too
        if run["state"] != "success":
            raise UserError(f"{RISK_DAG} run {run['dag_run_id']} ended {run['state']}: see the UI")
        print(f"{RISK_DAG}: {run['dag_run_id']} success")
        return


def dashboard(settings: Settings, started: Started) -> dict:
    serving_snapshot.open_current(settings)  # a clear error if the pipeline published nothing
    info = server.start(settings)
    if not info["reused"]:
        started.add("the dashboard", lambda: server.stop(settings))
    return info


def announce(settings: Settings, dash: dict, airflow_info: dict | None) -> None:
    from Module_2_Pipelines import airflow_local

    snap = serving_snapshot.open_current(settings)
    print()
    print(f"Dashboard:  {dash['url']}")
    if airflow_info is not None:
        paths = airflow_local.AirflowPaths(Path(settings.airflow_home))
        print(airflow_local.login_line(paths, airflow_info["port"]))
    print(
        f"Snapshot:   {snap.manifest['snapshot_id']} (model {snap.manifest['model_name']} "
        f"v{snap.manifest['model_version']}, {snap.manifest['tables']['loans']['rows']:,} loans)"
    )
    print(
        "Try next:   the Applicant what-if page (score one applicant, see why); the Model\n"
        "            page's lineage; in Airflow, the loanbook_risk_model graph and its Asset;\n"
        "            'make run'"
        " again (reuses everything); 'make dashboard' (the dashboard alone);\n"
        "            'make stop' (every service)."
    )


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    # Ctrl-C and a plain kill both stop what this run started. SIGINT is set explicitly: a
    # process started in the background by a non-interactive shell inherits SIGINT ignored
    # (seen: the run went on after SIGINT to its group, until 'make stop').
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    settings = load_settings()
    started = Started()
    try:
        step("object store and loan book")
        object_store(settings, started)
        loan_book(settings, args.loans, args.seed)
        step("Airflow standalone")
        api, airflow_info = airflow(settings, started, args.airflow_timeout)
        step(f"ETL DAG for {len(args.dates)} demo date(s), then the risk DAG")
        run_dags(api, tuple(args.dates), args.refresh, settings)
        step("dashboard")
        dash = dashboard(settings, started)
        announce(settings, dash, airflow_info)
        if args.no_wait:
            return 0
        print("\nCtrl-C stops everything this command started.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        return 130
    finally:
        if not args.no_wait:
            started.stop_all()
        elif sys.exc_info()[0] is not None:
            started.stop_all()  # a failed --no-wait run leaves nothing behind either


def stop_everything() -> int:
    """``make stop``: the dashboard, Airflow and the object store of this state folder."""
    from Module_1_Foundations.project import local_s3_server
    from Module_2_Pipelines import airflow_local

    settings = load_settings()
    result = server.stop(settings)
    print("dashboard stopped" if result["was_running"] else "dashboard was not running")
    airflow_local.down(settings)
    was = local_s3_server.status(settings)["running"]
    local_s3_server.stop(settings)
    print("object store stopped" if was else "object store was not running")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m capstone.run_all",
        description="Set up and run the whole path (object store, Airflow, both DAGs), then "
        "serve the dashboard until Ctrl-C; 'stop' stops every service.",
    )
    parser.add_argument("action", nargs="?", choices=("run", "stop"), default="run")
    parser.add_argument(
        "--dates",
        type=iso_date,
        nargs="+",
        default=list(DEMO_DATES),
        help="ETL logical dates (default: the demo week 2024-01-01..07)",
    )
    parser.add_argument("--loans", type=int, default=DEFAULT_LOANS, help="loans to generate")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument(
        "--refresh", action="store_true", help="rerun ETL dates that already succeeded"
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="leave the services running and return"
    )
    parser.add_argument(
        "--airflow-timeout",
        type=float,
        default=AIRFLOW_START_TIMEOUT,
        help="seconds to wait for Airflow to become healthy (default 900)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        return stop_everything() if args.action == "stop" else run(args)

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
