"""The dashboard in Streamlit's AppTest: every page, widget and state, on a published snapshot.

Every number asserted is computed here from the snapshot's own Parquet tables (or the
champion's own spec), never written down.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capstone import serving_snapshot
from capstone.dashboard_project import queries, ui
from capstone.risk_model_pipeline.scoring import ScoringSpec
from capstone.tests.dashboard_snapshot import (
    APP,
    PAGES,
    champion_document,
    chart_frames,
    copy_serving_dir,
    set_schema_version,
    shared_serving_dir,
    table,
)
from Module_1_Foundations.common.settings import load_settings

TIMEOUT = 120
TITLES = dict(
    zip(
        PAGES,
        [
            "Portfolio",
            "Risk distribution",
            "Segments",
            "Model",
            "Applicant what-if",
            "Monitoring",
            "Data quality and freshness",
        ],
        strict=True,
    )
)


@pytest.fixture
def serving(monkeypatch) -> Path:
    folder = shared_serving_dir()
    monkeypatch.setenv("HDP_SERVING_DIR", str(folder))
    return folder


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return values[0]


def live(serving: Path):
    return table(serving, "loans").query("is_live")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_a_title_and_no_error(serving, page):
    at = open_page(page)
    assert [t.value for t in at.title] == [TITLES[page]]
    assert not at.error, [e.value for e in at.error]


# --- Portfolio -------------------------------------------------------------------------------


def test_portfolio_shows_the_books_figures(serving):
    at = open_page("views/portfolio.py")
    book = live(serving)
    assert metric(at, "Live loans") == ui.count(len(book))
    assert metric(at, "Exposure (EAD of live loans)") == ui.money(book["outstanding_balance"].sum())
    assert metric(at, "Expected loss (PD x LGD x EAD)") == ui.money(book["expected_loss"].sum())
    loans = table(serving, "loans")
    assert metric(at, "Default rate (observed)") == ui.pct(loans["is_default"].mean())
    assert len(at.get("vega_lite_chart")) == 4


def test_portfolio_grade_and_region_filters(serving):
    at = open_page("views/portfolio.py")
    book = live(serving)
    grade, region = sorted(book["grade"].unique())[-1], sorted(book["region"].unique())[0]
    at.multiselect(key="portfolio_grades").select(grade).run()
    assert metric(at, "Live loans") == ui.count((book["grade"] == grade).sum())
    at.multiselect(key="portfolio_regions").select(region).run()
    chosen = book[(book["grade"] == grade) & (book["region"] == region)]
    assert metric(at, "Live loans") == ui.count(len(chosen))
    trend = chart_frames(at.get("vega_lite_chart")[0])[0]
    monthly = table(serving, "portfolio_monthly")
    last = monthly[(monthly["grade"] == grade) & (monthly["region"] == region)]
    assert trend["exposure"].iloc[-1] == pytest.approx(
        last[last["month"] == last["month"].max()]["exposure"].sum()
    )


def test_portfolio_month_range(serving):
    at = open_page("views/portfolio.py")
    loans = table(serving, "loans")
    months = sorted(loans["issue_month"].unique())
    start, end = months[6], months[17]
    at.date_input(key="portfolio_months").set_value((start, end)).run()
    chosen = loans[(loans["issue_month"] >= start) & (loans["issue_month"] <= end)]
    assert metric(at, "Live loans") == ui.count(chosen["is_live"].sum())
    trend = chart_frames(at.get("vega_lite_chart")[0])[0]
    assert trend["month"].min().date() >= start and trend["month"].max().date() <= end


def test_portfolio_empty_month_range_warns(serving):
    at = open_page("views/portfolio.py")
    first = table(serving, "portfolio_monthly")["month"].min()
    at.date_input(key="portfolio_months").set_value((first, first)).run()
    assert not at.exception
    # one month is still a month; a range before the book has no month at all
    assert len(at.get("vega_lite_chart")) == 4
    assert isinstance(first, date)


# --- Risk distribution -----------------------------------------------------------------------


def test_risk_bands_histogram_and_migration(serving):
    at = open_page("views/risk_distribution.py")
    book = live(serving)
    for band, n in book["band"].value_counts().items():
        assert metric(at, f"{band.capitalize()} band") == ui.count(n)
    histogram = next(f for f in chart_frames(at.get("vega_lite_chart")[0]) if "loans" in f)
    assert histogram["loans"].sum() == len(book) and len(histogram) <= 50
    migration = table(serving, "score_migration")
    moved = migration[migration["from_band"] != migration["to_band"]]["loans"].sum()
    assert metric(at, "Loans that changed band") == ui.count(moved)


def test_risk_histogram_bins_slider(serving):
    at = open_page("views/risk_distribution.py")
    at.slider(key="risk_bins").set_value(10).run()
    histogram = next(f for f in chart_frames(at.get("vega_lite_chart")[0]) if "loans" in f)
    assert len(histogram) <= 10 and histogram["loans"].sum() == len(live(serving))


# --- Segments --------------------------------------------------------------------------------


@pytest.mark.parametrize("dimension", list(queries.DIMENSIONS))
def test_segments_drill_down(serving, dimension):
    at = open_page("views/segments.py")
    at.selectbox(key="segments_dimension").select(dimension).run()
    shown = at.dataframe[0].value
    loans = table(serving, "loans")
    assert shown["loans"].sum() == len(loans)
    expected = (
        loans["issue_month"].astype(str).str[:7] if dimension == "vintage" else loans[dimension]
    )
    assert len(shown) == expected.nunique()
    first = shown.iloc[0]
    mine = loans[expected == first["segment"]]
    assert first["default_rate"] == pytest.approx(mine["is_default"].mean())
    assert first["mean_pd"] == pytest.approx(mine["pd"].mean())


def test_segments_vintage_curves_by_month_or_quarter(serving):
    at = open_page("views/segments.py")
    months = table(serving, "vintage_curves")["issue_month"].nunique()
    quarters = chart_frames(at.get("vega_lite_chart")[-1])[0]["vintage"].nunique()
    at.radio(key="segments_vintage_by").set_value("month").run()
    assert chart_frames(at.get("vega_lite_chart")[-1])[0]["vintage"].nunique() == months
    assert quarters < months


# --- Model -----------------------------------------------------------------------------------


def test_model_confusion_matrix_follows_the_threshold_and_candidate(serving):
    at = open_page("views/model.py")
    holdout = table(serving, "holdout_predictions")
    models = at.selectbox(key="model_candidate").options
    assert sorted(models) == sorted(holdout["model"].unique())
    for model in models:
        at.selectbox(key="model_candidate").select(model).run()
        at.slider(key="model_threshold").set_value(0.2).run()
        mine = holdout[holdout["model"] == model]
        tp = ((mine["pd"] >= 0.2) & (mine["y_true"] == 1)).sum()
        fn = ((mine["pd"] < 0.2) & (mine["y_true"] == 1)).sum()
        assert metric(at, "True positives (defaults caught)") == ui.count(tp)
        assert metric(at, "False negatives (defaults missed)") == ui.count(fn)
        assert len(at.get("vega_lite_chart")) == 2  # ROC and calibration


def test_model_shows_lineage_and_versions(serving):
    at = open_page("views/model.py")
    versions = table(serving, "model_versions")
    champion = versions[versions["aliases"].str.contains("champion", na=False)].iloc[0]
    lineage = at.table[0].value
    shown = dict(zip(lineage.iloc[:, 0], lineage.iloc[:, 1], strict=True))
    assert shown["version"] == str(champion["version"])
    assert shown["promotion reason"] == champion["decision_reason"]
    assert shown["git commit"] == champion["git_commit"]
    assert len(at.dataframe[1].value) == len(versions)


# --- Applicant what-if -----------------------------------------------------------------------


def whatif(serving: Path, **values: str) -> tuple[AppTest, ScoringSpec]:
    at = open_page("views/whatif.py")
    for name, value in values.items():
        at.text_input(key=f"whatif_{name}").set_value(value)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at, ScoringSpec.from_dict(champion_document(serving))


def test_whatif_scores_the_defaults_as_the_champion_does(serving):
    at, spec = whatif(serving)
    fields = queries.whatif_fields(serving / "current")
    record = {}
    for field in fields:
        if field["type"] == "number":
            text = queries.format_number(field["default"], field["integer"])
            record[field["name"]] = int(float(text)) if field["integer"] else float(text)
        else:
            record[field["name"]] = field["categories"][0]
    pd_value = spec.predict_proba([record])[0]
    settings = load_settings()
    assert metric(at, "Probability of default") == ui.pct(pd_value)
    band = queries.band_of(pd_value, settings.pd_review_from, settings.pd_decline_from)
    assert metric(at, "Decision band") == band.capitalize()
    assert metric(at, "Expected loss") == ui.money(pd_value * settings.lgd * record["loan_amount"])
    reasons = spec.explain(record)
    if reasons:
        assert list(at.dataframe[0].value["reason"]) == [r["reason"] for r in reasons]


def test_whatif_changed_inputs_change_the_score(serving):
    fields = {f["name"]: f for f in queries.whatif_fields(serving / "current")}
    grade = fields["grade"]["categories"][-1]
    at = open_page("views/whatif.py")
    at.selectbox(key="whatif_grade").select(grade)
    # a larger loan for the same income (the largest would lift the ratios out of range)
    larger = round(fields["loan_amount"]["default"] * 1.25)
    at.text_input(key="whatif_loan_amount").set_value(str(larger))
    at.button[0].click().run()
    spec = ScoringSpec.from_dict(champion_document(serving))
    record, errors = queries.parse_applicant(
        list(fields.values()),
        {w.key.removeprefix("whatif_"): w.value for w in [*at.text_input, *at.selectbox] if w.key},
    )
    assert errors == {} and record["grade"] == grade
    assert metric(at, "Probability of default") == ui.pct(spec.predict_proba([record])[0])


def test_whatif_shows_the_derived_ratios_read_only_and_derives_them(serving):
    fields = {f["name"]: f for f in queries.whatif_fields(serving / "current")}
    derived = [n for n, f in fields.items() if f["derived"]]
    at = open_page("views/whatif.py")
    shown = {w.label: w for w in at.text_input}
    assert derived and all(shown[n.replace("_", " ")].disabled for n in derived)
    assert not any(w.disabled for w in at.text_input if w.key)  # the typed inputs stay editable
    amount = round((fields["loan_amount"]["min"] + fields["loan_amount"]["max"]) / 2)
    at.text_input(key="whatif_loan_amount").set_value(str(amount))
    at.button[0].click().run()
    record, _ = queries.parse_applicant(
        list(fields.values()),
        {w.key.removeprefix("whatif_"): w.value for w in [*at.text_input, *at.selectbox] if w.key},
    )
    assert record["loan_amount"] == amount
    shown = {w.label: w.value for w in at.text_input if not w.key}
    for name in derived:
        assert shown[name.replace("_", " ")] == queries.format_number(record[name], False)


def test_whatif_refuses_a_derived_ratio_outside_the_range_beside_it(serving):
    fields = {f["name"]: f for f in queries.whatif_fields(serving / "current")}
    at, _ = whatif(
        serving,
        loan_amount=str(fields["loan_amount"]["max"]),
        annual_income=str(fields["annual_income"]["min"]),
    )
    form = at.get("form")[0]
    assert any("from loan amount, annual income" in e.value for e in form.error)
    assert not [m for m in at.metric if m.label == "Probability of default"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "is not a number"),
        ("-5", "outside the valid range"),
        ("1e12", "outside the valid range"),
        ("inf", "not a finite number"),
    ],
)
def test_whatif_refuses_an_invalid_number_beside_the_field(serving, value, message):
    at, _ = whatif(serving, loan_amount=value)
    errors = [e.value for e in at.error]
    assert any(message in e for e in errors), errors
    assert any("need a valid value" in e for e in errors)
    assert not [m for m in at.metric if m.label == "Probability of default"]
    # the message sits in the form, right under the field it is about
    form = at.get("form")[0]
    assert any(message in e.value for e in form.error)


def test_whatif_refuses_a_fraction_for_a_whole_number(serving):
    integer = next(
        f["name"] for f in queries.whatif_fields(serving / "current") if f.get("integer")
    )
    at, _ = whatif(serving, **{integer: "2.5"})
    assert any("whole number" in e.value for e in at.error)


def test_whatif_imputes_a_blank_number(serving):
    at, _ = whatif(serving, loan_amount="")
    assert not at.error
    assert metric(at, "Expected loss") == ui.money(0.0)  # no amount: nothing drawn, no loss


# --- Monitoring ------------------------------------------------------------------------------


def test_monitoring_psi_and_vintages(serving):
    at = open_page("views/monitoring.py")
    psi = table(serving, "psi")
    score = psi[psi["variable"] == "score"]["psi"].iloc[0]
    assert metric(at, "PSI of the score") == f"{score:.4f}"
    shifted = sum(queries.psi_band(v) == "shift" for v in psi["psi"])
    assert metric(at, "Variables shifted") == ui.count(shifted)
    vintages = chart_frames(at.get("vega_lite_chart")[-1])[0]
    assert vintages["vintage"].nunique() == table(serving, "loans")["issue_month"].nunique()


# --- Data quality and freshness --------------------------------------------------------------


def _static_tables() -> None:
    import pandas as pd

    from capstone.dashboard_project import ui

    long = pd.DataFrame(
        {
            "when": pd.date_range("2026-01-01", periods=40, freq="h", tz="UTC"),
            "seconds": [60.0] * 39 + [None],
            "rows": range(40),
            "name": ["x"] * 40,
        }
    )
    ui.static_table(long)
    ui.static_table(long.head(3))


def test_static_tables_show_any_frame_and_keep_its_values():
    at = AppTest.from_function(_static_tables, default_timeout=TIMEOUT).run()
    assert not at.exception
    long, short = at.table
    assert len(long.value) == 40 and len(short.value) == 3
    assert long.value["rows"].sum() == sum(range(40))  # formatting shows, values stay numbers


def test_data_quality_runs_reconciliation_tests_and_age(serving):
    at = open_page("views/data_quality.py")
    manifest = serving_snapshot.open_current(load_settings(serving_dir=serving)).manifest
    assert metric(at, "Logical date") == manifest["logical_date"]
    assert metric(at, "Loans in the snapshot") == ui.count(manifest["tables"]["loans"]["rows"])
    assert metric(at, "Snapshot age").endswith(("s", "min", "h"))
    tests = table(serving, "dbt_tests")
    for status, n in tests["status"].value_counts().items():
        assert metric(at, f"Tests {status}") == ui.count(n)
    assert any("reconcile" in s.value for s in at.success)
    assert len(at.table[0].value) == len(table(serving, "dag_runs"))
    assert len(at.table[1].value) == len(table(serving, "reconciliation"))
    assert len(at.table[2].value) == len(tests)
    assert not at.dataframe  # plain tables: no data grid to load on this page


# --- States ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_no_snapshot_names_the_command_on_every_page(tmp_path, monkeypatch, page):
    monkeypatch.setenv("HDP_SERVING_DIR", str(tmp_path / "serving"))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page(page).run()
    assert not at.exception
    assert any("make run" in e.value for e in at.error)
    assert not at.metric


def test_a_run_in_progress_shows_a_banner_over_the_last_good_snapshot(tmp_path, monkeypatch):
    serving = copy_serving_dir(tmp_path / "serving")
    monkeypatch.setenv("HDP_SERVING_DIR", str(serving))
    serving_snapshot.mark_run_started("manual__next", "2026-01-02", load_settings())
    at = open_page("views/portfolio.py")
    banner = " ".join(i.value for i in at.info)
    assert "run is under way" in banner and "manual__next" in banner
    assert metric(at, "Live loans") == ui.count(len(live(serving)))


def test_a_snapshot_of_an_older_schema_is_a_message(tmp_path, monkeypatch):
    serving = copy_serving_dir(tmp_path / "serving")
    set_schema_version(serving, serving_snapshot.SCHEMA_VERSION - 1)
    monkeypatch.setenv("HDP_SERVING_DIR", str(serving))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("schema version" in e.value and "make run" in e.value for e in at.error)
