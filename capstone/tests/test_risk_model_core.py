"""The pure core: split, preparation, candidates, evaluation, champion rule, scoring spec."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from capstone.risk_model_pipeline import evaluation, training
from capstone.risk_model_pipeline.scoring import ScoringSpec, SpecError, render_sql
from capstone.tests.risk_book import synthetic_features


@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    return synthetic_features()


@pytest.fixture(scope="module")
def trained(book):
    split = training.out_of_time_split(book)
    prep, candidates = training.train_candidates(split)
    return split, prep, {c.name: c for c in candidates}


def test_the_split_is_out_of_time_and_uses_known_labels_only(book):
    split = training.out_of_time_split(book)
    assert pd.to_datetime(split.train["issue_date"]).max() < pd.Timestamp(split.cutoff)
    assert pd.to_datetime(split.holdout["issue_date"]).min() >= pd.Timestamp(split.cutoff)
    assert split.train["label_known"].all() and split.holdout["label_known"].all()
    assert set(split.train["loan_id"]).isdisjoint(split.holdout["loan_id"])
    # too young for the horizon: issued within 12 months of the book's newest due date
    young = pd.to_datetime(book["issue_date"]) >= pd.Timestamp("2023-06-01")
    assert young.any()
    assert set(book.loan_id[young]).isdisjoint({*split.train.loan_id, *split.holdout.loan_id})


def test_the_windows_are_stored_as_parquet_with_the_label_as_of_date(book, tmp_path):
    split = training.out_of_time_split(book)
    split.holdout.to_parquet(tmp_path / "holdout.parquet", index=False)  # as pipeline.train does
    assert pd.read_parquet(tmp_path / "holdout.parquet")["default_label"].tolist() == (
        split.holdout["default_label"].tolist()
    )
    assert split.summary()["label_as_of"] == "2024-06-28"


def test_the_label_is_a_default_within_the_horizon_in_both_windows(book):
    """Train and holdout carry the same label definition, so their default rates compare."""
    split = training.out_of_time_split(book)
    for window in (split.train, split.holdout):
        months = (
            pd.to_datetime(window["default_date"]).dt.to_period("M")
            - pd.to_datetime(window["issue_date"]).dt.to_period("M")
        ).map(lambda offset: offset.n if offset is not pd.NaT else None)
        expected = (months <= training.LABEL_HORIZON_MONTHS).astype(int)
        assert (window["default_label"] == expected).all()
        assert (window["default_label"] <= window["default_label_lifetime"]).all()
        assert (window["true_pd"] <= window["true_pd_lifetime"]).all()
    rates = split.summary()["train_default_rate"], split.summary()["holdout_default_rate"]
    assert abs(rates[0] - rates[1]) < 0.05, rates
    # the true horizon PD is calibrated to the horizon label (what makes it the best score)
    assert split.train["true_pd"].mean() == pytest.approx(rates[0], abs=0.02)


def test_a_large_training_window_is_sampled_by_label_and_says_so(book):
    whole = training.out_of_time_split(book)
    split = training.out_of_time_split(book, max_train_rows=300)
    window, defaults = len(whole.train), int(whole.train["default_label"].sum())

    assert len(split.train) == 300
    assert set(split.train["loan_id"]) <= set(whole.train["loan_id"])
    summary = split.summary()
    assert summary["train_sampled"] is True
    assert summary["train_rows_available"] == window
    # the rare class carries the information: half the sample is defaults (all, if fewer)
    assert summary["train_sample_defaults"] == min(defaults, 150) == 150
    # the correction undoes the two sampling rates: ln(s0 / s1)
    s1, s0 = 150 / defaults, 150 / (window - defaults)
    assert split.log_odds_offset == pytest.approx(math.log(s0 / s1))
    assert summary["train_sample_log_odds_offset"] == split.log_odds_offset
    # the default rate reported is the window's, not the sample's 50 %
    assert summary["train_default_rate"] == pytest.approx(whole.train["default_label"].mean())
    assert split.training_window.equals(whole.train)


def test_a_window_under_the_cap_is_used_whole_without_correction(book):
    split = training.out_of_time_split(book)
    assert split.summary()["train_sampled"] is False
    assert split.log_odds_offset == 0.0
    assert training.prior_corrected(0.3, split.log_odds_offset) == 0.3


def test_the_prior_correction_moves_the_log_odds_and_keeps_0_and_1():
    assert training.prior_corrected(0.5, math.log(1 / 3)) == pytest.approx(0.25)
    p, offset = 0.2, -1.7
    moved = training.prior_corrected(p, offset)
    assert math.log(moved / (1 - moved)) == pytest.approx(math.log(p / (1 - p)) + offset)
    assert training.prior_corrected(0.0, offset) == 0.0
    assert training.prior_corrected(1.0, offset) == 1.0


def test_models_of_a_label_sample_predict_the_windows_default_rate_not_the_samples(book):
    split = training.out_of_time_split(book, max_train_rows=1000)
    assert split.train["default_label"].mean() == 0.5  # 500 of 545 defaults, 500 of 2 283 not
    _, candidates = training.train_candidates(split)

    observed = split.holdout["default_label"].mean()  # about 0.19
    for candidate in candidates:
        p = training.predict_frame(candidate.spec, split.holdout)
        assert abs(p.mean() - observed) < 0.05, candidate.name  # uncorrected: about 0.5
        assert candidate.spec["prep"] == candidates[0].spec["prep"]


def test_preparation_of_a_sampled_window_is_learnt_on_the_whole_window(book):
    split = training.out_of_time_split(book, max_train_rows=1000)
    prep, _ = training.train_candidates(split, ("sklearn_logistic",))
    rate = next(c for c in prep["columns"] if c["name"] == "interest_rate_pct")
    # not the sample's mean: half its loans are defaults, which carry higher rates
    assert rate["mean"] == pytest.approx(split.training_window["interest_rate_pct"].mean())
    assert rate["mean"] != pytest.approx(split.train["interest_rate_pct"].mean(), abs=1e-6)


def test_preparation_is_learnt_on_the_training_window_only(book):
    split = training.out_of_time_split(book)
    prep = training.fit_preparation(split.train)
    rate = next(c for c in prep["columns"] if c["name"] == "interest_rate_pct")
    assert rate["mean"] == pytest.approx(split.train["interest_rate_pct"].mean())
    assert rate["mean"] != pytest.approx(book["interest_rate_pct"].mean(), abs=1e-9)
    employment = next(c for c in prep["columns"] if c["name"] == "employment_years")
    assert employment["median"] == split.train["employment_years"].median()
    assert json.loads(json.dumps(prep)) == prep  # serialisable as JSON


def test_leakage_guard_refuses_post_issue_inputs_by_name():
    with pytest.raises(training.LeakageError, match="months_observed"):
        training.assert_no_leakage(["grade", "months_observed"])
    training.assert_no_leakage([*training.NUMERIC_INPUTS, *training.CATEGORICAL_INPUTS])


def test_leakage_guard_shuffled_labels_leave_nothing_to_learn(book):
    """With labels shuffled, a model that still ranks well would be reading a leaked label."""
    shuffled = book.copy()
    order = np.random.default_rng(0).permutation(len(book))
    for outcome in ("default_label", "default_date"):  # the label is derived from both
        shuffled[outcome] = book[outcome].to_numpy()[order]
    split = training.out_of_time_split(shuffled)
    _, candidates = training.train_candidates(split, ("sklearn_logistic",))
    p = training.predict_frame(candidates[0].spec, split.holdout)
    auc = evaluation.evaluate(split.holdout["default_label"].to_numpy(), p, None, None)
    assert abs(auc["metrics"]["auc"] - 0.5) < 0.06


def test_scratch_models_rank_as_well_as_scikit_learn(trained):
    split, _, candidates = trained
    y, truth = split.holdout["default_label"].to_numpy(), split.holdout["true_pd"].to_numpy()
    auc = {
        name: evaluation.evaluate(y, training.predict_frame(c.spec, split.holdout), truth, None)[
            "metrics"
        ]["auc"]
        for name, c in candidates.items()
    }
    assert abs(auc["scratch_logistic"] - auc["sklearn_logistic"]) < 0.005
    assert abs(auc["scratch_tree"] - auc["sklearn_tree"]) < 0.02
    assert auc["scratch_logistic"] > 0.6


def test_evaluation_reports_every_metric_and_ten_deciles(trained):
    split, _, candidates = trained
    spec = candidates["scratch_logistic"].spec
    p = training.predict_frame(spec, split.holdout)
    result = evaluation.evaluate(
        split.holdout["default_label"].to_numpy(), p, split.holdout["true_pd"].to_numpy(), p
    )
    m = result["metrics"]
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1)
    assert 0 < m["ks"] < 1 and 0 < m["brier"] < 1 and m["log_loss"] > 0
    assert m["best_possible_auc"] >= m["auc"] - 0.05
    assert m["psi_vs_champion"] == pytest.approx(0.0)
    assert [r["decile"] for r in result["calibration"]] == list(range(1, 11))
    assert sum(r["loans"] for r in result["calibration"]) == len(p)


def test_the_best_possible_auc_is_taken_on_the_loans_that_have_a_true_pd(trained):
    split, _, candidates = trained
    y, truth = split.holdout["default_label"].to_numpy(), split.holdout["true_pd"].to_numpy()
    p = training.predict_frame(candidates["sklearn_logistic"].spec, split.holdout)
    whole = evaluation.evaluate(y, p, truth, None)["metrics"]
    assert whole["truth_coverage"] == 1.0
    assert whole["auc_share_of_best"] == pytest.approx(whole["auc"] / whole["best_possible_auc"])

    half = truth.copy()
    half[::2] = np.nan  # loans of a drop that came without the ground truth
    m = evaluation.evaluate(y, p, half, None)["metrics"]
    same = evaluation.evaluate(y[1::2], p[1::2], truth[1::2], None)["metrics"]
    assert m["truth_coverage"] == pytest.approx(0.5, abs=0.01)
    assert m["best_possible_auc"] == same["best_possible_auc"]
    assert m["auc_share_of_best"] == same["auc_share_of_best"]
    assert m["auc"] == whole["auc"]  # the model's own AUC is still over the whole holdout
    assert "best_possible_auc" not in evaluation.evaluate(y, p, truth * np.nan, None)["metrics"]


def test_psi_grows_with_a_shift():
    rng = np.random.default_rng(1)
    base = rng.uniform(size=5000)
    assert evaluation.psi(base, rng.uniform(size=5000)) < 0.02
    assert evaluation.psi(base, rng.uniform(size=5000) ** 3) > 0.25


def test_champion_rule():
    first = evaluation.champion_decision({"auc": 0.7, "ece": 0.02}, None)
    assert first.promote and "first" in first.reason
    better = evaluation.champion_decision({"auc": 0.75, "ece": 0.02}, {"auc": 0.7, "ece": 0.02}, 1)
    assert better.promote and "promoted over champion v1" in better.reason
    marginal = evaluation.champion_decision({"auc": 0.702, "ece": 0.01}, {"auc": 0.7, "ece": 0.02})
    assert not marginal.promote and "below the margin" in marginal.reason
    miscal = evaluation.champion_decision({"auc": 0.75, "ece": 0.05}, {"auc": 0.7, "ece": 0.02})
    assert not miscal.promote and "calibration worse" in miscal.reason


@pytest.mark.parametrize("name", training.CANDIDATES)
def test_sql_scoring_equals_python_scoring_on_every_loan(trained, book, name):
    _, _, candidates = trained
    spec = ScoringSpec.from_dict(json.loads(json.dumps(candidates[name].spec)))
    con = duckdb.connect()
    con.register("book", book.drop(columns=["true_pd"]))
    sql = render_sql(spec.compile_sql(), "book")
    rows = con.execute(f"select * from ({sql}) order by loan_id").fetchall()
    records = book.sort_values("loan_id").astype(object).where(book.notna(), None)
    records = records.to_dict("records")
    python = spec.predict_proba(records)
    assert len(rows) == len(records) == len(book)
    assert max(abs(r[1] - p) for r, p in zip(rows, python, strict=True)) < 1e-9
    vectorised = training.predict_frame(spec.data, book.sort_values("loan_id"))
    assert np.max(np.abs(vectorised - np.array(python))) < 1e-9
    for row, record in zip(rows, records, strict=True):
        reasons = [r["reason"] for r in spec.explain(record)]
        assert list(row[2:]) == reasons + [None] * (3 - len(reasons))


def test_explain_names_the_inputs_that_raise_the_pd(trained):
    _, _, candidates = trained
    spec = ScoringSpec.from_dict(candidates["scratch_logistic"].spec)
    risky = {"grade": "E", "interest_rate_pct": 25.0, "debt_to_income_pct": 40.0}
    reasons = spec.explain(risky)
    assert {r["reason"] for r in reasons} >= {"grade", "interest_rate_pct"}
    assert all(r["contribution"] > 0 for r in reasons)
    assert spec.predict_proba([risky])[0] > spec.predict_proba([{"grade": "A"}])[0]


def test_the_spec_describes_and_validates_the_form_inputs(trained):
    _, _, candidates = trained
    spec = ScoringSpec.from_dict(candidates["sklearn_tree"].spec)
    fields = {f["name"]: f for f in spec.inputs}
    assert fields["grade"]["categories"] == ["A", "B", "C", "D", "E"]
    assert fields["interest_rate_pct"]["min"] >= 5 and fields["interest_rate_pct"]["max"] <= 25
    assert spec.validate({"grade": "B", "interest_rate_pct": 10.0}) == []
    problems = spec.validate({"grade": "Z", "interest_rate_pct": 99.0, "term_months": "x"})
    assert len(problems) == 3
    assert any(p.startswith("interest_rate_pct: 99.0 is outside") for p in problems)
    with pytest.raises(SpecError, match="version"):
        ScoringSpec.from_dict({**spec.data, "spec_version": 0})


def test_an_unknown_metric_leaves_a_task_as_null_not_nan():
    # Airflow's API server refuses NaN in a return value: "Out of range float values are not
    # JSON compliant" failed `evaluate` under the real scheduler when loans lacked their truth
    import json

    from capstone.risk_model_pipeline import pipeline

    values = [pipeline._rounded(v) for v in (float("nan"), float("inf"), None, 0.123456)]
    assert values == [None, None, None, 0.1235]
    assert json.dumps(values, allow_nan=False) == "[null, null, null, 0.1235]"
