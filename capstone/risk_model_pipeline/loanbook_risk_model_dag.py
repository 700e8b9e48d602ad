"""The credit-risk model DAG ``loanbook_risk_model`` (Airflow 3 TaskFlow + cosmos).

Scheduled on the lake's daily Asset (``Module_2_Pipelines.assets.LOANBOOK_DAILY``, the ETL's
publish outlet), or triggered by hand with params. One run, keyed on its logical date:

    start (refresh the dbt manifest if stale) -> dbt (cosmos DbtTaskGroup: one `dbt build` task
    per model: the model, then its tests) -> train -> evaluate -> register -> score ->
    el_mart -> publish -> finish

Tests gate everything downstream: a failed dbt test fails its task, every later task is
skipped as upstream-failed, and ``finish`` (which always runs) logs one line naming it and
clears the in-progress marker; the last good snapshot keeps serving. Warehouse writers (the
dbt tasks, score, el_mart) share the one-slot pool ``duckdb_warehouse``: DuckDB has one
writer. No top-level work: settings only; heavy imports inside the tasks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, chain, dag, get_current_context, task

from capstone.risk_model_pipeline.pipeline import DAG_ID, WAREHOUSE_POOL
from Module_2_Pipelines.assets import LOANBOOK_DAILY

log = logging.getLogger(__name__)
RETRIES = {"retries": 2, "retry_delay": timedelta(seconds=20), "retry_exponential_backoff": True}


def _logical_date() -> str:
    context = get_current_context()
    when = context.get("logical_date") or context["dag_run"].run_after
    return when.date().isoformat()


def _dbt_group() -> Any:
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )
    from cosmos.constants import InvocationMode, TestBehavior, TestIndirectSelection

    from capstone.risk_model_pipeline.dbt_manifest import manifest_path
    from Module_1_Foundations.common.settings import get_settings
    from Module_3_Analytics_Eng.dbt_runner import DBT_PROFILE, DBT_PROJECT_DIR, dbt_env

    settings = get_settings()
    env = dbt_env(settings)
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=manifest_path(settings),
            env_vars=env,
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name=DBT_PROFILE,
            target_name=env["HDP_DBT_TARGET"],
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            invocation_mode=InvocationMode.DBT_RUNNER,
            # a model's task runs only the tests whose every parent is built by then; tests
            # over several models (relationships, the label check) get their own task after
            # all their parents (should_detach_multiple_parents_tests below). With the default
            # (eager) the label check ran with ml_loan_features' first parent and failed:
            # "Catalog Error: Table with name ml_loan_features does not exist!"
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # one task per model running `dbt build` of it: the model, then its tests, so a
            # failed test fails the model's task and gates everything downstream (half the
            # dbt invocations of AFTER_EACH, which runs model and tests as two tasks)
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            exclude=["path:models/marts/risk"],  # built after scoring, by score/el_mart
            emit_datasets=False,
        ),
        operator_args={
            "pool": WAREHOUSE_POOL,  # (no dbt deps: ProjectConfig(install_dbt_deps=False))
            # keep each task's test results for the serving snapshot (cosmos deletes its copy)
            "callback": "capstone.risk_model_pipeline.pipeline.record_dbt_tests",
            **RETRIES,
        },
    )


@dag(
    dag_id=DAG_ID,
    schedule=[LOANBOOK_DAILY],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=RETRIES,
    params={
        "max_train_rows": Param(
            10_000,
            type="integer",
            minimum=100,
            description="training sample cap (pure-Python models)",
        ),
    },
    tags=["capstone", "credit-risk"],
    doc_md=__doc__,
)
def loanbook_risk_model() -> None:
    @task
    def start() -> str:
        from capstone import serving_snapshot
        from capstone.risk_model_pipeline.dbt_manifest import ensure_manifest

        run_id = get_current_context()["run_id"]
        serving_snapshot.mark_run_started(run_id, _logical_date())
        return str(ensure_manifest())

    @task
    def train() -> dict[str, Any]:
        from capstone.risk_model_pipeline import pipeline

        rows = int(get_current_context()["params"]["max_train_rows"])
        return pipeline.train(_logical_date(), max_train_rows=rows)

    @task
    def evaluate() -> dict[str, Any]:
        from capstone.risk_model_pipeline import pipeline

        return pipeline.evaluate(_logical_date())

    @task
    def register(manifest: str) -> dict[str, Any]:
        from pathlib import Path

        from capstone.risk_model_pipeline import pipeline

        result = pipeline.register(_logical_date(), manifest=Path(manifest))
        log.info("model version %s: %s", result["version"], result["reason"])
        return result

    @task(pool=WAREHOUSE_POOL)
    def score() -> dict[str, Any]:
        from capstone.risk_model_pipeline import pipeline

        return pipeline.score(_logical_date())

    @task(pool=WAREHOUSE_POOL)
    def el_mart() -> dict[str, Any]:
        from capstone.risk_model_pipeline import pipeline

        return pipeline.el_mart(_logical_date())

    @task
    def publish() -> dict[str, Any]:
        from capstone.risk_model_pipeline import publish as publisher

        context = get_current_context()
        return publisher.publish(_logical_date(), context["run_id"], dag_runs=_dag_runs(context))

    @task(trigger_rule="all_done", retries=0)
    def finish() -> None:
        from capstone import serving_snapshot

        context = get_current_context()
        run_id, ti = context["run_id"], context["ti"]
        serving_snapshot.mark_run_finished(run_id)
        # tasks read the metadata DB through the execution API only (Airflow 3)
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id]).get(run_id, {})
        failed = sorted(
            task_id
            for task_id, state in states.items()
            if state in ("failed", "upstream_failed") and task_id != "finish"
        )
        if failed:
            broken = [t for t in failed if states[t] == "failed"] or failed
            first = next((t for t in broken if t.startswith("dbt.")), broken[0])
            log.error("publication stopped: %s failed (%d tasks not done)", first, len(failed))
            raise RuntimeError(f"publication stopped: {first} failed")

    manifest = start()
    steps = [manifest, _dbt_group(), train(), evaluate(), register(manifest), score(), el_mart()]
    steps.append(publish())
    chain(*steps)
    done = finish()
    for step in steps:
        step >> done


def _dag_runs(context: Any) -> list[dict[str, Any]]:
    """This run (still running while it publishes) and the ETL run whose Asset event started it."""
    run = context["dag_run"]
    rows = [
        {
            "dag_id": run.dag_id,
            "run_id": run.run_id,
            "state": "running",
            "logical_date": context.get("logical_date"),
            "start_date": run.start_date,
            "end_date": None,
        }
    ]
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            source = getattr(event, "source_run_id", None)
            if source:
                rows.append(
                    {
                        "dag_id": event.source_dag_id,
                        "run_id": source,
                        "state": "success",
                        "logical_date": None,
                        "start_date": None,
                        "end_date": event.timestamp,
                    }
                )
    return rows


loanbook_risk_model()
