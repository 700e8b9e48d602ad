"""The DAG end to end under ``dag.test()``: real Airflow task execution, a real S3 endpoint."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta

import pyarrow.parquet as pq

from Module_1_Foundations.common.io import sha256_file
from Module_1_Foundations.common.lake import PIPELINE_TABLES
from Module_2_Pipelines.tests.conftest import BUCKET, TEST_LOANS, logical, task_states

DAY = date(2024, 1, 2)


def test_a_run_lands_the_partition_the_objects_and_the_manifest(etl_dag, lake):
    run = etl_dag.test(logical_date=logical(DAY), run_conf={"loans": TEST_LOANS})

    assert run.state == "success", task_states(run)
    for table in PIPELINE_TABLES:
        assert lake.partition_files(table, DAY) == ["_manifest.json", "part-00000.parquet"]
    part = lake.layout.daily_table("loans", DAY) / "part-00000.parquet"
    key = f"loanbook/loans/dt={DAY}/part-00000.parquet"
    assert key in lake.object_keys()
    manifest = json.loads(lake.layout.daily_manifest(DAY).read_text())
    entry = manifest["tables"]["loans"]["files"]["part-00000.parquet"]
    head = lake.client().head_object(Bucket=BUCKET, Key=key)
    assert entry["object"] == key and entry["bytes"] == part.stat().st_size
    assert head["Metadata"]["sha256"] == entry["sha256"] == sha256_file(part)
    assert manifest["date"] == DAY.isoformat()
    assert manifest["tables"]["repayments"]["rows_out"] > 0  # the live book's events of the day
    assert manifest["run"]["run_id"] == run.run_id


def test_a_published_day_emits_an_event_of_the_daily_asset(etl_dag, lake):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    from Module_2_Pipelines.assets import LOANBOOK_DAILY

    run = etl_dag.test(logical_date=logical(DAY), run_conf={"loans": TEST_LOANS})

    assert run.state == "success", task_states(run)
    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.uri == LOANBOOK_DAILY.uri, AssetEvent.source_run_id == run.run_id)
            .all()
        )
        assert [e.source_task_id for e in events] == ["publish"]


def _parquet_bytes(lake, day: date) -> dict[str, bytes]:
    return {
        table: (lake.layout.daily_table(table, day) / "part-00000.parquet").read_bytes()
        for table in PIPELINE_TABLES
    }


def test_the_same_logical_date_twice_gives_identical_outputs_and_no_duplicates(etl_dag, lake):
    first = etl_dag.test(logical_date=logical(DAY), run_conf={"loans": TEST_LOANS})
    data_1, keys_1 = _parquet_bytes(lake, DAY), lake.object_keys()
    raw = lake.layout.raw_daily(DAY)
    raw_1 = {p.name: p.read_bytes() for p in raw.iterdir()}
    second = etl_dag.test(logical_date=logical(DAY), run_conf={"loans": TEST_LOANS})

    assert (first.state, second.state) == ("success", "success")
    assert _parquet_bytes(lake, DAY) == data_1
    assert lake.object_keys() == keys_1
    assert len(keys_1) == len(set(keys_1)) == 9  # 4 tables x (Parquet + _manifest.json) + manifest
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == raw_1
    folder = lake.layout.daily_table("loans", DAY)
    assert [p.name for p in folder.parent.iterdir()] == [f"dt={DAY}"]  # no stray temp folders
    loans = pq.read_table(folder / "part-00000.parquet")
    ids = loans.column("loan_id").to_pylist()
    assert len(ids) == len(set(ids)) > 0


def test_a_three_day_backfill_gives_three_partitions(etl_dag, lake):
    days = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]
    runs = [etl_dag.test(logical_date=logical(d), run_conf={"loans": TEST_LOANS}) for d in days]

    assert [r.state for r in runs] == ["success"] * 3
    folder = lake.layout.snapshot_table("loans")
    assert sorted(p.name for p in folder.iterdir()) == [f"dt={d}" for d in days]
    assert sorted({k.split("/")[2] for k in lake.object_keys("loanbook/loans/")}) == [
        f"dt={d}" for d in days
    ]
    assert all(lake.layout.daily_manifest(d).is_file() for d in days)
    prefixes = {
        json.loads(lake.layout.daily_manifest(d).read_text())["raw"]["files"]["loans"]["sha256"]
        for d in days
    }
    assert len(prefixes) == 3  # three different drops, not one drop three times


def _wait_for_state(task_id: str, state: str, timeout: float = 60) -> bool:
    """Poll the metadata DB (another session, another thread) for a task instance in ``state``."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with create_session() as session:
            found = (
                session.query(TaskInstance.state)
                .filter(TaskInstance.task_id == task_id, TaskInstance.state == state)
                .all()
            )
        if found:
            return True
        time.sleep(0.2)
    return False


def test_object_store_down_fails_the_load_which_retries_and_succeeds_once_it_is_back(
    etl_dag, lake, monkeypatch
):
    from Module_2_Pipelines.tests.conftest import S3Server, point_settings_at

    down = S3Server()  # a port nothing listens on, yet
    settings = point_settings_at(monkeypatch, lake.root, down.url)
    load_task = etl_dag.get_task("load")
    load_task.retry_delay = timedelta(seconds=1)  # compress time: 1-2 s instead of 20-40 s
    day = date(2024, 1, 4)
    revived: list[bool] = []

    def revive_when_load_waits_for_retry() -> None:
        revived.append(_wait_for_state("load", "up_for_retry"))
        down.start()

    helper = threading.Thread(target=revive_when_load_waits_for_retry, daemon=True)
    helper.start()
    try:
        run = etl_dag.test(logical_date=logical(day), run_conf={"loans": TEST_LOANS})
    finally:
        helper.join(timeout=90)
        down.stop()

    assert revived == [True], "load never went to up_for_retry while the store was down"
    assert run.state == "success", task_states(run)
    load_ti = next(ti for ti in run.get_task_instances() if ti.task_id == "load")
    assert load_ti.try_number == 2
    assert load_task.retries >= 1 and load_task.retry_exponential_backoff == 2.0
    log_text = (settings.raw_dir.parent / "logs" / "etl.log").read_text()
    assert "load: FAILED after" in log_text
    assert f"object store at {down.url} is unreachable" in log_text
    assert "load: succeeded" in log_text


def test_a_malformed_raw_file_fails_validate_and_transform_never_runs(etl_dag, lake):
    from Module_2_Pipelines import etl

    day = date(2024, 1, 5)
    etl.extract(day, loans=TEST_LOANS, settings=lake.settings)
    loans_csv = lake.layout.raw_daily(day) / "loans.csv"
    lines = loans_csv.read_text().splitlines()
    broken = [lines[0]] + [line.rsplit(",", 3)[0] for line in lines[1:]]  # every row truncated
    loans_csv.write_text("\n".join(broken) + "\n")

    run = etl_dag.test(logical_date=logical(day), run_conf={"loans": TEST_LOANS})

    states = task_states(run)
    assert run.state == "failed"
    assert states["extract"] == "success"
    assert states["validate"] == "failed"
    assert states["transform"] == states["load"] == "upstream_failed"
    assert not lake.layout.daily_table("loans", day).exists()
    assert not lake.layout.daily_staged("loans", day).exists()
    assert lake.object_keys() == []
