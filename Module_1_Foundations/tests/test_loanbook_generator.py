"""The loan-book generator: realistic, deterministic, honest about the faults it injects."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from Module_1_Foundations.datasets import loanbook_generator as gen
from Module_1_Foundations.datasets.loanbook_schema import LOANS, REPAYMENTS, TABLES

from .conftest import run_module

SMALL_CHUNK = 1_500  # several chunks in a small book, so chunk boundaries are exercised


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen, "CHUNK_LOANS", SMALL_CHUNK)


def _generate(out: Path, **kwargs) -> dict:
    config = gen.GeneratorConfig(**{"loans": 4_000, "seed": 7, **kwargs})
    return gen.generate(config, out, show_progress=False)


@pytest.fixture(scope="module")
def clean_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gen, "CHUNK_LOANS", SMALL_CHUNK)
        _generate(out, faults=gen.FaultRates.none())
    return out


def _read(book: Path, table: str) -> pd.DataFrame:
    frame = pd.read_csv(book / f"{table}.csv", keep_default_na=True)
    frame.columns = [c.lower().replace(" ", "_") for c in frame.columns]
    return frame


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path, small_chunks):
    first = _generate(tmp_path / "a")
    second = _generate(tmp_path / "b")
    other = _generate(tmp_path / "c", seed=8)
    for table in TABLES:
        a = (tmp_path / "a" / f"{table}.csv").read_bytes()
        assert a == (tmp_path / "b" / f"{table}.csv").read_bytes(), table
        assert a != (tmp_path / "c" / f"{table}.csv").read_bytes(), table
        assert first["files"][table]["sha256"] == second["files"][table]["sha256"]
    assert other["files"]["loans"]["sha256"] != first["files"]["loans"]["sha256"]


def test_clean_book_honours_the_contract(clean_book):
    for name in ("borrowers", "loans", "repayments"):
        spec = TABLES[name]
        frame = _read(clean_book, name)
        assert list(frame.columns) == spec.column_names
        assert not frame.duplicated(list(spec.key)).any(), f"{name}: duplicate key"
        for col in spec.columns:
            values = frame[col.name]
            if not col.nullable:
                assert values.notna().all(), f"{name}.{col.name} has nulls"
            present = values.dropna()
            if col.type == "date":
                pd.to_datetime(present, format="%Y-%m-%d")  # raises on any other format
            if col.min is not None:
                assert (present >= col.min).all(), f"{name}.{col.name} below {col.min}"
            if col.max is not None:
                assert (present <= col.max).all(), f"{name}.{col.name} above {col.max}"
            if col.allowed is not None:
                assert set(present) <= set(col.allowed), f"{name}.{col.name} outside allowed"


def test_every_loan_belongs_to_a_borrower_and_every_borrower_has_a_loan(clean_book):
    loans, borrowers = _read(clean_book, "loans"), _read(clean_book, "borrowers")
    assert set(loans.borrower_id) == set(borrowers.borrower_id)
    assert len(loans) == 4_000
    assert loans.application_date.is_monotonic_increasing  # an export in arrival order
    assert (pd.to_datetime(loans.issue_date) >= pd.to_datetime(loans.application_date)).all()


def test_repayments_reconcile_with_loan_amounts(clean_book):
    loans = _read(clean_book, "loans").set_index("loan_id")
    pays = _read(clean_book, "repayments").sort_values(["loan_id", "installment_number"])
    per_loan = pays.groupby("loan_id").agg(
        principal=("principal_paid", "sum"),
        last_balance=("balance_after", "last"),
        rows=("status", "size"),
    )
    amount = loans.loc[per_loan.index, "loan_amount"]
    gap = (per_loan.principal + per_loan.last_balance - amount).abs()
    # a defaulted loan's last row keeps the balance written off; every loan adds up to the cent
    assert (gap < 0.005 * per_loan.rows).all(), gap.max()
    assert (pays.amount_due.round(2) == (pays.principal_paid + pays.interest_paid).round(2))[
        pays.status.isin(["paid", "late"])
    ].all()
    defaults = pays[pays.status == "default"]
    assert defaults.payment_date.isna().all() and (defaults.amount_paid == 0).all()
    assert (
        not pays.groupby("loan_id")
        .status.apply(lambda s: (s == "default").any() and s.iloc[-1] != "default")
        .any()
    ), "a defaulted loan must stop paying"
    as_of = pd.Timestamp(gen.GeneratorConfig().as_of)
    assert (pd.to_datetime(pays.due_date) <= as_of).all()


def test_truth_is_calibrated_and_matches_the_observed_defaults(clean_book):
    truth = _read(clean_book, "loan_truth")
    pays = _read(clean_book, "repayments")
    assert abs(truth.will_default.mean() - truth.true_pd.mean()) < 0.02
    assert 0.08 < truth.true_pd.mean() < 0.22  # a consumer book, not a casino
    observed = set(pays.loc[pays.status == "default", "loan_id"])
    assert observed == set(truth.loc[truth.observed_default == 1, "loan_id"])
    assert (truth.true_pd_by_as_of <= truth.true_pd + 1e-9).all()


def test_the_manifest_counts_every_line_and_every_injected_fault(tmp_path, small_chunks):
    manifest = _generate(tmp_path, loans=6_000)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk["files"] == manifest["files"]
    for name in ("borrowers", "loans", "repayments"):
        with open(tmp_path / f"{name}.csv", newline="") as handle:
            lines = handle.read().splitlines()
        entry = manifest["files"][name]
        assert len(lines) - 1 == entry["data_lines"]
        assert entry["unique_rows"] == entry["data_lines"] - manifest["faults"][name]["duplicate"]
        width = len(TABLES[name].columns)
        ragged = sum(1 for row in csv.reader(lines[1:]) if len(row) != width)
        junk = sum(1 for line in lines if line.startswith("###"))
        assert ragged == manifest["faults"][name]["malformed"], name
        assert junk > 0 or name == "borrowers"
        counted = manifest["faults"][name]
        assert set(counted) == {
            "missing",
            "duplicate",
            "case_whitespace",
            "date_format",
            "out_of_range",
            "malformed",
        }
        assert all(v > 0 for v in counted.values()), (name, counted)
    # exact duplicates are exact: the whole line repeats
    with open(tmp_path / "loans.csv") as handle:
        loan_lines = [ln for ln in handle.read().splitlines()[1:] if not ln.startswith("###")]
    assert len(loan_lines) - len(set(loan_lines)) == manifest["faults"]["loans"]["duplicate"]


def test_fault_kinds_look_like_real_export_problems(tmp_path, small_chunks):
    rates = gen.FaultRates(
        missing=0.2,
        duplicate=0,
        case_whitespace=0.2,
        date_format=0.3,
        out_of_range=0.05,
        malformed=0,
    )
    _generate(tmp_path, faults=rates)
    loans = pd.read_csv(tmp_path / "loans.csv", dtype=str, keep_default_na=False)
    assert set(loans["Purpose"]) & {"NA", "N/A", "null", "?", "-", ""}
    assert any(v != v.strip() or v.isupper() for v in loans["Purpose"] if v and "_" in v)
    issue = loans["Issue Date"]
    assert issue.str.fullmatch(r"\d{4}-\d\d-\d\d").mean() < 0.85
    assert issue.str.fullmatch(r"\d{4}/\d\d/\d\d").any() and issue.str.fullmatch(r"\d{8}").any()
    amount = pd.to_numeric(loans["Loan Amount"], errors="coerce")
    assert (
        amount.isna().any()
        and (amount < 0).any()
        and (amount > LOANS.column("loan_amount").max).any()
    )


def test_default_book_at_the_cli_runs_and_reports(tmp_path):
    done = run_module(
        "Module_1_Foundations.datasets.loanbook_generator",
        "--loans",
        "1500",
        "--quiet",
        "--out-dir",
        str(tmp_path),
        "--start-date",
        "2024-01-01",
        "--end-date",
        "2024-03-31",
    )
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and "run=" in done.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["start_date"] == "2024-01-01"
    loans = _read(tmp_path, "loans")
    dates = pd.to_datetime(loans.issue_date, errors="coerce", format="%Y-%m-%d").dropna()
    assert dates.min() >= pd.Timestamp("2024-01-01") and dates.max() <= pd.Timestamp("2024-03-31")
    assert not list(tmp_path.glob(".*tmp")), "no temporary file left behind"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--loans", "0"], "--loans=0 is out of range: give a number from 1 to 10,000,000"),
        (["--loans", "10000001"], "--loans=10000001 is out of range"),
        (["--loans", "many"], "argument --loans: invalid int value: 'many'"),
        (
            ["--missing-rate", "0.9"],
            "--missing-rate=0.9 is out of range: give a rate between 0 and 0.5",
        ),
        (["--seed", "-1"], "--seed=-1 is out of range"),
        (["--start-date", "2024-02-30"], "'2024-02-30' is not a date: use YYYY-MM-DD"),
        (["--start-date", "2024-06-01", "--end-date", "2024-01-01"], "is before --start-date"),
        (["--as-of", "2020-01-01"], "--as-of=2020-01-01 is before --end-date"),
        (["--id-prefix", "a/b"], "--id-prefix='a/b' may hold only"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, args, message):
    done = run_module(
        "Module_1_Foundations.datasets.loanbook_generator", *args, "--out-dir", str(tmp_path)
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert not any(tmp_path.iterdir()), "nothing written on bad input"


def test_id_prefix_keeps_separate_drops_apart(tmp_path):
    config = gen.GeneratorConfig(
        loans=50, id_prefix="20240105-", start_date=date(2024, 1, 5), end_date=date(2024, 1, 5)
    )
    gen.generate(config, tmp_path, show_progress=False)
    loans = _read(tmp_path, "loans")
    assert loans.loan_id.str.startswith("L20240105-").all()
    assert loans.borrower_id.str.startswith("B20240105-").all()


def test_repayment_schedule_follows_the_annuity_formula(clean_book):
    loans = _read(clean_book, "loans").set_index("loan_id")
    pays = _read(clean_book, "repayments")
    first = pays[pays.installment_number == 1].set_index("loan_id")
    paid = first[first.status.isin(["paid", "late"])]
    rate = loans.loc[paid.index, "interest_rate"] / 1200
    expected_interest = (loans.loc[paid.index, "loan_amount"] * rate).round(2)
    assert ((paid.interest_paid - expected_interest).abs() <= 0.011).all()
    assert set(REPAYMENTS.column("status").allowed) >= set(pays.status)


# --- daily drops: the live book's repayment events of the day ------------------------------


def test_the_repayments_due_on_a_day_are_the_books_own_rows_of_that_day(clean_book, small_chunks):
    book = gen.GeneratorConfig(loans=4_000, seed=7, faults=gen.FaultRates.none())
    day = date(2024, 3, 15)

    due = gen.repayments_due(book, day).to_pandas()
    exported = _read(clean_book, "repayments")
    expected = exported[exported.due_date == day.isoformat()]

    assert len(due) == len(expected) > 0
    assert sorted(zip(due.loan_id, due.installment_number, strict=True)) == sorted(
        zip(expected.loan_id, expected.installment_number, strict=True)
    )
    assert gen.repayments_due(book, day).equals(gen.repayments_due(book, day))  # per day


def test_after_the_export_date_the_book_is_carried_forward_to_the_day(small_chunks):
    book = gen.GeneratorConfig(loans=2_000, seed=7, end_date=date(2024, 12, 31))
    later = date(2026, 1, 15)  # after the default as-of date, 2025-12-31

    due = gen.repayments_due(book, later).to_pandas()

    assert len(due) > 0 and set(due.due_date) == {later}
    assert (due.payment_date.dropna() <= later).all()


def test_a_daily_drop_carries_the_live_books_events_beside_its_new_loans(tmp_path):
    day = date(2024, 3, 15)
    book = gen.GeneratorConfig(loans=3_000, seed=7)
    drop = gen.GeneratorConfig(
        loans=40, seed=20240315, start_date=day, end_date=day, as_of=day, id_prefix="20240315-"
    )

    manifest = gen.generate(
        drop,
        tmp_path,
        show_progress=False,
        live_book=book,
    )
    events = _read(tmp_path, "repayments")

    due = gen.repayments_due(book, day)
    assert manifest["files"]["repayments"]["unique_rows"] == due.num_rows > 0
    assert gen.config_from_manifest({"config": manifest["live_book"]}) == book
    assert not events.loan_id.astype(str).str.startswith("L20240315-").any()
    assert _read(tmp_path, "loans").loan_id.str.startswith("L20240315-").all()


def test_an_exports_config_reads_back_from_its_manifest(tmp_path):
    config = gen.GeneratorConfig(loans=30, seed=3, as_of=date(2026, 1, 1), id_prefix="x-")
    manifest = gen.generate(config, tmp_path, show_progress=False)
    assert gen.config_from_manifest(manifest) == config
    assert gen.config_from_manifest(json.loads((tmp_path / "manifest.json").read_text())) == config
