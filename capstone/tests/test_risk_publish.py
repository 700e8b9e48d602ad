"""The serving snapshot's bookkeeping: row reconciliation from the lake's run manifests, and
every dbt test the DAG's builds ran (cosmos tasks and the risk builds)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from capstone.risk_model_pipeline import pipeline, publish
from Module_1_Foundations.common.io import write_json_atomic
from Module_1_Foundations.common.lake import LakeLayout
from Module_1_Foundations.datasets.loanbook_generator import GeneratorConfig, generate
from Module_3_Analytics_Eng.sample_lake import build_lake, write_table

DAY = date(2025, 1, 6)


@pytest.fixture(scope="module")
def faulty_lake(tmp_path_factory: pytest.TempPathFactory) -> LakeLayout:
    """A small book WITH the generator's faults (rejects, duplicates), converted by Module 1,
    plus one daily load of loans with its Module 2 run manifest."""
    root = tmp_path_factory.mktemp("recon")
    generate(GeneratorConfig(loans=400, seed=5), root / "raw" / "loanbook", show_progress=False)
    layout = LakeLayout(root / "raw" / "loanbook", root / "processed" / "loanbook", None, "")
    build_lake(layout.raw_root, layout.processed_root)
    import pyarrow.parquet as pq

    some = pq.read_table(next(layout.snapshot_table("loans").glob("*.parquet"))).slice(0, 7)
    write_table(some, layout.processed_root, "loans", partition=DAY)
    # the day's manifest as Module 2's publish writes it (Module_2_Pipelines/run_manifest.py):
    # 10 rows read, 2 refused by the contract gate, 1 duplicate dropped, 7 written
    counts = {"rows_in": 10, "rows_out": 7, "rows_rejected": 2, "duplicates_removed": 1}
    write_json_atomic(
        layout.daily_manifest(DAY),
        {
            "date": DAY.isoformat(),
            "tables": {
                "loans": {**counts, "reject_reasons": {}, "partition": "dt=2025-01-06", "files": {}}
            },
        },
    )
    return layout


def _marts(lake: LakeLayout) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema loanbook_core")
    for table, mart in publish.RECONCILIATION:
        con.execute(
            f"create table {mart} as select * from "  # nosec B608: test-only names
            f"read_parquet('{lake.processed_root}/{table}/**/*.parquet')"
        )
    return con


def test_reconciliation_counts_come_from_the_run_manifests(faulty_lake: LakeLayout) -> None:
    con = _marts(faulty_lake)
    rows = publish._reconciliation(con, str(faulty_lake.processed_root), faulty_lake).to_pylist()
    assert {r["table_name"] for r in rows} == {"loans", "borrowers", "repayments"}
    for row in rows:
        snapshot = json.loads(
            (faulty_lake.snapshot_table(row["table_name"]) / "_manifest.json").read_text()
        )["counts"]
        daily = (10, 2, 1) if row["table_name"] == "loans" else (0, 0, 0)
        assert row["raw_rows"] == snapshot["rows_in"] + daily[0]
        assert row["rejected_rows"] == snapshot["rows_rejected"] + daily[1]
        assert row["duplicates_removed"] == snapshot["duplicates_removed"] + daily[2]
        # raw = loaded + rejected + duplicates: the lake holds what its manifests say
        assert row["raw_rows"] == (
            row["parquet_rows"] + row["rejected_rows"] + row["duplicates_removed"]
        ), row
    # the faulty book really exercises the identity
    assert sum(r["rejected_rows"] for r in rows) > 2
    assert sum(r["duplicates_removed"] for r in rows) > 1


def test_a_lake_without_manifests_reports_unknown_counts(tmp_path: Path, faulty_lake) -> None:
    bare = LakeLayout(tmp_path / "raw", tmp_path / "processed", None, "")
    for table, _ in publish.RECONCILIATION:
        for path in faulty_lake.snapshot_table(table).glob("*.parquet"):
            import pyarrow.parquet as pq

            write_table(pq.read_table(path), bare.processed_root, table)
    rows = publish._reconciliation(_marts(bare), str(bare.processed_root), bare).to_pylist()
    assert all(r["raw_rows"] is None and r["rejected_rows"] is None for r in rows)
    assert all(r["parquet_rows"] == r["mart_rows"] > 0 for r in rows)


def _dbt_target(folder: Path, results: list[dict], nodes: dict, unit_tests: dict) -> Path:
    (folder / "target").mkdir(parents=True)
    (folder / "target" / "run_results.json").write_text(json.dumps({"results": results}))
    (folder / "target" / "manifest.json").write_text(
        json.dumps({"nodes": nodes, "unit_tests": unit_tests})
    )
    return folder


def test_every_cosmos_build_records_its_tests_for_the_snapshot(tmp_path, risk_book) -> None:
    """cosmos calls ``record_dbt_tests`` after each task's dbt build; publish lists them all."""
    test_id = "test.loanbook.not_null_fct_loans_loan_id.1a2b"
    unit_id = "unit_test.loanbook.fct_loans.counts_payments"
    project = _dbt_target(
        tmp_path / "project",
        [
            {"unique_id": "model.loanbook.fct_loans", "status": "success", "failures": None},
            {"unique_id": test_id, "status": "pass", "failures": 0},
            {"unique_id": unit_id, "status": "pass", "failures": 0},
        ],
        {
            test_id: {
                "name": "not_null_fct_loans_loan_id",
                "attached_node": "model.loanbook.fct_loans",
                "resource_type": "test",
            }
        },
        {unit_id: {"name": "counts_payments", "model": "fct_loans", "resource_type": "unit_test"}},
    )

    class Ti:
        task_id = "dbt.fct_loans_model_build"

    context = {"ti": Ti(), "logical_date": None, "dag_run": None}
    pipeline.record_dbt_tests(str(project), context=context, logical_date="2025-01-06")
    folder = pipeline.run_dir("2025-01-06", risk_book.settings)
    recorded = json.loads((folder / "dbt_tests" / "dbt.fct_loans_model_build.json").read_text())
    assert recorded == [
        {"test": "counts_payments", "model": "fct_loans", "status": "pass", "failures": 0},
        {
            "test": "not_null_fct_loans_loan_id",
            "model": "fct_loans",
            "status": "pass",
            "failures": 0,
        },
    ]
    # the risk builds' tests sit beside them; the snapshot's table holds both
    write_json_atomic(
        folder / "dbt_tests_rsk_loan_scores.json",
        [{"test": "unique_rsk", "model": "rsk_loan_scores", "status": "pass", "failures": 0}],
    )
    names = [t["test"] for t in publish.dbt_tests(folder)]
    assert names == ["counts_payments", "not_null_fct_loans_loan_id", "unique_rsk"]
