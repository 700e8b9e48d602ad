"""A small client of Airflow 3's public REST API (``/api/v2``): log in, trigger, wait.

Only the calls this learning path needs, on the standard library (``urllib``)::

    client = ApiClient(8080, "admin", password)   # or airflow_local.client()
    client.unpause("loanbook_risk_model")  # scheduled on an Asset; new DAGs start paused
    before = datetime.now(UTC)
    run_id, rerun = client.trigger(DAG_ID, "2024-01-05T00:00:00Z", {})  # pipeline.DAG_ID
    client.wait_for_run(DAG_ID, run_id)                                  # -> "success"
    # the asset event of the ETL's last task starts the risk model's run: wait for it
    client.wait_for_dag_run("loanbook_risk_model", after=before, run_type="asset_triggered")

``Module_2_Pipelines/airflow_local.py`` runs the local Airflow and gives a logged-in client
(``airflow_local.client()``); this file knows nothing of processes.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime
from typing import Any

from Module_1_Foundations.common.errors import UserError

FINAL_RUN_STATES = {"success", "failed"}
#: the components ``/api/v2/monitor/health`` must report healthy before anything is triggered
HEALTHY_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
POLL_SECONDS = 2.0


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def http_json(
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
        # B310 is safe: the url is always http(s)://host:port of the Airflow API given to us
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
        status, payload = http_json(f"{base_url(port)}/api/v2/monitor/health", timeout=3)
    except (OSError, urllib.error.URLError):
        return None
    if status != 200 or not isinstance(payload, dict):
        return None
    return {name: (part or {}).get("status", "unknown") for name, part in payload.items()}


def is_healthy(report: dict[str, str] | None) -> bool:
    return bool(report) and all(report.get(name) == "healthy" for name in HEALTHY_COMPONENTS)


class AirflowUnreachableError(UserError):
    """The API server did not answer (refused, or timed out): the polling loops try again."""


class ApiClient:
    """The few calls of Airflow's public REST API (``/api/v2``) the learner needs."""

    #: seconds one call may take; a busy API server can be slow, the polling loops retry
    timeout = 10.0

    def __init__(self, port: int, username: str, password: str) -> None:
        self.url = base_url(port)
        status, payload = http_json(
            f"{self.url}/auth/token",
            method="POST",
            body={"username": username, "password": password},
        )
        if status not in (200, 201) or "access_token" not in (payload or {}):
            raise UserError(f"Airflow refused the login for {username!r} (HTTP {status})")
        self.token = payload["access_token"]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"{self.url}/api/v2{path}"
        try:
            return http_json(url, method=method, body=body, token=self.token, timeout=self.timeout)
        except (OSError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", None) or exc or type(exc).__name__
            message = f"Airflow did not answer {method} {url}: {reason}"
            raise AirflowUnreachableError(message) from exc

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = self.call("GET", f"/dags/{dag_id}")
            if status == 200:
                return
            time.sleep(POLL_SECONDS)
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

    def unpause(self, dag_id: str) -> None:
        """New DAGs start paused, asset-scheduled ones too: no run is created until unpaused."""
        status, payload = self.call("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        if status != 200:
            raise UserError(f"could not unpause {dag_id} (HTTP {status}): {payload}")

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
        self.unpause(dag_id)
        return run_id, rerun

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        _, payload = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti["state"] for ti in (payload or {}).get("task_instances", [])}

    def latest_run(
        self, dag_id: str, *, after: datetime | None = None, run_type: str | None = None
    ) -> dict[str, Any] | None:
        """The DAG's most recent run (by ``run_after``), or ``None`` when it has none.

        ``after`` keeps only runs due at or after that moment (an aware datetime); ``run_type``
        keeps one kind: ``manual``, ``scheduled``, ``backfill`` or ``asset_triggered``.
        """
        query: dict[str, str | int] = {"order_by": "-run_after", "limit": 1}
        if after is not None:
            if after.tzinfo is None:
                raise ValueError("after must be timezone-aware (e.g. datetime.now(UTC))")
            query["run_after_gte"] = after.isoformat()
        if run_type is not None:
            query["run_type"] = run_type
        status, payload = self.call(
            "GET", f"/dags/{dag_id}/dagRuns?{urllib.parse.urlencode(query)}"
        )
        if status != 200:
            raise UserError(f"could not list the runs of {dag_id} (HTTP {status}): {payload}")
        runs = (payload or {}).get("dag_runs", [])
        return runs[0] if runs else None

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout: float = 900.0, echo: bool = True
    ) -> str:
        """Wait until the run is ``success`` or ``failed``; print each task state change."""
        deadline = time.monotonic() + timeout
        seen: dict[str, str | None] = {}
        while time.monotonic() < deadline:
            try:
                _, run = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
                states = self.task_states(dag_id, run_id)
            except AirflowUnreachableError:
                time.sleep(POLL_SECONDS)  # busy, not gone: ask again until the deadline
                continue
            for task_id, state in states.items():
                if echo and seen.get(task_id) != state:
                    print(f"  {time.strftime('%H:%M:%S')} {task_id:10} {state}")
            seen = states
            if run and run.get("state") in FINAL_RUN_STATES:
                return run["state"]
            time.sleep(POLL_SECONDS)
        raise UserError(f"run {run_id} did not finish within {timeout:.0f} s: see the UI")

    def _latest_run_or_none(
        self, dag_id: str, after: datetime, run_type: str | None
    ) -> dict[str, Any] | None:
        try:
            return self.latest_run(dag_id, after=after, run_type=run_type)
        except AirflowUnreachableError:
            return None  # busy, not gone: the caller asks again until its deadline

    def wait_for_dag_run(
        self,
        dag_id: str,
        *,
        after: datetime,
        run_type: str | None = None,
        timeout: float = 900.0,
        echo: bool = True,
    ) -> dict[str, Any]:
        """Wait for a run of ``dag_id`` due at or after ``after`` to appear and finish.

        For a DAG that something else starts (an Asset event, the scheduler): take ``after``
        just before the upstream trigger. Returns the finished run (``state``, ``dag_run_id``,
        ``run_type``, ...); raises :class:`UserError` when none appears or it does not finish.
        """
        deadline = time.monotonic() + timeout
        while (run := self._latest_run_or_none(dag_id, after, run_type)) is None:
            if time.monotonic() >= deadline:
                kind = f"{run_type} " if run_type else ""
                raise UserError(
                    f"no {kind}run of {dag_id} started after {after.isoformat()} within "
                    f"{timeout:.0f} s: is it unpaused, and did its upstream asset get an event?"
                )
            time.sleep(POLL_SECONDS)
        left = max(deadline - time.monotonic(), POLL_SECONDS)
        self.wait_for_run(dag_id, run["dag_run_id"], timeout=left, echo=echo)
        status, final = self.call("GET", f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}")
        if status != 200:
            raise UserError(f"could not read run {run['dag_run_id']} (HTTP {status}): {final}")
        return final
