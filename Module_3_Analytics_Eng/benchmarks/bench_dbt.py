"""Benchmark Module 3's dbt project on a large loan book (``make bench``).

On a 1 000 000-loan book (with its ~25 M instalments), measured in one run:

1. dbt's fixed start-up cost: a full parse (``dbt parse --no-partial-parse``) and an empty
   ``dbt run`` (partial parse + connection + run hooks, no model);
2. the full ``dbt build`` (models + every test) on the book minus its last daily load;
3. the incremental ``dbt run`` after that last load lands as a load-date partition;
4. the same transformations as plain SQL: the SQL dbt compiled for each model, executed in
   dependency order straight in DuckDB (``create table/view as``), no dbt, no tests;
5. 2 and 3 again on a second book that ends on an ordinary mid-month day: the main book's
   last load is the 28th, the heaviest day of a month (see LAST_LOAD).

Targets (issue 5): incremental model time < 10 % of the full build's model time (both from
run_results.json); full build wall time within 2x of the plain SQL.

    python Module_3_Analytics_Eng/benchmarks/bench_dbt.py            # 1 000 000 loans
    python Module_3_Analytics_Eng/benchmarks/bench_dbt.py --quick    # 20 000 loans, seconds

The book is generated once into ``--work-dir`` (default /tmp/hdp_bench_m3) and reused.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.lake import LakeLayout
from Module_1_Foundations.common.settings import load_settings
from Module_1_Foundations.datasets.loanbook_generator import FaultRates, GeneratorConfig, generate
from Module_3_Analytics_Eng import dbt_runner
from Module_3_Analytics_Eng.sample_lake import append_held_back, build_lake, split_day
from Module_3_Analytics_Eng.warehouse import connect_warehouse, ml_scores_ddl

#: The main book's last issue date and export date.
BOOK_END = date(2025, 6, 30)
#: The book's last daily load: every row dated from it on (instalments due that day, loans
#: issued from it on). Due days stop at the 28th (a loan issued on the 29th-31st falls due on
#: the 28th), so the 28th is the heaviest day of a month: four days of issue dates fall due.
LAST_LOAD = date(2025, 6, 28)
#: A second book ends on an ordinary mid-month day, so its last load is one day's instalments
#: and one day's new loans (measured after the main book: one full build + one incremental).
ORDINARY_DAY = date(2025, 6, 16)


def book_config(loans: int, end: date = BOOK_END) -> GeneratorConfig:
    return GeneratorConfig(
        loans=loans,
        seed=42,
        start_date=date(2021, 1, 1),
        end_date=end,
        as_of=end,
        faults=FaultRates.none(),
    )


def layout_under(folder: Path) -> LakeLayout:
    """The lake layout with its raw and processed data folders under ``folder``."""
    return LakeLayout.from_settings(
        load_settings(raw_dir=folder / "raw", processed_dir=folder / "processed")
    )


def prepare_lake(
    work: Path, loans: int, last_load: date = LAST_LOAD, end: date = BOOK_END
) -> tuple[Path, Path, float]:
    """Generate + convert once (cached in work); return a fresh copy split at last_load."""
    suffix = "" if end == BOOK_END else f"_to_{end.isoformat()}"
    book = layout_under(work / f"book_{loans}{suffix}")
    ready = book.processed_root / "_ready"
    started = time.perf_counter()
    if not book.raw_csv("loans").exists():
        print(f"generating {loans:,} loans into {book.raw_root} ...", file=sys.stderr, flush=True)
        generate(book_config(loans, end), book.raw_root, show_progress=False)
    if not ready.exists():
        print(f"converting to Parquet in {book.processed_root} ...", file=sys.stderr, flush=True)
        shutil.rmtree(book.processed_root, ignore_errors=True)
        build_lake(book.raw_root, book.processed_root)
        ready.touch()
    prepare_seconds = time.perf_counter() - started
    shutil.rmtree(work / "run", ignore_errors=True)
    lake = layout_under(work / "run").processed_root
    held = work / "run" / "held_back"
    shutil.copytree(book.processed_root, lake, ignore=shutil.ignore_patterns("_ready"))
    split_day(lake, last_load, hold_back=held)
    return lake, held, prepare_seconds


def ordinary_day(work: Path, loans: int) -> dict[str, Any]:
    """Full build, then the incremental run, on the book that ends on ORDINARY_DAY."""
    lake, held, _seconds = prepare_lake(work, loans, ORDINARY_DAY, ORDINARY_DAY)
    runs = work / "run"
    env = dbt_runner.dbt_env(duckdb_path=runs / "dbt.duckdb", root=lake, target="dev")
    full_wall, _r, full = timed_dbt(["build"], env, runs / "full")
    append_held_back(held, lake)
    inc_wall, _r, inc = timed_dbt(["run"], env, runs / "incremental")
    return {
        "full_build_wall_s": round(full_wall, 2),
        "full_model_s": round(model_seconds(full), 2),
        "incremental_wall_s": round(inc_wall, 2),
        "incremental_model_s": round(model_seconds(inc), 2),
        "per_model_incremental_s": per_model(inc),
    }


def timed_dbt(args: list[str], env: dict[str, str], run_dir: Path) -> tuple[float, Any, dict]:
    started = time.perf_counter()
    result = dbt_runner.run_dbt(args, env, target_path=run_dir / "target", log_path=run_dir)
    wall = time.perf_counter() - started
    if not result.success:
        raise SystemExit(
            f"dbt {' '.join(args)} failed: {result.exception or 'see ' + str(run_dir)}"
        )
    results_file = run_dir / "target" / "run_results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {"results": []}
    return wall, result, results


def per_model(results: dict) -> dict[str, float]:
    return {
        r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }


def model_seconds(results: dict) -> float:
    return sum(
        r["execution_time"] for r in results["results"] if r["unique_id"].startswith("model.")
    )


def test_seconds(results: dict) -> float:
    return sum(
        r["execution_time"]
        for r in results["results"]
        if r["unique_id"].startswith(("test.", "unit_test."))
    )


def plain_sql(manifest_path: Path, env: dict[str, str], db_path: Path) -> float:
    """Run the SQL dbt compiled for every model, in dependency order, straight in DuckDB.

    ``db_path`` is a second warehouse, opened like dbt's (``env``: httpfs, the S3 secret).
    """
    manifest = json.loads(manifest_path.read_text())
    models = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    order = TopologicalSorter(
        {k: [d for d in n["depends_on"]["nodes"] if d in models] for k, n in models.items()}
    ).static_order()
    con = connect_warehouse({**env, "HDP_DUCKDB_PATH": str(db_path)}, read_only=False)
    try:
        started = time.perf_counter()
        schemas = {n["schema"] for n in models.values()}
        scores = [s for s in schemas if s.endswith("_ml")]
        for schema in [*schemas, "loanbook_scores"]:
            con.execute(f'create schema if not exists "{schema}"')
        if scores:
            con.execute(ml_scores_ddl("loanbook_scores.ml_loan_scores"))
        for key in order:
            node = models[key]
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            relation = f'"{node["schema"]}"."{node["alias"]}"'
            sql = node["compiled_code"].replace(f'"{node["database"]}".', "")
            con.execute(f"create or replace {kind} {relation} as {sql}")
        return time.perf_counter() - started
    finally:
        con.close()


def count(env: dict[str, str], db_path: Path, relation: str) -> int:
    with connect_warehouse({**env, "HDP_DUCKDB_PATH": str(db_path)}) as con:
        return con.execute(f"select count(*) from {relation}").fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000, help="loans in the book")
    parser.add_argument("--quick", action="store_true", help="a 20 000-loan book (seconds)")
    parser.add_argument(
        "--work-dir", type=Path, default=Path("/tmp/hdp_bench_m3"), help="cache and warehouses"
    )
    args = parser.parse_args(argv)
    loans = 20_000 if args.quick else args.loans
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)

    lake, held, prepare_seconds = prepare_lake(work, loans)
    runs = work / "run"
    db = runs / "dbt.duckdb"
    env = dbt_runner.dbt_env(duckdb_path=db, root=lake, target="dev")

    parse_wall, _r, _ = timed_dbt(["parse", "--no-partial-parse"], env, runs / "parse")
    timed_dbt(["run", "--select", "tag:nothing-has-this-tag"], env, runs / "warm")
    empty_wall, _r, _ = timed_dbt(
        ["run", "--select", "tag:nothing-has-this-tag"], env, runs / "empty"
    )

    full_wall, _r, full = timed_dbt(["build"], env, runs / "full")
    full_models, full_tests = model_seconds(full), test_seconds(full)
    append_held_back(held, lake)
    inc_wall, _r, inc = timed_dbt(["run"], env, runs / "incremental")
    inc_models = model_seconds(inc)

    # the same models rebuilt from scratch by dbt, without the tests (--full-refresh)
    run_wall, _r, rerun = timed_dbt(["run", "--full-refresh"], env, runs / "full_refresh_run")
    run_models = model_seconds(rerun)

    plain_db = runs / "plain.duckdb"
    plain_wall = plain_sql(runs / "full" / "target" / "manifest.json", env, plain_db)
    repayments = count(env, db, "loanbook_core.fct_repayments")
    assert count(env, plain_db, "loanbook_core.fct_loans") <= count(
        env, db, "loanbook_core.fct_loans"
    )

    ordinary = ordinary_day(work, loans)
    ordinary_ratio = ordinary["incremental_model_s"] / ordinary["full_model_s"]

    rows = [
        ("loan book", f"{loans:,} loans, {repayments:,} instalments"),
        ("generate + convert (cached after the first run)", f"{prepare_seconds:8.1f} s"),
        ("dbt start-up: full parse (--no-partial-parse)", f"{parse_wall:8.1f} s"),
        ("dbt start-up: empty run (partial parse + connect + hooks)", f"{empty_wall:8.1f} s"),
        ("full dbt build, wall (models + tests)", f"{full_wall:8.1f} s"),
        ("  of which model execution (run_results)", f"{full_models:8.1f} s"),
        ("  of which tests incl. unit tests (run_results)", f"{full_tests:8.1f} s"),
        ("incremental dbt run on one new day, wall", f"{inc_wall:8.1f} s"),
        ("  of which model execution (run_results)", f"{inc_models:8.1f} s"),
        ("plain SQL in DuckDB (same compiled SQL, no dbt, no tests)", f"{plain_wall:8.1f} s"),
        (
            f"incremental / full model time, {LAST_LOAD:%d %b} (target < 10 %)",
            f"{100 * inc_models / full_models:8.1f} %",
        ),
        (
            f"same, the book ending on an ordinary day ({ORDINARY_DAY:%d %b}): full build",
            f"{ordinary['full_model_s']:8.1f} s",
        ),
        (
            "  incremental run on its last day, model execution",
            f"{ordinary['incremental_model_s']:8.1f} s",
        ),
        ("  incremental / full model time (target < 10 %)", f"{100 * ordinary_ratio:8.1f} %"),
        ("full build wall / plain SQL (target <= 2x)", f"{full_wall / plain_wall:8.2f} x"),
        ("full dbt run --full-refresh, wall (models only)", f"{run_wall:8.1f} s"),
        ("  of which model execution (run_results)", f"{run_models:8.1f} s"),
        ("dbt run --full-refresh wall / plain SQL", f"{run_wall / plain_wall:8.2f} x"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"Module 3 dbt benchmark ({'quick' if args.quick else 'full'})")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    summary = {
        "loans": loans,
        "instalments": repayments,
        "parse_s": round(parse_wall, 2),
        "empty_run_s": round(empty_wall, 2),
        "full_build_wall_s": round(full_wall, 2),
        "full_model_s": round(full_models, 2),
        "full_test_s": round(full_tests, 2),
        "incremental_wall_s": round(inc_wall, 2),
        "incremental_model_s": round(inc_models, 2),
        "full_refresh_run_wall_s": round(run_wall, 2),
        "full_refresh_model_s": round(run_models, 2),
        "plain_sql_s": round(plain_wall, 2),
        "per_model_full_s": per_model(full),
        "per_model_incremental_s": per_model(inc),
        "ordinary_day": ordinary,
    }
    (work / f"bench_{loans}.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
