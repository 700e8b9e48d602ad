"""The DuckDB warehouse: builds, is idempotent, incremental = full refresh, bad data stops it.

Each test builds from a small fault-free book (1 500 loans) in its own temp warehouse file.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from Module_3_Analytics_Eng.sample_lake import (
    append_held_back,
    read_table,
    split_day,
    write_table,
)
from Module_3_Analytics_Eng.tests.conftest import (
    LAST_DAY,
    MARTS,
    NEW_DAY,
    Warehouse,
    assert_ok,
    copy_warehouse,
    failures,
)

pytestmark = pytest.mark.slow


def test_build_covers_the_whole_book(built: Warehouse, base_lake: Path) -> None:
    loans = read_table(base_lake, "loans").num_rows
    repayments = read_table(base_lake, "repayments").num_rows
    assert built.query("select count(*) from loanbook_core.fct_loans") == [(loans,)]
    assert built.query("select count(*) from loanbook_core.fct_repayments") == [(repayments,)]
    assert built.query("select count(*) from loanbook_ml.ml_loan_features") == [(loans,)]
    # the book at the end of the last day = the outstanding balance of the open loans
    [(book, open_loans)] = built.query(
        """
        select
            (select outstanding_principal from loanbook_reporting.rpt_portfolio_risk_daily
             order by date_day desc limit 1),
            (select sum(outstanding_balance) from loanbook_core.fct_loans
             where loan_status in ('current', 'issued'))
        """
    )
    assert book == open_loans
    # the scores table exists (empty) for the capstone to write into
    assert built.query("select count(*) from loanbook_scores.ml_loan_scores") == [(0,)]


def test_unit_tests_and_contracts_ran(built: Warehouse) -> None:
    results = json.loads((built.work / "run1" / "target" / "run_results.json").read_text())
    kinds = {}
    for res in results["results"]:
        kind = res["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        assert res["status"] in ("success", "pass", "no-op"), res["unique_id"]
    assert kinds.get("unit_test", 0) >= 8, kinds
    assert kinds.get("test", 0) >= 80, kinds


def test_build_twice_gives_identical_tables(built: Warehouse, tmp_path: Path) -> None:
    wh = copy_warehouse(built, tmp_path)
    before = wh.snapshot()
    assert_ok(wh.dbt("build"))
    assert wh.snapshot() == before


def test_incremental_run_on_a_new_day_equals_full_refresh(lake_copy: Path, tmp_path: Path) -> None:
    held = tmp_path / "held_back"
    moved = split_day(lake_copy, NEW_DAY, hold_back=held)
    assert moved["loans"] > 0 and moved["repayments"] > 0
    # a late row: an instalment due three days earlier, delivered with the new day
    repayments = read_table(lake_copy, "repayments")
    late_day = pa.scalar(NEW_DAY - timedelta(days=3), pa.date32())
    is_late = pc.equal(repayments["due_date"], late_day)
    assert pc.sum(is_late.cast(pa.int64())).as_py() > 0
    shutil.rmtree(lake_copy / "repayments")
    write_table(repayments.filter(pc.invert(is_late)), lake_copy, "repayments")
    # duplicates: 50 old instalments delivered again with the new day
    duplicates = repayments.filter(pc.invert(is_late)).slice(0, 50)
    new_day = read_table(held, "repayments")
    shutil.rmtree(held / "repayments")
    write_table(
        pa.concat_tables([new_day, repayments.filter(is_late), duplicates]),
        held,
        "repayments",
        partition=NEW_DAY,
    )

    # a late master row: a borrower with loans (inferred until then) arrives with the new day
    borrowers = read_table(lake_copy, "borrowers")
    late_borrower = read_table(lake_copy, "loans")["borrower_id"][0]
    is_late_borrower = pc.equal(borrowers["borrower_id"], late_borrower)
    shutil.rmtree(lake_copy / "borrowers")
    write_table(borrowers.filter(pc.invert(is_late_borrower)), lake_copy, "borrowers")
    new_borrowers = read_table(held, "borrowers")
    shutil.rmtree(held / "borrowers")
    write_table(
        pa.concat_tables([new_borrowers, borrowers.filter(is_late_borrower)]),
        held,
        "borrowers",
        partition=NEW_DAY,
    )

    incremental = Warehouse(tmp_path / "incremental.duckdb", lake_copy, tmp_path / "inc")
    assert_ok(incremental.dbt("build"))
    inferred = "select is_inferred from loanbook_core.dim_borrowers where borrower_id = ?"
    assert incremental.query(inferred, [late_borrower.as_py()]) == [(True,)]
    append_held_back(held, lake_copy)
    assert_ok(incremental.dbt("build"))

    full = Warehouse(tmp_path / "full.duckdb", lake_copy, tmp_path / "full")
    assert_ok(full.dbt("build", "--full-refresh"))
    got, want = incremental.snapshot(), full.snapshot()
    for relation in MARTS:
        assert got[relation] == want[relation], relation
    # nothing counted twice: one row per instalment, the late one included
    total = read_table(lake_copy, "repayments").num_rows - len(duplicates)
    assert incremental.query("select count(*) from loanbook_core.fct_repayments") == [(total,)]
    assert incremental.query(inferred, [late_borrower.as_py()]) == [(False,)]


def test_contract_breaking_row_fails_and_marts_stay(built: Warehouse, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(built.lake_root, lake)
    wh = copy_warehouse(built, tmp_path, lake)
    before = wh.snapshot()
    loans = read_table(lake, "loans")
    bad = loans.slice(0, 1)
    bad = bad.set_column(bad.schema.get_field_index("loan_id"), "loan_id", pa.array(["L99999999"]))
    bad = bad.set_column(
        bad.schema.get_field_index("loan_amount"), "loan_amount", pa.array([-500.0])
    )
    bad = bad.set_column(
        bad.schema.get_field_index("issue_date"), "issue_date", pa.array([LAST_DAY], pa.date32())
    )
    write_table(bad, lake, "loans", partition=LAST_DAY + timedelta(days=1))

    # dbt build: the staging test names the model and the column; the marts are skipped
    result = wh.dbt("build")
    assert not result.success
    failed = failures(result)
    assert any(
        "stg_loanbook__loans" in name and "loan_amount" in name for name, _s, _m in failed
    ), failed
    assert wh.snapshot() == before

    # even without the tests (dbt run of fct_loans and what it reads: the row reaches the
    # loan master), the enforced contract refuses the row and the incremental merge rolls
    # back: DuckDB names the table and the constraint's column
    result = wh.dbt("run", "--select", "+fct_loans")
    assert not result.success
    [(name, _status, message)] = failures(result)
    assert name == "fct_loans"
    assert "CHECK constraint failed" in message and "loan_amount" in message, message
    assert wh.snapshot() == before


def test_source_freshness_reads_the_newest_event(built: Warehouse, tmp_path: Path) -> None:
    wh = copy_warehouse(built, tmp_path)
    result = wh.dbt("source", "freshness")
    assert result.exception is None, result.exception
    by_source = {r.node.name: r for r in result.result.results if r.node.resource_type == "source"}
    assert set(by_source) == {"borrowers", "loans", "repayments", "ml_loan_scores"}
    # the synthetic book ends on LAST_DAY: a day that old is "stale" (error) by design
    repayments = by_source["repayments"]
    assert repayments.max_loaded_at.date() == NEW_DAY
    assert str(repayments.status) == "error"
    assert by_source["loans"].max_loaded_at.date() == LAST_DAY


def test_the_scores_table_ddl_follows_its_one_definition():
    import duckdb

    from Module_3_Analytics_Eng.warehouse import ml_scores_columns, ml_scores_ddl

    columns = ml_scores_columns()
    assert columns[:2] == [("loan_id", "string"), ("model_name", "string")]
    con = duckdb.connect()
    con.execute("create schema s")
    con.execute(ml_scores_ddl("s.ml_loan_scores"))
    con.execute(ml_scores_ddl("s.ml_loan_scores"))  # idempotent: the table already exists
    described = con.execute("describe s.ml_loan_scores").fetchall()
    assert [row[0] for row in described] == [name for name, _ in columns]
    kinds = dict(zip([row[0] for row in described], [row[1] for row in described], strict=True))
    assert kinds["predicted_pd"] == "DOUBLE" and kinds["as_of_date"] == "DATE"
