"""The daily loan-book ETL as an Airflow 3 DAG (TaskFlow, ``airflow.sdk``).

extract -> validate -> transform -> load -> verify -> publish, one run per logical date. Each task
calls one step of :mod:`Module_2_Pipelines.etl` (the same functions the shell CLI runs) through
:func:`run_step`, for the run's date, with destinations from the shared settings, and passes on
only what the next steps use (load's checksums to verify, the counts and checksums to publish).
Parsing the file does no work: every heavy import happens inside a task.

Schedule: ``CronDataIntervalTimetable("@daily")``: the run of logical date D covers the interval
[D, D+1) and starts once that day is over, the classic "process yesterday" semantics (Airflow 3's
plain ``schedule="@daily"`` uses ``CronTriggerTimetable``, whose logical date is the trigger time).
``catchup=True`` creates a run for every missed interval between ``start_date`` and ``end_date``:
unpausing the DAG backfills that window, one run at a time (``max_active_runs``).

Hand-off: publish's outlet is the Asset :data:`~Module_2_Pipelines.assets.LOANBOOK_DAILY`; each
published day emits an event that DAGs scheduled on it (the capstone's) run on.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, Param, chain, dag, task

from Module_1_Foundations.common.lake import DATASET
from Module_2_Pipelines.assets import LOANBOOK_DAILY
from Module_2_Pipelines.pipeline import DAG_ID, DEFAULT_LOANS, DEFAULT_MAX_REJECT_RATE

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


def run_step(step: str, **inputs: Any) -> Any:
    """What every task does: ``etl.<step>(day, **inputs)`` for the run's date, inside the
    pipeline log under the run's id. The date is the logical date, or the run's start for a
    run without one."""
    from airflow.sdk import get_current_context

    from Module_2_Pipelines import etl

    context = get_current_context()
    day = (context.get("logical_date") or context["dag_run"].run_after).date()
    with etl.pipeline_log(context["run_id"], step):
        return getattr(etl, step)(day, **inputs)


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
            DEFAULT_LOANS,
            type="integer",
            minimum=1,
            maximum=10_000_000,
            description="loans in the day's raw drop (when it is landed)",
        ),
        "max_reject_rate": Param(
            DEFAULT_MAX_REJECT_RATE,
            type="number",
            minimum=0,
            maximum=1,
            description="share of rows per table allowed to break the contract",
        ),
    },
    tags=["module-2", DATASET, "etl"],
    doc_md=__doc__,
)
def loanbook_daily_etl() -> None:
    @task(execution_timeout=timedelta(minutes=20))
    def extract(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Land the day's raw drop (write-once): new loans and the day's repayment events."""
        return run_step("extract", loans=int((params or {}).get("loans", DEFAULT_LOANS)))

    @task(retries=0, execution_timeout=timedelta(minutes=10))
    def validate(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The contract gate: a broken drop fails here, without retries, and stages nothing."""
        rate = float((params or {}).get("max_reject_rate", DEFAULT_MAX_REJECT_RATE))
        return run_step("validate", max_reject_rate=rate)

    @task(execution_timeout=timedelta(minutes=10))
    def transform() -> dict[str, Any]:
        """The validated partitions swapped into the tables atomically."""
        return run_step("transform")

    @task(retries=4, execution_timeout=timedelta(minutes=15))
    def load() -> dict[str, str]:
        """Upload the partitions; an unreachable store fails the try and is retried."""
        return run_step("load")["objects"]  # key -> sha256: what verify and publish use

    @task(execution_timeout=timedelta(minutes=15))
    def verify(objects: dict[str, str]) -> dict[str, Any]:
        """Every object exists, nothing extra, and each matches the checksum load computed."""
        return run_step("verify", objects=objects)

    @task(execution_timeout=timedelta(minutes=5), outlets=[LOANBOOK_DAILY])
    def publish(
        extracted: dict[str, Any],
        validated: dict[str, Any],
        transformed: dict[str, Any],
        verified: dict[str, Any],
        run_id: str | None = None,  # filled in by Airflow from the context
    ) -> dict[str, Any]:
        """Write the run manifest last: its presence means the day is complete."""
        return run_step(
            "publish",
            extracted=extracted,
            validated=validated,
            transformed=transformed,
            verified=verified,
            run_id=run_id,
        )

    extracted, validated, transformed, loaded = extract(), validate(), transform(), load()
    chain(extracted, validated, transformed, loaded)
    publish(extracted, validated, transformed, verify(loaded))


loanbook_daily_etl()
