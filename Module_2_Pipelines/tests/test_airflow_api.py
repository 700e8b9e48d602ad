"""The REST client against a scripted stand-in for Airflow's API server (the real one: the slow
end-to-end test in test_airflow_local.py)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from Module_1_Foundations.common.errors import UserError
from Module_2_Pipelines import airflow_api
from Module_2_Pipelines.airflow_api import ApiClient

Route = Callable[[str, str, dict[str, list[str]], Any], tuple[int, Any]]
AFTER = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


class FakeAirflow:
    """Answers ``/auth/token`` and hands every other request to ``route``; records them all."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[tuple[str, str, dict[str, list[str]], str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append(
                    (self.command, url.path, query, self.headers.get("Authorization"))
                )
                if url.path == "/auth/token":
                    ok = body == {"username": "admin", "password": "secret"}
                    status, payload = (201, {"access_token": "tok"}) if ok else (401, {})
                else:
                    status, payload = fake.route(self.command, url.path, query, body)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PATCH = _answer  # noqa: N815 (http.server names them so)

            def log_message(self, *args: Any) -> None:  # keep pytest's output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def client(self) -> ApiClient:
        return ApiClient(self.port, "admin", "secret")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_airflow(monkeypatch) -> Iterator[Callable[[Route], FakeAirflow]]:
    monkeypatch.setattr(airflow_api, "POLL_SECONDS", 0.01)
    started: list[FakeAirflow] = []

    def start(route: Route) -> FakeAirflow:
        started.append(FakeAirflow(route))
        return started[-1]

    yield start
    for fake in started:
        fake.close()


def _run(state: str, run_id: str = "asset_triggered__1") -> dict[str, Any]:
    return {"dag_run_id": run_id, "state": state, "run_type": "asset_triggered"}


def test_a_wrong_password_is_a_one_line_error(fake_airflow):
    fake = fake_airflow(lambda *_: (404, None))
    with pytest.raises(UserError, match=r"^Airflow refused the login for 'admin' \(HTTP 401\)$"):
        ApiClient(fake.port, "admin", "wrong")


def test_latest_run_asks_for_the_newest_run_after_a_moment_of_one_kind(fake_airflow):
    fake = fake_airflow(lambda *_: (200, {"dag_runs": [_run("queued")], "total_entries": 3}))
    run = fake.client().latest_run("risk", after=AFTER, run_type="asset_triggered")

    assert run == _run("queued")
    method, path, query, auth = fake.requests[-1]
    assert (method, path, auth) == ("GET", "/api/v2/dags/risk/dagRuns", "Bearer tok")
    assert query == {
        "order_by": ["-run_after"],
        "limit": ["1"],
        "run_after_gte": ["2026-12-01T20:00:00+00:00"],
        "run_type": ["asset_triggered"],
    }


def test_latest_run_of_a_dag_without_runs_is_none_and_an_http_error_is_raised(fake_airflow):
    fake = fake_airflow(lambda *_: (200, {"dag_runs": [], "total_entries": 0}))
    assert fake.client().latest_run("risk") is None
    assert fake.requests[-1][2] == {"order_by": ["-run_after"], "limit": ["1"]}

    broken = fake_airflow(lambda *_: (422, {"detail": "Invalid value for run type"}))
    with pytest.raises(UserError, match=r"could not list the runs of risk \(HTTP 422\)"):
        broken.client().latest_run("risk", run_type="nonsense")


def test_latest_run_refuses_a_naive_datetime(fake_airflow):
    fake = fake_airflow(lambda *_: (200, {"dag_runs": []}))
    with pytest.raises(ValueError, match="timezone-aware"):
        fake.client().latest_run("risk", after=datetime(2026, 12, 1))


