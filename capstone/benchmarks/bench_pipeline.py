"""Benchmark the risk-model pipeline: stages, orchestration share, training, scoring, AUC.

For a generated book of ``--loans`` loans (default 100 000), in a throwaway folder:

1. the pipeline's stages called directly (one ``dbt build`` of the data marts, then train,
   evaluate, register, score, el_mart, publish): seconds per stage;
2. the same work as the ``loanbook_risk_model`` DAG under ``dag.test()``, on a new warehouse
   as the direct calls had (cosmos: one ``dbt build`` invocation per model): the orchestration
   share is ``(DAG wall - direct wall) / DAG wall``;
3. training seconds of the scratch models against scikit-learn's on the same sample;
4. scoring throughput: the champion's compiled SQL in DuckDB (``create table as`` and
   ``copy ... to`` Parquet, PD and three reasons) against Python ``predict_proba`` (record by
   record, as the dashboard scores; with and without ``explain``) and vectorised NumPy, on the
   book's feature mart and on a synthetic feature table of ``--scoring-loans`` rows (default
   1 000 000: the issue's target is 1 M loans in <= 2 s and >= 20x Python);
5. holdout AUC of every candidate against the best possible AUC (the generator's true PDs of
   the same fixed-horizon event, on the same holdout loans).

    python capstone/benchmarks/bench_pipeline.py [--loans 100000] [--skip-dag]
    python capstone/benchmarks/bench_pipeline.py --scoring-only [--scoring-loans 1000000]
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


#: A synthetic feature table of the feature mart's columns, for the 1 M-loan scoring
#: measurement (the scoring cost depends on the rows and the spec, not on where they came from).
SYNTHETIC_FEATURES_SQL = """
create or replace temp table features as
with base as (
    select
        i,
        'L' || lpad(cast(i as varchar), 9, '0') as loan_id,
        ['A', 'B', 'C', 'D', 'E', 'F', 'G'][1 + cast(floor(random() * 7) as int)] as grade,
        case when random() < 0.7 then 36 else 60 end as term_months,
        round(1000 + random() * 39000, 2) as loan_amount,
        round(20000 + random() * 130000, 2) as annual_income
    from range(?) as t(i)
)
select
    loan_id,
    loan_amount,
    term_months,
    round(5 + (ascii(grade) - 65) * 3.5 + random() * 2, 2) as interest_rate_pct,
    round(loan_amount / term_months * 1.2, 2) as installment_amount,
    grade,
    ['car', 'debt_consolidation', 'home_improvement', 'medical', 'other'][
        1 + cast(floor(random() * 5) as int)] as purpose,
    annual_income,
    case when random() < 0.1 then null else cast(floor(random() * 11) as bigint) end
        as employment_years,
    round(random() * 45, 2) as debt_to_income_pct,
    cast(12 + floor(random() * 300) as bigint) as credit_history_months,
    cast(floor(random() * 3) as bigint) as delinquencies_2y,
    ['north', 'south', 'east', 'west'][1 + cast(floor(random() * 4) as int)] as region,
    case when random() < 0.05 then null
        else ['rent', 'own', 'mortgage'][1 + cast(floor(random() * 3) as int)] end
        as home_ownership,
    cast(550 + floor(random() * 270) as bigint) as credit_score,
    cast(21 + floor(random() * 50) as bigint) as borrower_age_at_issue,
    round(loan_amount / annual_income, 4) as loan_to_income,
    round(loan_amount / term_months * 1.2 * 12 / annual_income, 4) as installment_to_income
