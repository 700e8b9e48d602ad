"""Benchmark the risk-model pipeline: stages, orchestration share, training, scoring, AUC.

For a generated book of ``--loans`` loans (default 100 000), in a throwaway folder:

1. the pipeline's stages called directly (one ``dbt build`` of the data marts, then train,
   evaluate, register, score, el_mart, publish): seconds per stage;
2. the same work as the ``loanbook_risk_model`` DAG under ``dag.test()`` (cosmos: one dbt
   invocation per model and per model's tests): the orchestration share is
   ``(DAG wall - direct wall) / DAG wall``;
3. training seconds of the scratch models against scikit-learn's on the same sample;
4. scoring throughput: the champion's compiled SQL in DuckDB against Python (record by record
   as the dashboard scores, and vectorised NumPy);
5. holdout AUC of every candidate against the best possible AUC (the generator's true PDs).

    python capstone/benchmarks/bench_pipeline.py [--loans 100000] [--skip-dag]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.lake import LakeLayout


def _environment(root: Path) -> None:
    """Every path under ``root``; Airflow configured before it is imported."""
    airflow = root / "airflow"
    os.environ.update(
        {
            "HDP_STATE_DIR": str(root / "state"),
            "HDP_RAW_DIR": str(root / "raw"),
            "HDP_PROCESSED_DIR": str(root / "processed"),
            "HDP_MLFLOW_ARTIFACT_LOCATION": str(root / "artifacts"),
            "AIRFLOW_HOME": str(airflow),
            "AIRFLOW__CORE__DAGS_FOLDER": str(airflow / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow / "logs"),
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DO_NOT_TRACK": "1",
        }
    )
    for name in [n for n in os.environ if n.startswith("HDP_") and n != "HDP_S3_PORT"]:
        if name not in {
            "HDP_STATE_DIR",
            "HDP_RAW_DIR",
            "HDP_PROCESSED_DIR",
            "HDP_MLFLOW_ARTIFACT_LOCATION",
        }:
            os.environ.pop(name)


def _timed(label: str, times: dict[str, float], fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    times[label] = time.perf_counter() - started
    print(f"  {label:<22} {times[label]:8.1f} s", file=sys.stderr, flush=True)
    return out


def _scoring_throughput(settings, spec: dict) -> dict[str, float]:
    import numpy as np

    from capstone.risk_model_pipeline import pipeline, training
    from capstone.risk_model_pipeline.scoring import ScoringSpec, render_sql

    scoring = ScoringSpec.from_dict(spec)
    con = pipeline.open_warehouse(settings)
    try:
        book = con.execute("select * from loanbook_ml.ml_loan_features").df()
        con.execute("create temp table features as select * from loanbook_ml.ml_loan_features")
        sql = render_sql(scoring.compile_sql(), "features")
        started = time.perf_counter()
        con.execute(f"create temp table scored as {sql}")
        sql_seconds = time.perf_counter() - started
        n_sql = con.execute("select count(*) from scored").fetchone()[0]
    finally:
        con.close()
    sample = book.head(20_000)
    records = sample.astype(object).where(sample.notna(), None).to_dict("records")
    started = time.perf_counter()
    scoring.predict_proba(records)
    for record in records:
        scoring.explain(record)
    py_seconds = (time.perf_counter() - started) * len(book) / len(records)
    started = time.perf_counter()
    np.asarray(training.predict_frame(spec, book))
    np_seconds = time.perf_counter() - started
    return {
        "loans": n_sql,
        "sql_seconds": sql_seconds,
        "python_seconds_extrapolated": py_seconds,
        "numpy_seconds": np_seconds,
    }


def _dag_run(settings, logical_date: str, rows: int) -> tuple[float, dict[str, float]]:
    from datetime import UTC, datetime

    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.pool import Pool
    from airflow.utils import db

    from capstone.risk_model_pipeline.pipeline import DAG_ID, WAREHOUSE_POOL
    from Module_2_Pipelines.airflow_local import prepare_dags_folder

    dags = prepare_dags_folder(Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]))
    db.initdb()
    Pool.create_or_update_pool(WAREHOUSE_POOL, slots=1, description="", include_deferred=False)
    bag = DagBag(dag_folder=str(dags))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(DAG_ID)
    when = datetime.fromisoformat(logical_date).replace(tzinfo=UTC)
    started = time.perf_counter()
    run = dag.test(logical_date=when, run_conf={"max_train_rows": rows})
    wall = time.perf_counter() - started
    if run.state != "success":
        raise RuntimeError(f"the DAG run ended {run.state}")
    tasks: dict[str, float] = {}
    for ti in run.get_task_instances():
        group = "dbt (cosmos)" if ti.task_id.startswith("dbt.") else ti.task_id
        tasks[group] = tasks.get(group, 0.0) + (ti.duration or 0.0)
    return wall, tasks


def run(loans: int, skip_dag: bool, keep: Path | None) -> dict:
    root = keep or Path(tempfile.mkdtemp(prefix="risk-bench-"))
    _environment(root)
    from capstone.risk_model_pipeline import pipeline, publish
    from capstone.risk_model_pipeline.dbt_manifest import build_manifest
    from Module_1_Foundations.common.settings import get_settings
    from Module_1_Foundations.datasets.loanbook_generator import (
        FaultRates,
        GeneratorConfig,
        generate,
    )
    from Module_3_Analytics_Eng.dbt_runner import run_dbt
    from Module_3_Analytics_Eng.sample_lake import build_lake

    get_settings.cache_clear()
    settings = get_settings()
    print(f"risk pipeline benchmark: {loans:,} loans in {root}", file=sys.stderr)
    prep: dict[str, float] = {}
    config = GeneratorConfig(loans=loans, seed=42, faults=FaultRates.none())
    lake = LakeLayout.from_settings(settings).processed_root
    if not (lake / "loan_truth").exists():  # a kept folder (--keep) reuses its book
        _timed("generate", prep, generate, config, root / "raw", show_progress=False)
        _timed("csv -> lake", prep, build_lake, root / "raw", lake)
    shutil.rmtree(settings.state_dir, ignore_errors=True)  # a fresh warehouse and registry
    manifest = _timed("dbt parse (manifest)", prep, build_manifest, settings)

    day, stages = "2026-01-05", {}
    work = root / "dbt-direct"
    result = _timed(
        "dbt build (marts)",
        stages,
        run_dbt,
        ["build", "--exclude", "path:models/marts/risk"],
        pipeline.warehouse_env(settings),
        target_path=work / "target",
        log_path=work / "logs",
    )
    if not result.success:
        raise RuntimeError(f"dbt build failed: {pipeline.dbt_failures(result)}")
    trained = _timed("train", stages, pipeline.train, day, settings)
    _timed("evaluate", stages, pipeline.evaluate, day, settings)
    _timed("register", stages, pipeline.register, day, settings, manifest=manifest)
    _timed("score (dbt)", stages, pipeline.score, day, settings)
    _timed("el_mart (dbt)", stages, pipeline.el_mart, day, settings)
    _timed("publish", stages, publish.publish, day, "bench", settings)
    direct = sum(stages.values())

    folder = pipeline.run_dir(day, settings)
    candidates = json.loads((folder / "candidates.json").read_text())
    evaluation = json.loads((folder / "evaluation.json").read_text())
    from capstone.risk_model_pipeline import registry

    champion = registry.current_champion(settings)
    scoring = _scoring_throughput(settings, champion.spec)

    print(json.dumps({"stages": stages, "scoring": scoring}), file=sys.stderr, flush=True)
    dag_wall, dag_tasks = (None, {})
    if not skip_dag:
        print("  DAG run under dag.test() ...", file=sys.stderr, flush=True)
        dag_wall, dag_tasks = _dag_run(settings, "2026-01-06", trained["split"]["train_rows"])
    return {
        "loans": loans,
        "prep_seconds": prep,
        "stage_seconds": stages,
        "direct_seconds": direct,
        "dag_seconds": dag_wall,
        "dag_task_seconds": dag_tasks,
        "orchestration_share": None if dag_wall is None else (dag_wall - direct) / dag_wall,
        "split": trained["split"],
        "train_seconds": {c["name"]: c["train_seconds"] for c in candidates["candidates"]},
        "auc": {n: r["metrics"]["auc"] for n, r in evaluation["candidates"].items()},
        "best_possible_auc": next(iter(evaluation["candidates"].values()))["metrics"].get(
            "best_possible_auc"
        ),
        "champion": champion.spec["candidate"],
        "scoring": scoring,
    }


def report(r: dict) -> str:
    lines = [f"## {r['loans']:,} loans", "", "| stage (direct) | seconds |", "|---|---:|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in r["stage_seconds"].items()]
    lines.append(f"| **total** | **{r['direct_seconds']:.1f}** |")
    if r["dag_seconds"] is not None:
        lines += ["", "| DAG task (dag.test) | seconds |", "|---|---:|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in r["dag_task_seconds"].items()]
        lines.append(f"| **DAG wall** | **{r['dag_seconds']:.1f}** |")
        lines.append(
            f"\norchestration share: {r['orchestration_share']:.0%} "
            f"((DAG wall - direct) / DAG wall; target <= 25 % at 1 M loans)"
        )
    split = r["split"]
    lines += [
        "",
        f"training sample: {split['train_rows']:,} of {split['train_rows_available']:,} "
        f"label-final loans before {split['cutoff']} (sampled: {split['train_sampled']}); "
        f"holdout {split['holdout_rows']:,}",
        "",
        "| model | train s | holdout AUC | AUC / best possible |",
        "|---|---:|---:|---:|",
    ]
    best = r["best_possible_auc"] or float("nan")
    for name, auc in r["auc"].items():
        lines.append(f"| {name} | {r['train_seconds'][name]:.2f} | {auc:.4f} | {auc / best:.3f} |")
    lines.append(f"| best possible (true PD) | | {best:.4f} | 1.000 |")
    s = r["scoring"]
    sql_rate = s["loans"] / s["sql_seconds"]
    py_rate = s["loans"] / s["python_seconds_extrapolated"]
    np_rate = s["loans"] / s["numpy_seconds"]
    lines += [
        "",
        f"scoring {s['loans']:,} loans with the champion ({r['champion']}):",
        "",
        "| engine | seconds | loans/s | SQL speed-up |",
        "|---|---:|---:|---:|",
        f"| DuckDB SQL (PD + 3 reasons) | {s['sql_seconds']:.2f} | {sql_rate:,.0f} | 1.0x |",
        f"| Python records (PD + explain, extrapolated) | {s['python_seconds_extrapolated']:.2f}"
        f" | {py_rate:,.0f} | {sql_rate / py_rate:.1f}x |",
        f"| NumPy vectorised (PD only) | {s['numpy_seconds']:.2f} | {np_rate:,.0f} |"
        f" {sql_rate / np_rate:.1f}x |",
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python capstone/benchmarks/bench_pipeline.py",
        description="Benchmark the credit-risk pipeline (stages, orchestration, scoring, AUC).",
    )
    parser.add_argument("--loans", type=int, default=100_000, help="book size (default 100000)")
    parser.add_argument("--skip-dag", action="store_true", help="skip the dag.test() run")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        result = run(args.loans, args.skip_dag, args.keep)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str))
        print(report(result))
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
