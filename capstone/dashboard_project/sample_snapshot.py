"""Publish a realistic serving snapshot without the pipeline: for tests, screenshots, benchmarks.

The dashboard's tests must not wait for Airflow, dbt and MLflow, yet they must run on data
shaped like the real thing. This builds every table of the contract from Module 1's generator
(in-process, clean chunks: no CSV), trains Module 4's from-scratch logistic regression and
decision tree beside scikit-learn's on an out-of-time split, scores the whole book, and
publishes the result through ``serving_snapshot.publish``, the pipeline's own entry point. The
numbers differ from the pipeline's (no dbt, no fault injection), the shapes do not. Tests assert
against the published tables, never against constants.

    python -m capstone.dashboard_project.sample_snapshot --loans 5000 --serving-dir /tmp/serving
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from capstone import serving_snapshot
from capstone.risk_model_pipeline import evaluation, training
from capstone.risk_model_pipeline.pipeline import git_commit
from capstone.risk_model_pipeline.scoring import ScoringSpec, render_sql
from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.logs import progress_bar
from Module_1_Foundations.common.settings import Settings, load_settings
from Module_1_Foundations.datasets.loanbook_generator import (
    CHUNK_LOANS,
    GeneratorConfig,
    generate_chunk,
)

#: Module 4's models are pure Python: they learn on a sample, then SQL scores the whole book
TRAIN_SAMPLE = 4_000
#: the previous champion learnt on the oldest share of the training window only
PREVIOUS_TRAIN_SHARE = 0.6
#: the previous scoring run, this many months before the as-of date (mid-way through issuance)
PREVIOUS_RUN_MONTHS = 18


@dataclass(frozen=True)
class Book:
    """One generated loan book as pandas frames (loans joined with truth and repayment facts)."""

    loans: pd.DataFrame
    as_of: date


def generate_book(loans: int, seed: int) -> Book:
    """Generate ``loans`` loans chunk by chunk; keep per loan what the snapshot needs."""
    config = GeneratorConfig(loans=loans, seed=seed)
    frames = []
    bar = progress_bar(loans, desc="loan book", unit="loans")
    for chunk, first in enumerate(range(0, loans, CHUNK_LOANS)):
        tables = generate_chunk(config, chunk, min(CHUNK_LOANS, loans - first))
        with duckdb.connect(":memory:") as con:
            for name, table in tables.items():
                con.register(name, table)
            frames.append(
                con.execute(
                    """
                    WITH last AS (
                        SELECT loan_id, count(*) AS paid_rows,
                               arg_max(balance_after, installment_number) AS last_balance,
                               max(due_date) AS last_due
                        FROM repayments GROUP BY loan_id
                    )
                    SELECT l.*, b.home_ownership, b.birth_year, b.credit_score,
                           t.true_pd, t.observed_default, t.default_installment,
                           coalesce(last.paid_rows, 0) AS paid_rows,
                           coalesce(last.last_balance, l.loan_amount) AS last_balance,
                           last.last_due
                    FROM loans l
                    JOIN borrowers b USING (borrower_id)
                    JOIN loan_truth t USING (loan_id)
                    LEFT JOIN last USING (loan_id)
                    """
                ).df()
            )
        bar.update(len(frames[-1]))
    bar.close()
    return Book(pd.concat(frames, ignore_index=True), config.as_of)


def feature_frame(book: Book) -> pd.DataFrame:
    """The book in the feature mart's shape (``ml_loan_features``: names, label, label finality).

    The same definitions as Module 3's mart, computed here so no warehouse is needed.
    """
    loans = book.loans
    issue = pd.to_datetime(loans["issue_date"])
    employment = loans["employment_length"].astype("object").map(_employment_years)
    is_default = loans["observed_default"].to_numpy() == 1
    return pd.DataFrame(
        {
            "loan_id": loans["loan_id"],
            "issue_date": issue.dt.date,
            "loan_amount": loans["loan_amount"].astype(float),
            "term_months": loans["term_months"],
            "interest_rate_pct": loans["interest_rate"].astype(float),
            "installment_amount": loans["installment"].astype(float),
            "grade": loans["grade"],
            "purpose": loans["purpose"],
            "annual_income": loans["annual_income"].astype(float),
            "employment_years": employment,
            "debt_to_income_pct": loans["debt_to_income"].astype(float),
            "credit_history_months": loans["credit_history_months"],
            "delinquencies_2y": loans["delinquencies_2y"],
            "region": loans["region"],
            "home_ownership": loans["home_ownership"],
            "credit_score": loans["credit_score"],
            "borrower_age_at_issue": issue.dt.year - loans["birth_year"],
            "loan_to_income": (loans["loan_amount"] / loans["annual_income"]).round(4),
            "installment_to_income": (loans["installment"] * 12 / loans["annual_income"]).round(4),
            "default_label": is_default.astype(int),
            # defaulted, prepaid or paid off: the outcome can no longer change
            "is_label_final": is_default | (loans["last_balance"].to_numpy() <= 0.01),
            "true_pd": loans["true_pd"].astype(float),
            # what training's fixed-horizon label reads (fct_loans' columns of the same names):
            # the defaulting instalment's due month, and the newest due date seen per loan
            "default_date": _default_dates(issue, loans["default_installment"], is_default),
            "last_due_date": pd.to_datetime(loans["last_due"]),
        }
    )


def _default_dates(issue: pd.Series, installment: pd.Series, is_default: np.ndarray) -> pd.Series:
    """Instalment k falls due k calendar months after the issue month (the generator's rule)."""
    months = pd.to_numeric(installment, errors="coerce").fillna(0).to_numpy(dtype="int64")
    due = issue.to_numpy().astype("datetime64[M]") + months.astype("timedelta64[M]")
    return pd.Series(due.astype("datetime64[ns]"), index=issue.index).where(is_default)


def _employment_years(label: object) -> float | None:
    """``"< 1 year"`` -> 0, ``"4 years"`` -> 4, ``"10+ years"`` -> 10 (as the staging model)."""
    if not isinstance(label, str):
        return None
    if label.startswith("<"):
        return 0.0
    digits = "".join(ch for ch in label if ch.isdigit())
    return float(digits) if digits else None


@dataclass(frozen=True)
class Trained:
    """The run's candidates on one holdout, the previous champion, and the decision."""

    features: pd.DataFrame
    split: training.Split
    candidates: list[training.Candidate]
    previous: dict[str, Any]
    champion: dict[str, Any]
    decision: evaluation.Decision
    evaluations: dict[str, dict[str, Any]]


def train(book: Book, seed: int) -> Trained:
    """Train the pipeline's four candidates, and a previous champion on an earlier window.

    The best candidate by holdout AUC challenges the previous champion under the pipeline's
    own champion/challenger rule; the winner scores the book.
    """
    features = feature_frame(book)
    split = training.out_of_time_split(features, max_train_rows=TRAIN_SAMPLE, seed=seed)
    _, candidates = training.train_candidates(split, seed=seed)
    issue = pd.to_datetime(split.train["issue_date"])
    before = issue.quantile(PREVIOUS_TRAIN_SHARE)
    earlier = split.train[issue < before].reset_index(drop=True)
    window = split.training_window
    earlier_window = window[pd.to_datetime(window["issue_date"]) < before]
    previous_split = training.Split(
        earlier,
        split.holdout,
        split.cutoff,
        len(earlier_window),
        split.sampled,
        window=earlier_window,
        log_odds_offset=split.log_odds_offset,  # the same sampling rates, in expectation
    )
    _, (previous,) = training.train_candidates(previous_split, ("scratch_logistic",), seed=seed)

    y = split.holdout[training.LABEL].to_numpy(dtype=int)
    true_pd = split.holdout["true_pd"].to_numpy(dtype=float)
    previous_p = training.predict_frame(previous.spec, split.holdout)
    evaluations = {
        c.name: evaluation.evaluate(
            y, training.predict_frame(c.spec, split.holdout), true_pd, previous_p
        )
        for c in candidates
    }
    previous_eval = evaluation.evaluate(y, previous_p, true_pd, None)
    best = max(candidates, key=lambda c: evaluations[c.name]["metrics"]["auc"])
    decision = evaluation.champion_decision(
        evaluations[best.name]["metrics"], previous_eval["metrics"], 1
    )
    champion = best.spec if decision.promote else previous.spec
    return Trained(features, split, candidates, previous.spec, champion, decision, evaluations)


def holdout_tables(trained: Trained) -> dict[str, pd.DataFrame]:
    """model_metrics, holdout_predictions and calibration of every candidate."""
    holdout = trained.split.holdout
    metrics, predictions, calibration = [], [], []
    for candidate in trained.candidates:
        result = trained.evaluations[candidate.name]
        for metric, value in result["metrics"].items():
            metrics.append(
                (candidate.name, candidate.algorithm, candidate.implementation, metric, value)
            )
        predictions.append(
            pd.DataFrame(
                {
                    "model": candidate.name,
                    "loan_id": holdout["loan_id"].to_numpy(),
                    "y_true": holdout[training.LABEL].to_numpy().astype(np.int8),
                    "pd": training.predict_frame(candidate.spec, holdout),
                    "true_pd": holdout["true_pd"].to_numpy(),
                }
            )
        )
        calibration.append(pd.DataFrame(result["calibration"]).assign(model=candidate.name))
    return {
        "model_metrics": pd.DataFrame(
            metrics, columns=["model", "algorithm", "implementation", "metric", "value"]
        ).astype({"value": float}),
        "holdout_predictions": pd.concat(predictions, ignore_index=True),
        "calibration": pd.concat(calibration, ignore_index=True),
    }


# ---------------------------------------------------------------------------------------------
# The scored book and its aggregates
# ---------------------------------------------------------------------------------------------


def score_book(spec: dict[str, Any], features: pd.DataFrame) -> pd.DataFrame:
    """PD and reasons for every loan: the spec compiled to SQL, as the warehouse scores."""
    sql = render_sql(ScoringSpec.from_dict(spec).compile_sql(), "features")
    with duckdb.connect(":memory:") as con:
        con.register("features", features)
        return con.execute(sql).df()


def scored_loans(book: Book, trained: Trained, settings: Settings) -> pd.DataFrame:
    """The ``loans`` table: every loan scored by the champion, with EL and its top reasons."""
    loans = book.loans
    scores = score_book(trained.champion, trained.features)
    scores = loans[["loan_id"]].merge(scores, on="loan_id", how="left")
    pd_values = scores["pd"].to_numpy(dtype=float)
    is_default = loans["observed_default"].to_numpy() == 1
    is_live = ~is_default & (loans["last_balance"].to_numpy() > 0.01)
    balance = np.where(is_default | is_live, loans["last_balance"].to_numpy(), 0.0)
    issue = pd.to_datetime(loans["issue_date"])
    bands = np.where(
        pd_values >= settings.pd_decline_from,
        "decline",
        np.where(pd_values >= settings.pd_review_from, "review", "approve"),
    )
    return pd.DataFrame(
        {
            "loan_id": loans["loan_id"],
            "issue_date": issue.dt.date,
            "issue_month": issue.dt.to_period("M").dt.start_time.dt.date,
            "grade": loans["grade"],
            "purpose": loans["purpose"],
            "region": loans["region"],
            "loan_amount": loans["loan_amount"].astype(float),
            "outstanding_balance": balance,
            "is_live": is_live,
            "is_default": is_default,
            "pd": pd_values,
            "band": bands,
            "expected_loss": pd_values * settings.lgd * balance,
            "true_pd": loans["true_pd"].astype(float),
            "reason_1": scores["reason_1"],
            "reason_2": scores["reason_2"],
            "reason_3": scores["reason_3"],
        }
    )


def book_aggregates(
    book: Book, scored: pd.DataFrame, settings: Settings
) -> dict[str, pd.DataFrame]:
    """portfolio_monthly and vintage_curves, computed in DuckDB from the loan-level facts."""
    facts = book.loans[
        [
            "loan_id",
            "issue_date",
            "term_months",
            "interest_rate",
            "loan_amount",
            "observed_default",
            "default_installment",
            "paid_rows",
            "last_balance",
        ]
    ].merge(scored[["loan_id", "grade", "region", "pd"]], on="loan_id")
    with duckdb.connect(":memory:") as con:
        con.register("facts", facts)
        con.execute(
            """
            CREATE TABLE f AS
            SELECT *, date_trunc('month', issue_date)::DATE AS issue_month,
                   -- a loan ends (default, prepayment or payoff) after its last repayment row
                   (observed_default = 1 OR last_balance <= 0.01) AS ended,
                   date_trunc('month', issue_date)::DATE + to_months(paid_rows::INT) AS end_month,
                   interest_rate / 1200 AS r
            FROM facts
            """
        )
        monthly = con.execute(
            """
            WITH months AS (
                SELECT unnest(generate_series(min(issue_month), ?::DATE, INTERVAL 1 MONTH))::DATE
                       AS month
                FROM f
            ),
            state AS (
                SELECT m.month, f.grade, f.region, f.pd, f.loan_amount, f.r, f.term_months,
                       f.observed_default = 1 AND f.ended AND f.end_month <= m.month AS defaulted,
                       NOT (f.ended AND f.end_month <= m.month) AS live,
                       least(datediff('month', f.issue_month, m.month), f.term_months) AS k
                FROM months m JOIN f ON f.issue_month <= m.month
            )
            SELECT month, grade, region,
                   count(*) FILTER (live) AS live_loans,
                   -- the amortisation schedule's balance after k instalments
                   coalesce(sum(greatest(loan_amount * pow(1 + r, k)
                       - loan_amount * r / (1 - pow(1 + r, -term_months))
                         * (pow(1 + r, k) - 1) / r, 0)) FILTER (live), 0) AS exposure,
                   count(*) FILTER (defaulted) AS defaults,
                   count(*) AS loans,
                   coalesce(sum(pd * ? * greatest(loan_amount * pow(1 + r, k)
                       - loan_amount * r / (1 - pow(1 + r, -term_months))
                         * (pow(1 + r, k) - 1) / r, 0)) FILTER (live), 0) AS expected_loss
            FROM state GROUP BY ALL ORDER BY ALL
            """,
            [book.as_of.replace(day=1), settings.lgd],
        ).df()
        vintages = con.execute(
            """
            WITH mob AS (
                SELECT issue_month, unnest(generate_series(1,
                       least(datediff('month', issue_month, ?::DATE), 60))) AS months_on_book
                FROM f GROUP BY issue_month
            )
            SELECT mob.issue_month, mob.months_on_book, count(*) AS loans,
                   avg((observed_default = 1 AND default_installment <= mob.months_on_book)::INT)
                       AS cumulative_default_rate
            FROM mob JOIN f ON f.issue_month = mob.issue_month
            WHERE datediff('month', f.issue_month, ?::DATE) >= mob.months_on_book
            GROUP BY ALL ORDER BY ALL
            """,
            [book.as_of, book.as_of],
        ).df()
    return {"portfolio_monthly": monthly, "vintage_curves": vintages}


def _psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index over the expected sample's deciles (0.5 pseudo-counts)."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        edges = np.unique(np.concatenate([edges, [edges[0] - 1, edges[-1] + 1]]))
    e = np.histogram(np.clip(expected, edges[0], edges[-1]), edges)[0] + 0.5
    a = np.histogram(np.clip(actual, edges[0], edges[-1]), edges)[0] + 0.5
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def monitoring_tables(
    book: Book, scored: pd.DataFrame, trained: Trained, settings: Settings
) -> dict[str, pd.DataFrame]:
    """score_migration and psi between the previous scoring run and this one.

    The previous run scored, with the previous champion, the loans issued by then.
    """
    from capstone.dashboard_project.queries import band_of

    previous_date = (pd.Timestamp(book.as_of) - pd.DateOffset(months=PREVIOUS_RUN_MONTHS)).date()
    issued_then = (pd.to_datetime(book.loans["issue_date"]).dt.date <= previous_date).to_numpy()
    previous_pd = score_book(trained.previous, trained.features)
    previous_pd = book.loans[["loan_id"]].merge(previous_pd, on="loan_id")["pd"].to_numpy()
    both = issued_then & scored["is_live"].to_numpy()
    from_band = [
        band_of(p, settings.pd_review_from, settings.pd_decline_from) for p in previous_pd[both]
    ]
    migration = (
        pd.DataFrame({"from_band": from_band, "to_band": scored["band"].to_numpy()[both]})
        .value_counts()
        .rename("loans")
        .reset_index()
    )
    rows = [("score", evaluation.psi(previous_pd[issued_then], scored["pd"].to_numpy()))]
    for feature in training.NUMERIC_INPUTS:
        values = pd.to_numeric(trained.features[feature], errors="coerce").to_numpy(dtype=float)
        values = values[~np.isnan(values)] if np.isnan(values).all() else values
        then = values[issued_then]
        rows.append((feature, evaluation.psi(then[~np.isnan(then)], values[~np.isnan(values)])))
    psi = pd.DataFrame(rows, columns=["variable", "psi"])
    psi["status"] = [evaluation.psi_status(v) for v in psi["psi"]]
    return {"score_migration": migration, "psi": psi}


def lineage_tables(
    book: Book, trained: Trained, started: datetime, loans: int, seed: int
) -> dict[str, pd.DataFrame]:
    """model_versions, reconciliation, dbt_tests and dag_runs of this sample run."""
    commit = git_commit()
    lake_id = hashlib.sha256(f"loanbook:{loans}:{seed}".encode()).hexdigest()
    best = max(trained.evaluations, key=lambda n: trained.evaluations[n]["metrics"]["auc"])
    promoted = trained.decision.promote
    versions = pd.DataFrame(
        {
            "version": [2, 1],
            "created_at": [started, started - timedelta(days=1)],
            "model": [best, "scratch_logistic"],
            "aliases": ["champion" if promoted else "challenger", "" if promoted else "champion"],
            "auc": [trained.evaluations[best]["metrics"]["auc"], np.nan],
            "promoted": [promoted, True],
            "decision_reason": [
                trained.decision.reason,
                "first registered model: becomes champion",
            ],
            "lake_snapshot_id": [lake_id, lake_id],
            "dbt_manifest_sha256": [None, None],
            "git_commit": [commit, commit],
            "mlflow_run_id": [None, None],
        }
    )
    n = len(book.loans)
    reconciliation = pd.DataFrame(
        {
            "table_name": ["loans"],
            "raw_rows": [n],
            "parquet_rows": [n],
            "rejected_rows": [0],
            "duplicates_removed": [0],
            "mart": ["loans (sample snapshot)"],
            "mart_rows": [n],
        }
    )
    ids = book.loans["loan_id"]
    checks = {
        "unique_loans_loan_id": int(ids.duplicated().sum()),
        "not_null_loans_issue_date": int(book.loans["issue_date"].isna().sum()),
        "accepted_values_loans_grade": int((~book.loans["grade"].isin(list("ABCDEFG"))).sum()),
    }
    tests = pd.DataFrame(
        {
            "test": list(checks),
            "model": "loans",
            "status": ["pass" if f == 0 else "fail" for f in checks.values()],
            "failures": list(checks.values()),
        }
    )
    runs = pd.DataFrame(
        {
            "dag_id": ["loanbook_daily_etl", "loanbook_risk_model"],
            "run_id": ["sample", "sample"],
            "state": ["success", "success"],
            "logical_date": [pd.Timestamp(book.as_of, tz="UTC")] * 2,
            "start_date": [started - timedelta(minutes=2), started - timedelta(minutes=1)],
            "end_date": [started - timedelta(minutes=1), started],
        }
    )
    return {
        "model_versions": versions,
        "reconciliation": reconciliation,
        "dbt_tests": tests,
        "dag_runs": runs,
    }


def build_and_publish(
    loans: int, seed: int = 42, *, settings: Settings | None = None
) -> serving_snapshot.Snapshot:
    """Generate, train, score and publish one sample snapshot; return it."""
    settings = settings or load_settings()
    started = datetime.now(UTC)
    book = generate_book(loans, seed)
    trained = train(book, seed)
    holdout = holdout_tables(trained)
    scored = scored_loans(book, trained, settings)
    tables = {
        "loans": scored,
        **book_aggregates(book, scored, settings),
        **holdout,
        **monitoring_tables(book, scored, trained, settings),
        **lineage_tables(book, trained, started, loans, seed),
    }
    arrow = {
        name: pa.Table.from_pandas(frame, preserve_index=False) for name, frame in tables.items()
    }
    version = 2 if trained.decision.promote else 1
    return serving_snapshot.publish(
        arrow,
        {"champion_model": trained.champion},
        run_id=f"sample-{loans}-{seed}",
        logical_date=book.as_of.isoformat(),
        model_name=settings.model_name,
        model_version=version,
        extra={"source": "capstone.dashboard_project.sample_snapshot"},
        settings=settings,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m capstone.dashboard_project.sample_snapshot",
        description="Publish a serving snapshot built from a generated loan book (no pipeline).",
    )
    parser.add_argument("--loans", type=int, default=5_000, help="loans in the book")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument("--serving-dir", type=Path, help="where to publish (default: settings)")
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        overrides = {"serving_dir": args.serving_dir} if args.serving_dir else {}
        snap = build_and_publish(args.loans, args.seed, settings=load_settings(**overrides))
        print(snap.folder)
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
