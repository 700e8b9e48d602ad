"""A synthetic feature-mart frame for the risk pipeline's unit tests (no warehouse needed)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

GRADES = ["A", "B", "C", "D", "E"]


#: The synthetic book's newest due date (the as-of date of its labels).
AS_OF = date(2024, 6, 28)


def synthetic_features(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    """Feature-mart rows whose default depends on grade, rate and debt-to-income.

    ``true_pd`` is the lifetime PD; a defaulter's default instalment is drawn the way Module 1's
    generator draws it (``floor(Beta(a, b) * term) + 1``), and ``default_date`` is that
    instalment's month, so ``training.horizon_labels`` applies to this frame as to the book.
    """
    from Module_1_Foundations.datasets.loanbook_generator import DEFAULT_TIMING

    rng = np.random.default_rng(seed)
    grade = rng.choice(GRADES, n)
    rate = rng.uniform(5, 25, n).round(2)
    dti = rng.uniform(0, 40, n).round(2)
    income = rng.uniform(20_000, 150_000, n).round(2)
    amount = rng.uniform(1_000, 40_000, n).round(2)
    logit = -3 + 0.5 * np.array([GRADES.index(g) for g in grade]) + 0.08 * rate + 0.03 * dti
    true_pd = 1 / (1 + np.exp(-logit))
    label = (rng.uniform(size=n) < true_pd).astype(int)
    employment = rng.integers(0, 11, n).astype("float")
    employment[rng.uniform(size=n) < 0.1] = np.nan
    issue = [date(2021, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 1000, n)]
    term = rng.choice([36, 60], n)
    default_at = np.floor(rng.beta(*DEFAULT_TIMING, n) * term).astype(int) + 1
    default_date = [
        pd.Timestamp(day).to_period("M").to_timestamp().date() + pd.DateOffset(months=int(k))
        if hit
        else None
        for day, k, hit in zip(issue, default_at, label == 1, strict=True)
    ]
    return pd.DataFrame(
        {
            "loan_id": [f"L{i:06d}" for i in range(n)],
            "issue_date": issue,
            "loan_amount": amount,
            "term_months": term,
            "interest_rate_pct": rate,
            "installment_amount": (amount / 36).round(2),
            "grade": grade,
            "purpose": rng.choice(["car", "debt_consolidation", "home"], n),
            "annual_income": income,
            "employment_years": employment,
            "debt_to_income_pct": dti,
            "credit_history_months": rng.integers(12, 300, n),
            "delinquencies_2y": rng.integers(0, 3, n),
            "region": rng.choice(["north", "south"], n),
            "home_ownership": rng.choice(["rent", "own", None], n),
            "credit_score": rng.integers(550, 820, n),
            "borrower_age_at_issue": rng.integers(21, 70, n),
            "loan_to_income": (amount / income).round(4),
            "installment_to_income": (amount / 3 / income).round(4),
            "default_label": label,
            "is_label_final": rng.uniform(size=n) < 0.8,
            "last_due_date": AS_OF,
            "default_date": pd.to_datetime(pd.Series(default_date, dtype="object")),
            "true_pd": true_pd,
        }
    )