from base
"""


def synthetic_specs(con, sample_rows: int = 10_000) -> dict[str, dict]:
    """A scikit-learn logistic and tree fitted (through the pipeline's own training code) on a
    sample of the synthetic table, with a label that depends on grade, rate and DTI."""
    from datetime import date

    import numpy as np

    from capstone.risk_model_pipeline import training

    sample = con.execute(
        f"select * from features using sample reservoir({sample_rows} rows) repeatable (42)"
    ).df()
    grade = sample["grade"].map(lambda g: ord(g) - 65).to_numpy(float)
    logit = -3.2 + 0.3 * grade + 0.05 * sample["debt_to_income_pct"].to_numpy(float)
    rng = np.random.default_rng(42)
    sample[training.LABEL] = (rng.uniform(size=len(sample)) < 1 / (1 + np.exp(-logit))).astype(int)
    split = training.Split(sample, sample, date.today(), len(sample), True)
    _, candidates = training.train_candidates(split, ("sklearn_logistic", "sklearn_tree"))
    return {c.name: c.spec for c in candidates}


def measure_scoring(con, table: str, spec: dict, python_rows: int = 20_000) -> dict[str, float]:
    """Score every row of ``table`` with ``spec``, side by side:

    * SQL: the compiled scoring ``select`` (PD + the three reasons) materialised in DuckDB
      (``create table ... as``), then the same written out with ``copy ... to`` Parquet;
    * Python: ``ScoringSpec.predict_proba`` (what the dashboard's what-if form calls) on
      ``python_rows`` records, with and without ``explain`` (the reasons), extrapolated;
    * NumPy: the vectorised ``training.predict_frame`` (PD only) over every row.
    """
    import numpy as np

    from capstone.risk_model_pipeline import training
    from capstone.risk_model_pipeline.scoring import ScoringSpec, render_sql

    scoring = ScoringSpec.from_dict(spec)
    sql = render_sql(scoring.compile_sql(), table)
    loans = con.execute(f"select count(*) from {table}").fetchone()[0]  # nosec B608: the bench's own table and compiled SQL
    started = time.perf_counter()
    con.execute(f"create or replace temp table scored as {sql}")  # nosec B608: the bench's own table and compiled SQL
    ctas = time.perf_counter() - started
    out = Path(tempfile.mkdtemp(prefix="risk-scores-")) / "scores.parquet"
    started = time.perf_counter()
    con.execute(f"copy ({sql}) to '{out}' (format parquet)")  # nosec B608: the bench's own table and compiled SQL
    copy = time.perf_counter() - started
    shutil.rmtree(out.parent)
    frame = con.execute(f"select * from {table}").df()  # nosec B608: the bench's own table and compiled SQL
    sample = frame.head(python_rows)
    records = sample.astype(object).where(sample.notna(), None).to_dict("records")
    started = time.perf_counter()
    scoring.predict_proba(records)
    py_pd = (time.perf_counter() - started) * loans / len(records)
    started = time.perf_counter()
    for record in records:
        scoring.explain(record)
    py_explain = (time.perf_counter() - started) * loans / len(records)
    started = time.perf_counter()
    np.asarray(training.predict_frame(spec, frame))
    np_seconds = time.perf_counter() - started
    return {
        "loans": loans,
        "algorithm": spec["algorithm"],
        "duckdb_threads": int(con.execute("select current_setting('threads')").fetchone()[0]),
        "sql_ctas_seconds": ctas,
        "sql_copy_seconds": copy,
        "python_pd_seconds": py_pd,
        "python_pd_reasons_seconds": py_pd + py_explain,
        "python_rows_timed": len(records),
        "numpy_seconds": np_seconds,
    }


def scoring_benchmark(loans: int) -> dict[str, dict[str, float]]:
    """The issue's throughput target on a synthetic feature table of ``loans`` rows."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("select setseed(0.42)")
        started = time.perf_counter()
        con.execute(SYNTHETIC_FEATURES_SQL, [loans])
        print(
            f"  synthetic features     {time.perf_counter() - started:8.1f} s ({loans:,} rows)",
            file=sys.stderr,
            flush=True,
        )
        specs = synthetic_specs(con)
        return {name: measure_scoring(con, "features", spec) for name, spec in specs.items()}
    finally:
        con.close()


def _scoring_throughput(settings, spec: dict) -> dict[str, float]:
    """The champion on the book's own feature mart (copied into a temp table first)."""
    from capstone.risk_model_pipeline import pipeline

    con = pipeline.open_warehouse(settings)
    try:
        con.execute("create temp table features as select * from loanbook_ml.ml_loan_features")
        return measure_scoring(con, "features", spec)
    finally:
        con.close()


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
        # the same work as the direct calls: every mart built from the lake, as on a first run
        # (on the direct run's warehouse the incremental models would find nothing new to do)
        from Module_3_Analytics_Eng.dbt_runner import release_duckdb

        release_duckdb()
        warehouse = Path(settings.duckdb_path)
        for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            path.unlink(missing_ok=True)
        print("  DAG run under dag.test() on a new warehouse ...", file=sys.stderr, flush=True)
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
        f"label: default within {split.get('label_horizon_months')} instalments, known for "
        f"loans issued that many months before {split.get('label_as_of')} (the newest due "
        "date); training sample: "
        f"{split['train_rows']:,} of {split['train_rows_available']:,} loans issued before "
        f"{split['cutoff']} (sampled: {split['train_sampled']}, default rate "
        f"{split['train_default_rate']:.3f}); holdout {split['holdout_rows']:,} issued after "
        f"(default rate {split['holdout_default_rate']:.3f})",
        "",
        "| model | train s | holdout AUC | AUC / best possible |",
        "|---|---:|---:|---:|",
    ]
    best = r["best_possible_auc"] or float("nan")
    for name, auc in r["auc"].items():
        lines.append(f"| {name} | {r['train_seconds'][name]:.2f} | {auc:.4f} | {auc / best:.3f} |")
    lines.append(f"| best possible (true PD) | | {best:.4f} | 1.000 |")
    lines += ["", *scoring_report(f"the champion ({r['champion']}) on the book", r["scoring"])]
    return "\n".join(lines)


def scoring_report(title: str, s: dict[str, float]) -> list[str]:
    """One side-by-side table: SQL in DuckDB against Python and NumPy, speed-up of the SQL."""
    ctas = s["sql_ctas_seconds"]
    rows = [
        ("DuckDB SQL, `create table as` (PD + 3 reasons)", ctas),
        ("DuckDB SQL, `copy ... to` Parquet (PD + 3 reasons)", s["sql_copy_seconds"]),
        (
            f"Python `predict_proba` (PD), extrapolated from {s['python_rows_timed']:,}",
            s["python_pd_seconds"],
        ),
        ("Python `predict_proba` + `explain` (PD + 3 reasons)", s["python_pd_reasons_seconds"]),
        ("NumPy `predict_frame` (PD only)", s["numpy_seconds"]),
    ]
    lines = [
        f"scoring {s['loans']:,} loans, {title} ({s['algorithm']}; DuckDB threads: "
        f"{s['duckdb_threads']}):",
        "",
        "| engine | seconds | loans/s | SQL (create table) speed-up |",
        "|---|---:|---:|---:|",
    ]
    for label, seconds in rows:
        lines.append(
            f"| {label} | {seconds:.2f} | {s['loans'] / seconds:,.0f} | {seconds / ctas:.1f}x |"
        )
    return lines


def report_synthetic(results: dict[str, dict[str, float]]) -> str:
    lines = []
    for name, s in results.items():
        lines += ["", *scoring_report(f"{name} on a synthetic feature table", s)]
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
    parser.add_argument(
        "--scoring-loans",
        type=int,
        default=1_000_000,
        help="rows of the synthetic feature table for the scoring throughput (0: skip)",
    )
    parser.add_argument(
        "--scoring-only",
        action="store_true",
        help="only the scoring throughput on the synthetic table (no book, no pipeline)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        result: dict = {}
        if not args.scoring_only:
            result = run(args.loans, args.skip_dag, args.keep)
            print(report(result))
        if args.scoring_loans > 0:
            result["synthetic_scoring"] = scoring_benchmark(args.scoring_loans)
            print(report_synthetic(result["synthetic_scoring"]))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str))
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
