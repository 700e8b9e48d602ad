"""The snapshot and the daily partitions are ONE lake: dbt counts each loan and repayment once.

A full-book export is converted into the snapshot (Module 1's public API), one day runs through
the ETL into the same table folders, and dbt builds the staging models and their tests over both
trees in a temporary warehouse, as Module 3's own tests do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow.dataset as ds

from Module_1_Foundations.common.lake import PIPELINE_TABLES
from Module_2_Pipelines import etl

DAY = date(2024, 1, 5)  # inside the live book's export: its events of the day are in the snapshot
KEYS = {
    "borrowers": ["borrower_id"],
    "loans": ["loan_id"],
    "repayments": ["loan_id", "installment_number"],
    "loan_truth": ["loan_id"],
}


def _keys(folder: Path, table: str) -> set[tuple]:
    """Every distinct key in the Parquet files under ``folder`` (the files dbt reads)."""
    files = sorted(str(p) for p in folder.rglob("*.parquet"))
    data = ds.dataset(files, format="parquet").to_table(columns=KEYS[table])
    return set(zip(*(data.column(c).to_pylist() for c in KEYS[table]), strict=True))


def test_dbt_reads_the_snapshot_and_a_daily_partition_as_one_lake_without_double_counting(
    lake, tmp_path
):
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import convert_loanbook
    from Module_3_Analytics_Eng import dbt_runner

    layout = lake.layout
    convert_loanbook(layout.raw_root, layout.processed_root)
    snapshot = {t: _keys(layout.snapshot_table(t), t) for t in PIPELINE_TABLES}
    etl.extract(DAY, loans=150, settings=lake.settings)
    etl.validate(DAY, settings=lake.settings)
    etl.transform(DAY, settings=lake.settings)
    daily = {t: _keys(layout.daily_table(t, DAY), t) for t in PIPELINE_TABLES}

    # the drop repeats instalments the snapshot already holds, and adds only new loans
    assert len(daily["repayments"] & snapshot["repayments"]) > 0
    assert daily["loans"].isdisjoint(snapshot["loans"])
    assert daily["loans"] <= daily["loan_truth"]  # each new loan arrives with its ground truth

    warehouse = tmp_path / "warehouse.duckdb"
    env = dbt_runner.dbt_env(duckdb_path=warehouse, root=layout.processed_root, target="dev")
    result = dbt_runner.run_dbt(
        ["build", "--select", "staging", "--exclude", "test_type:singular"],
        env,
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    assert result.success, result.exception

    with duckdb.connect(str(warehouse), read_only=True) as con:

        def count(sql: str) -> int:
            return con.execute(sql).fetchone()[0]

        stg = "loanbook_staging.stg_loanbook__"
        for table in PIPELINE_TABLES:
            assert count(f"select count(*) from {stg}{table}") == len(
                snapshot[table] | daily[table]
            ), table
        assert count(
            f"select count(*) from {stg}loans where source_loaded_date = date '{DAY}'"
        ) == len(daily["loans"])
        # a repeated instalment is counted once, from its newest load (the day's partition)
        assert count(
            f"select count(*) from {stg}repayments where source_loaded_date = date '{DAY}'"
        ) == len(daily["repayments"])
        assert (
            count(
                f"select count(*) from (select loan_id, installment_number from {stg}repayments "
                "group by all having count(*) > 1)"
            )
            == 0
        )
