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
# # 1. Linear regression from scratch vs scikit-learn
#
# Ordinary least squares solves the normal equations $(X_c^\top X_c + \alpha I)\beta = X_c^\top y_c$
# on centred data (pure-Python Gaussian elimination), or walks downhill with batch gradient
# descent. Data: scikit-learn's bundled **diabetes** set (442 patients, 10 standardised
# features, target = disease progression after one year).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn import linear_model
from sklearn.datasets import load_diabetes

from Module_4_DataScience_ML.from_scratch_implementations import LinearRegression, train_test_split
from Module_4_DataScience_ML.from_scratch_implementations import metrics as m

# %%
pd.set_option("display.precision", 4)
pd.set_option("display.width", 120)


def timed(action):
    """(result, wall-clock seconds) of calling action()."""
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


data = load_diabetes(as_frame=True)
X, y = data.data, data.target
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
X_train.shape, X_test.shape

# %% [markdown]
# ## Same split, both libraries: coefficients agree to floating-point noise

# %%
ours, t_ours = timed(lambda: LinearRegression().fit(X_train, y_train))
theirs, t_sk = timed(lambda: linear_model.LinearRegression().fit(X_train, y_train))
coefs = pd.DataFrame(
    {"scratch": ours.coef_, "sklearn": theirs.coef_, "abs diff": abs(ours.coef_ - theirs.coef_)},
    index=X.columns,
)
coefs.loc["(intercept)"] = [
    ours.intercept_,
    theirs.intercept_,
    abs(ours.intercept_ - theirs.intercept_),
]
coefs

# %%
rows = []
for name, model, fit_s in [("scratch", ours, t_ours), ("sklearn", theirs, t_sk)]:
    pred, predict_s = timed(lambda model=model: model.predict(X_test))
    rows.append(
        {
            "model": name,
            "R2": m.r2_score(y_test, pred),
            "RMSE": m.root_mean_squared_error(y_test, pred),
            "MAE": m.mean_absolute_error(y_test, pred),
            "fit ms": 1e3 * fit_s,
            "predict ms": 1e3 * predict_s,
        }
    )
pd.DataFrame(rows).set_index("model")

# %% [markdown]
# ## Residual diagnostics
# Durbin-Watson near 2 means no autocorrelation; the t-values ($\hat\beta_j / \mathrm{SE}_j$)
# flag `bmi`, `bp` and `s5` as the strongest effects, as in the classic analysis.

# %%
d = ours.residual_diagnostics(X_train, y_train)
print(
    f"R2={d.r2:.4f}  adjusted R2={d.adjusted_r2:.4f}  sigma={d.sigma:.2f}  DW={d.durbin_watson:.3f}"
)
pd.DataFrame({"coef": ours.coef_, "std error": d.std_errors, "t": d.t_values}, index=X.columns)

# %%
fitted = ours.predict(X_train)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].scatter(fitted, y_train - fitted, s=10, alpha=0.6)
axes[0].axhline(0, color="k", lw=1)
axes[0].set(
    xlabel="fitted value", ylabel="residual", title="Residuals vs fitted (no funnel, no curve)"
)
axes[1].hist(y_train - fitted, bins=30)
axes[1].set(xlabel="residual", title="Residual distribution")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Gradient descent and the ridge path

# %%
gd = LinearRegression(solver="gd", max_iter=5000).fit(X_train, y_train)
alphas = np.logspace(-3, 3, 25)
path = np.array([LinearRegression(alpha=a).fit(X_train, y_train).coef_ for a in alphas])
sk_path = np.array([linear_model.Ridge(alpha=a).fit(X_train, y_train).coef_ for a in alphas])
print(f"GD: {gd.n_iter_} steps, test R2 {gd.score(X_test, y_test):.4f}", end=" ")
print(f"vs exact {ours.score(X_test, y_test):.4f}")
print(f"ridge path: max |scratch - sklearn| = {abs(path - sk_path).max():.2e}")
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].semilogy(gd.loss_history_)
axes[0].set(xlabel="iteration", ylabel="loss (1/2n RSS)", title="Gradient descent converges")
axes[1].semilogx(alphas, path)
axes[1].set(xlabel="alpha", ylabel="coefficient", title="Ridge shrinks coefficients toward 0")
plt.tight_layout()
plt.show()
