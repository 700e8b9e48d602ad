"""The daily loan-book ETL as an Airflow 3 DAG (TaskFlow, ``airflow.sdk``).

extract -> validate -> transform -> load -> verify -> publish, one run per logical date. Each task
calls one function of :mod:`Module_2_Pipelines.etl` (the same functions the shell CLI runs), for
the run's date, with destinations from the shared settings. The module does no work when it is
parsed: Airflow imports it every 30 s, so every project import happens inside a task.

Schedule: ``CronDataIntervalTimetable("@daily")``: the run of logical date D covers the interval
[D, D+1) and starts once that day is over, the classic "process yesterday" semantics (Airflow 3's
plain ``schedule="@daily"`` uses ``CronTriggerTimetable``, whose logical date is the trigger time).
``catchup=True`` creates a run for every missed interval between ``start_date`` and ``end_date``:
unpausing the DAG backfills that window, one run at a time (``max_active_runs``).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

DAG_ID = "loanbook_daily_etl"
#: The demo window: unpausing backfills these seven days. Drop ``end_date`` in production.
START_DATE = datetime(2024, 1, 1, tzinfo=UTC)
END_DATE = datetime(2024, 1, 7, tzinfo=UTC)

log = logging.getLogger("Module_2_Pipelines.dag")


def log_task_problem(context: dict[str, Any]) -> None:
    """Failure and retry callback: one line naming the task, the date, the try and the cause."""
    ti = context.get("ti") or context.get("task_instance")
    error = context.get("exception")
    logical = context.get("logical_date")
    log.error(
        "task %s of %s (logical date %s) failed on try %s: %s: %s",
        getattr(ti, "task_id", "?"),
        getattr(ti, "run_id", "?"),
        logical.date().isoformat() if logical else "none",
        getattr(ti, "try_number", "?"),
        type(error).__name__ if error else "unknown",
        error,
    )


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "module-2",
    "retries": 3,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": 2.0,  # 20 s, 40 s, 80 s (plus jitter), capped below
    "max_retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(minutes=30),
    "on_failure_callback": log_task_problem,
    "on_retry_callback": log_task_problem,
}


def _run_date_and_id() -> tuple[date, str]:
    """The date a task works on: the logical date, or the run's start for a run without one."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    moment = context.get("logical_date") or context["dag_run"].run_after
    return moment.date(), context["run_id"]


@dag(
    dag_id=DAG_ID,
    description="Daily loan-book drop: raw CSV -> contract check -> Parquet -> object store",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    end_date=END_DATE,
    catchup=True,
    max_active_runs=1,
    max_consecutive_failed_dag_runs=3,
    dagrun_timeout=timedelta(hours=2),
    default_args=DEFAULT_ARGS,
    params={
        "loans": Param(
            2_000,
            type="integer",
            minimum=1,
            maximum=10_000_000,
            description="loans in the day's raw drop (when it is landed)",
        ),
        "max_reject_rate": Param(
            0.05,
            type="number",
            minimum=0,
            maximum=1,
            description="share of rows per table allowed to break the contract",
        ),
    },
    tags=["module-2", "loanbook", "etl"],
    doc_md=__doc__,
)
def loanbook_daily_etl() -> None:
    @task(execution_timeout=timedelta(minutes=20))
    def extract(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Land the day's raw drop (write-once) under ``<raw_dir>/loanbook/daily/dt=DAY/``."""
        from Module_2_Pipelines import etl

        day, run_id = _run_date_and_id()
        with etl.pipeline_log(run_id, "extract"):
            return etl.extract(day, loans=int((params or {}).get("loans", etl.DEFAULT_LOANS)))

    @task(retries=0, execution_timeout=timedelta(minutes=10))
    def validate(extracted: dict[str, Any], params: dict[str, Any] | None = None) -> dict:
        """The contract gate: a broken drop fails here, without retries, before any work."""
        from Module_2_Pipelines import etl

        day, run_id = _run_date_and_id()
        rate = float((params or {}).get("max_reject_rate", etl.DEFAULT_MAX_REJECT_RATE))
        with etl.pipeline_log(run_id, "validate"):
            return etl.validate(day, max_reject_rate=rate)

    @task(execution_timeout=timedelta(minutes=30))
    def transform(validated: dict[str, Any]) -> dict[str, Any]:
        """Clean Parquet partitions (Module 1's converter), swapped in atomically."""
        from Module_2_Pipelines import etl

        day, run_id = _run_date_and_id()
        with etl.pipeline_log(run_id, "transform"):
            return etl.transform(day)

    @task(retries=4, execution_timeout=timedelta(minutes=15))
    def load(transformed: dict[str, Any]) -> dict[str, Any]:
        """Upload the partitions; an unreachable store fails the try and is retried."""
        from Module_2_Pipelines import etl

        day, run_id = _run_date_and_id()
        with etl.pipeline_log(run_id, "load"):
            result = etl.load(day)
        # XCom carries counts only, the keys and checksums are in the manifest
        return {k: v for k, v in result.items() if k != "objects"} | {
            "objects": len(result["objects"])
        }

    @task(execution_timeout=timedelta(minutes=15))
    def verify(loaded: dict[str, Any]) -> dict[str, Any]:
        """Every object exists, nothing extra, and each checksum matches the local file."""
        from Module_2_Pipelines import etl

        day, run_id = _run_date_and_id()
        with etl.pipeline_log(run_id, "verify"):
            result = etl.verify(day)
        return {"date": result["date"], "verified": result["verified"]}

    @task(execution_timeout=timedelta(minutes=5))
    def publish(
        extracted: dict[str, Any],
        validated: dict[str, Any],
        transformed: dict[str, Any],
        verified: dict[str, Any],
    ) -> dict[str, Any]:
        """Write the run manifest last: its presence means the day is complete."""
        from Module_1_Foundations.common.settings import get_settings
        from Module_2_Pipelines import etl

        day, run_id = _run_date_and_id()
        settings = get_settings()
        with etl.pipeline_log(run_id, "publish"):
            manifest = etl.build_manifest(
                day,
                extracted=extracted,
                validated=validated,
                transformed=transformed,
                verified=verified,
                settings=settings,
                run_id=run_id,
            )
            return etl.publish(day, manifest, settings=settings)

    extracted = extract()
    validated = validate(extracted)
    transformed = transform(validated)
    verified = verify(load(transformed))
    publish(extracted, validated, transformed, verified)


loanbook_daily_etl()