def test_wait_for_dag_run_waits_for_the_run_to_appear_and_then_to_finish(fake_airflow, capsys):
    listings = iter([[], [], [_run("queued")]])
    states = iter(["queued", "running", "success", "success"])

    def route(method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        if path == "/api/v2/dags/risk/dagRuns":
            return 200, {"dag_runs": next(listings)}
        if path == "/api/v2/dags/risk/dagRuns/asset_triggered__1/taskInstances":
            return 200, {"task_instances": [{"task_id": "score", "state": "running"}]}
        if path == "/api/v2/dags/risk/dagRuns/asset_triggered__1":
            return 200, _run(next(states))
        return 404, {"detail": path}

    fake = fake_airflow(route)
    final = fake.client().wait_for_dag_run("risk", after=AFTER, run_type="asset_triggered")

    assert final == _run("success")
    listed = [r for r in fake.requests if r[1] == "/api/v2/dags/risk/dagRuns"]
    assert len(listed) == 3, "it polled until the run appeared"
    assert "score      running" in capsys.readouterr().out


def test_a_slow_answer_while_waiting_is_retried_not_fatal(fake_airflow):
    import time

    calls = {"run": 0}

    def route(method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        if path.endswith("/taskInstances"):
            return 200, {"task_instances": []}
        calls["run"] += 1
        if calls["run"] == 1:
            time.sleep(0.5)  # longer than the client's timeout: one lost answer
        return 200, _run("success" if calls["run"] > 2 else "running")

    api = fake_airflow(route).client()
    api.timeout = 0.2
    assert api.wait_for_run("risk", "asset_triggered__1", timeout=20, echo=False) == "success"
    assert calls["run"] == 3


def test_an_unreachable_airflow_is_a_one_line_error(fake_airflow):
    fake = fake_airflow(lambda *_: (200, {}))
    api = fake.client()
    fake.close()
    unreachable = airflow_api.AirflowUnreachableError
    with pytest.raises(unreachable, match=r"^Airflow did not answer GET http"):
        api.window("risk")


def test_wait_for_dag_run_names_the_dag_and_the_likely_causes_when_no_run_appears(fake_airflow):
    fake = fake_airflow(lambda *_: (200, {"dag_runs": []}))
    with pytest.raises(UserError) as error:
        fake.client().wait_for_dag_run("risk", after=AFTER, run_type="asset_triggered", timeout=0.1)
    assert str(error.value) == (
        "no asset_triggered run of risk started after 2026-12-01T20:00:00+00:00 within 0 s: "
        "is it unpaused, and did its upstream asset get an event?"
    )


def test_trigger_creates_the_run_then_unpauses_and_a_409_clears_the_existing_run(fake_airflow):
    existing: set[str] = set()

    def route(method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        if (method, path) == ("POST", "/api/v2/dags/etl/dagRuns"):
            if body["logical_date"] in existing:
                return 409, {"detail": "exists"}
            existing.add(body["logical_date"])
            return 200, {"dag_run_id": "manual__1"}
        if (method, path) == ("GET", "/api/v2/dags/etl/dagRuns"):
            return 200, {"dag_runs": [{"dag_run_id": "manual__1"}]}
        if (method, path) in {
            ("POST", "/api/v2/dags/etl/clearTaskInstances"),
            ("PATCH", "/api/v2/dags/etl"),
        }:
            return 200, {}
        return 404, {"detail": path}

    fake = fake_airflow(route)
    api = fake.client()
    assert api.trigger("etl", "2024-01-03T00:00:00Z", {}) == ("manual__1", False)
    assert [r[:2] for r in fake.requests[-2:]] == [
        ("POST", "/api/v2/dags/etl/dagRuns"),
        ("PATCH", "/api/v2/dags/etl"),
    ], "created before unpausing, so no catch-up run gets ahead of it"
    assert api.trigger("etl", "2024-01-03T00:00:00Z", {}) == ("manual__1", True)
    assert ("POST", "/api/v2/dags/etl/clearTaskInstances") in [r[:2] for r in fake.requests]
