"""The dashboard's query layer: every figure reconciles with the snapshot's own tables."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from capstone import serving_snapshot
from capstone.dashboard_project import queries, sample_snapshot
from capstone.risk_model_pipeline.scoring import ScoringSpec
from capstone.tests.dashboard_snapshot import (
    champion_document,
    copy_serving_dir,
    set_schema_version,
    shared_serving_dir,
    table,
)
from Module_1_Foundations.common.settings import load_settings


@pytest.fixture(scope="module")
def serving() -> Path:
    return shared_serving_dir()


@pytest.fixture(scope="module")
def snap(serving: Path) -> serving_snapshot.Snapshot:
    return serving_snapshot.open_current(load_settings(serving_dir=serving))


def test_the_query_layer_does_not_import_streamlit():
    code = (
        "import sys, capstone.dashboard_project.queries\n"
        "assert 'streamlit' not in sys.modules, 'queries imports streamlit'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_portfolio_kpis_reconcile_with_the_loans_table(serving, snap):
    loans = table(serving, "loans")
    live = loans[loans["is_live"]]
    kpis = queries.portfolio_kpis(snap)
    assert kpis["loans"] == len(loans)
    assert kpis["live_loans"] == len(live)
    assert kpis["exposure"] == pytest.approx(live["outstanding_balance"].sum())
    assert kpis["expected_loss"] == pytest.approx(live["expected_loss"].sum())
    assert kpis["default_rate"] == pytest.approx(loans["is_default"].mean())


def test_each_snapshot_folder_is_read_on_its_own(tmp_path, serving, snap):
    # the query layer keeps one in-memory database per folder: a new publication is a new
    # folder, read afresh, while the one already open keeps its own figures
    assert queries.portfolio_kpis(snap)["loans"] == len(table(serving, "loans"))
    folder = (copy_serving_dir(tmp_path / "serving") / serving_snapshot.CURRENT).resolve()
    loans = pq.read_table(folder / "loans.parquet")
    pq.write_table(loans.slice(0, 100), folder / "loans.parquet")
    assert queries.portfolio_kpis(folder)["loans"] == 100
    assert queries.band_summary(folder)["loans"].sum() == loans.slice(0, 100)[
        "is_live"
    ].to_pylist().count(True)
    assert queries.portfolio_kpis(snap)["loans"] == len(table(serving, "loans"))


def test_portfolio_filters_select_grades_regions_and_issue_months(serving, snap):
    loans = table(serving, "loans")
    grade, region = sorted(loans["grade"].unique())[:2], sorted(loans["region"].unique())[0]
    start, end = sorted(loans["issue_month"].unique())[3], sorted(loans["issue_month"].unique())[9]
    kpis = queries.portfolio_kpis(snap, grade, [region], start, end)
    chosen = loans[
        loans["grade"].isin(grade)
        & (loans["region"] == region)
        & (loans["issue_month"] >= start)
        & (loans["issue_month"] <= end)
    ]
    assert kpis["loans"] == len(chosen) > 0
    assert kpis["live_loans"] == chosen["is_live"].sum()


def test_portfolio_trend_sums_segments_per_month(serving, snap):
    monthly = table(serving, "portfolio_monthly")
    trend = queries.portfolio_trend(snap, regions=["Pacific"])
    pacific = monthly[monthly["region"] == "Pacific"].groupby("month").sum(numeric_only=True)
    assert len(trend) == len(pacific)
    last = trend.iloc[-1]
    assert last["exposure"] == pytest.approx(pacific["exposure"].iloc[-1])
    assert last["default_rate"] == pytest.approx(
        pacific["defaults"].iloc[-1] / pacific["loans"].iloc[-1]
    )


def test_band_summary_and_histogram_count_every_live_loan_once(serving, snap):
    live = table(serving, "loans").query("is_live")
    bands = queries.band_summary(snap)
    assert list(bands["band"]) == [b for b in queries.BANDS if b in set(live["band"])]
    assert (
        dict(zip(bands["band"], bands["loans"], strict=True))
        == live["band"].value_counts().to_dict()
    )
    histogram = queries.score_histogram(snap, 0.1, 0.25, bins=20)
    assert histogram["loans"].sum() == len(live)
    assert (histogram["pd_to"] - histogram["pd_from"]).round(9).eq(0.05).all()


@pytest.mark.parametrize(
    ("pd_value", "band"),
    [(0.0, "approve"), (0.0999, "approve"), (0.1, "review"), (0.25, "decline")],
)
def test_band_of_uses_the_thresholds_as_lower_edges(pd_value, band):
    assert queries.band_of(pd_value, 0.1, 0.25) == band


def test_migration_shares_sum_to_one_per_previous_band(snap):
    migration = queries.band_migration(snap)
    assert migration.groupby("from_band")["share_of_from_band"].sum().round(9).eq(1).all()


@pytest.mark.parametrize("dimension", sorted(queries.DIMENSIONS))
def test_segments_partition_the_book(serving, snap, dimension):
    loans = table(serving, "loans")
    segments = queries.segment_table(snap, dimension)
    assert segments["loans"].sum() == len(loans)
    assert segments["expected_loss"].sum() == pytest.approx(
        loans.query("is_live")["expected_loss"].sum()
    )


def test_an_unknown_dimension_is_refused(snap):
    with pytest.raises(ValueError, match="not one of"):
        queries.segment_table(snap, "postcode; drop table loans")


def test_vintage_curves_by_quarter_weight_months_by_loans(serving, snap):
    curves = table(serving, "vintage_curves")
    by_quarter = queries.vintage_curves(snap, "quarter")
    first = curves[curves["issue_month"] < curves["issue_month"].min() + timedelta(days=85)]
    mob1 = first[first["months_on_book"] == 6]
    row = by_quarter[
        (by_quarter["vintage"] == by_quarter["vintage"].min()) & (by_quarter["months_on_book"] == 6)
    ]
    expected = (mob1["cumulative_default_rate"] * mob1["loans"]).sum() / mob1["loans"].sum()
    assert row["cumulative_default_rate"].iloc[0] == pytest.approx(expected)
    assert set(queries.vintage_curves(snap, "month")["vintage"]) == {
        m.strftime("%Y-%m") for m in curves["issue_month"]
    }


def test_model_views_match_the_holdout(serving, snap):
    holdout = table(serving, "holdout_predictions")
    champion = queries.candidate_models(snap)[0]
    assert champion == queries.champion_lineage(snap)["model"]
    mine = holdout[holdout["model"] == champion]
    cm = queries.confusion(snap, champion, 0.3)
    assert cm["tp"] == ((mine["pd"] >= 0.3) & (mine["y_true"] == 1)).sum()
    assert cm["fp"] == ((mine["pd"] >= 0.3) & (mine["y_true"] == 0)).sum()
    assert sum(cm.values()) == len(mine)
    roc = queries.roc_points(snap, champion)
    assert (roc["fpr"].iloc[0], roc["tpr"].iloc[0]) == (0, 0)
    assert (roc["fpr"].iloc[-1], roc["tpr"].iloc[-1]) == (1, 1)
    assert roc["fpr"].is_monotonic_increasing and roc["tpr"].is_monotonic_increasing
    metrics = queries.model_metrics(snap)
    assert set(metrics["implementation"]) == {"scratch", "sklearn"}
    assert len(queries.calibration(snap, champion)) == 10


def test_the_champion_is_the_version_aliased_champion(serving, snap):
    versions = table(serving, "model_versions")
    aliased = versions[versions["aliases"].str.contains("champion", na=False)]
    assert queries.champion_lineage(snap)["version"] == aliased["version"].iloc[0]
    assert list(queries.model_versions(snap)["version"]) == sorted(
        versions["version"], reverse=True
    )


def test_psi_lists_the_score_first_and_bands_it(snap):
    psi = queries.psi_table(snap)
    assert psi["variable"].iloc[0] == "score"
    assert [queries.psi_band(v) for v in (0.05, 0.1, 0.2, 0.25)] == [
        "stable",
        "watch",
        "watch",
        "shift",
    ]


def test_freshness_reconciliation_and_tests(serving, snap):
    facts = queries.snapshot_facts(snap, now=snap.created_at + timedelta(minutes=5))
    assert facts["age_seconds"] == 300
    assert facts["rows"]["loans"] == len(table(serving, "loans"))
    recon = queries.reconciliation(snap)
    assert recon["reconciles"].all()
    counts = queries.dbt_test_counts(snap)
    assert sum(counts.values()) == len(table(serving, "dbt_tests"))
    assert set(queries.dag_runs(snap)["dag_id"]) == set(table(serving, "dag_runs")["dag_id"])


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(42, "42 s"), (300, "5 min"), (12_000, "3 h 20 min"), (187_200, "2 d 4 h")],
)
def test_describe_age(seconds, shown):
    assert queries.describe_age(seconds) == shown


# --- the what-if form ------------------------------------------------------------------------


def _defaults(fields):
    return {
        f["name"]: queries.format_number(f["default"], f["integer"])
        if f["type"] == "number"
        else f["default"]
        for f in fields
    }


def test_the_form_has_one_field_per_champion_input(serving, snap):
    spec = ScoringSpec.from_dict(champion_document(serving))
    assert [f["name"] for f in queries.whatif_fields(snap)] == [i["name"] for i in spec.inputs]


def test_a_valid_applicant_scores_as_the_champion_scores(serving, snap):
    fields = queries.whatif_fields(snap)
    record, errors = queries.parse_applicant(fields, _defaults(fields))
    assert errors == {}
    spec = ScoringSpec.from_dict(champion_document(serving))
    result = queries.score_applicant(snap, record, 0.45, 0.1, 0.25)
    assert result["pd"] == spec.predict_proba([record])[0]
    assert result["expected_loss"] == pytest.approx(result["pd"] * 0.45 * record["loan_amount"])
    assert result["band"] == queries.band_of(result["pd"], 0.1, 0.25)
    assert result["reasons"] == spec.explain(record)


def _numeric(fields, integer):
    return next(f for f in fields if f["type"] == "number" and bool(f["integer"]) == integer)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "is not a number"),
        ("nan", "not a finite number"),
        ("1e12", "outside the valid range"),
    ],
)
def test_invalid_numbers_are_refused_by_field(snap, value, message):
    fields = queries.whatif_fields(snap)
    field = _numeric(fields, integer=False)
    _, errors = queries.parse_applicant(fields, _defaults(fields) | {field["name"]: value})
    assert list(errors) == [field["name"]]
    assert message in errors[field["name"]]


def test_a_fraction_is_refused_where_a_whole_number_is_needed(snap):
    fields = queries.whatif_fields(snap)
    field = _numeric(fields, integer=True)
    _, errors = queries.parse_applicant(fields, _defaults(fields) | {field["name"]: "2.5"})
    assert "whole number" in errors[field["name"]]


def test_an_unknown_category_is_refused_and_a_blank_number_is_imputed(snap):
    fields = queries.whatif_fields(snap)
    category = next(f for f in fields if f["type"] == "category")
    number = _numeric(fields, integer=False)
    raw = _defaults(fields) | {category["name"]: "Atlantis", number["name"]: "  "}
    record, errors = queries.parse_applicant(fields, raw)
    assert list(errors) == [category["name"]]
    assert record[number["name"]] is None


def test_score_applicant_refuses_what_the_spec_refuses(snap):
    fields = queries.whatif_fields(snap)
    record, _ = queries.parse_applicant(fields, _defaults(fields))
    with pytest.raises(ValueError, match="outside the training range"):
        queries.score_applicant(snap, record | {"loan_amount": 1e12}, 0.45, 0.1, 0.25)


def test_derived_inputs_are_the_books_own(snap):
    book = sample_snapshot.generate_book(300, seed=7)
    features = sample_snapshot.feature_frame(book)
    for row in features.itertuples():
        derived = queries.derive_inputs(
            {
                "loan_amount": row.loan_amount,
                "term_months": row.term_months,
                "interest_rate_pct": row.interest_rate_pct,
                "annual_income": row.annual_income,
            }
        )
        assert derived["installment_amount"] == pytest.approx(row.installment_amount, abs=0.006)
        assert derived["loan_to_income"] == pytest.approx(row.loan_to_income, abs=1e-9)
        assert derived["installment_to_income"] == pytest.approx(
            row.installment_to_income, abs=1e-4
        )


def test_derived_inputs_are_computed_never_typed(snap):
    fields = queries.whatif_fields(snap)
    derived = [f["name"] for f in fields if f["derived"]]
    assert derived and set(derived) <= set(queries.DERIVED_INPUTS)
    raw = _defaults(fields) | {name: "999999" for name in derived}
    record, errors = queries.parse_applicant(fields, raw)
    assert errors == {}
    assert {n: record[n] for n in derived} == {
        n: v for n, v in queries.derive_inputs(record).items() if n in derived
    }
    # and their defaults follow from the defaults of their sources
    assert {f["name"]: f["default"] for f in fields if f["derived"]} == {
        n: record[n] for n in derived
    }


def test_a_derived_value_outside_the_range_is_refused_naming_its_sources(snap):
    fields = {f["name"]: f for f in queries.whatif_fields(snap)}
    amount, income = fields["loan_amount"], fields["annual_income"]
    assert amount["max"] / income["min"] > fields["loan_to_income"]["max"]  # the data allows it
    raw = _defaults(fields.values()) | {
        "loan_amount": str(amount["max"]),
        "annual_income": str(income["min"]),
    }
    _, errors = queries.parse_applicant(list(fields.values()), raw)
    assert "loan_to_income" in errors
    assert "from loan amount, annual income" in errors["loan_to_income"]
    assert "loan_amount" not in errors and "annual_income" not in errors


# --- states ----------------------------------------------------------------------------------


def test_serving_states(tmp_path):
    empty = queries.serving_state(load_settings(serving_dir=tmp_path / "none"))
    assert empty.snapshot is None and "make run" in empty.problem
    serving = copy_serving_dir(tmp_path / "serving")
    settings = load_settings(serving_dir=serving)
    serving_snapshot.mark_run_started("run-2", "2026-01-01", settings)
    running = queries.serving_state(settings)
    assert running.snapshot is not None and running.run_in_progress["run_id"] == "run-2"
    set_schema_version(serving, serving_snapshot.SCHEMA_VERSION - 1)
    old = queries.serving_state(settings)
    assert old.snapshot is None and "schema version" in old.problem


def test_describe_age_of_a_fresh_snapshot_is_seconds(snap):
    facts = queries.snapshot_facts(snap, now=datetime.now(UTC))
    assert facts["age_seconds"] >= 0
