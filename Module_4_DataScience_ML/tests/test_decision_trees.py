"""CART against scikit-learn, its stopping rules, categorical splits, and n log n growth."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from sklearn import tree as sk
from sklearn.datasets import make_classification

from Module_4_DataScience_ML.from_scratch_implementations.decision_trees import (
    DecisionTreeClassifier,
    TreeNode,
    entropy,
    gini,
)
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import (
    StratifiedKFold,
    take,
)


def nodes(root: TreeNode):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if node.left is not None and node.right is not None:
            stack.extend([node.left, node.right])


def test_impurity_formulas_by_hand():
    assert gini([5, 5]) == 0.5
    assert gini([10, 0]) == 0.0
    assert entropy([5, 5]) == 1.0
    assert entropy([2, 2, 2, 2]) == 2.0
    assert entropy([3, 0]) == 0.0


SETTINGS = [
    {"criterion": "gini", "max_depth": 4},
    {"criterion": "entropy", "max_depth": 4},
    {"criterion": "gini", "max_depth": None, "min_samples_leaf": 5},
    {"criterion": "entropy", "max_depth": 6, "min_samples_split": 20},
]


@pytest.mark.parametrize("params", SETTINGS)
def test_accuracy_within_two_points_of_sklearn_on_credit(credit_split, params):
    X_train, X_test, y_train, y_test = credit_split
    ours = DecisionTreeClassifier(**params).fit(X_train, y_train).score(X_test, y_test)
    theirs = (
        sk.DecisionTreeClassifier(random_state=0, **params)
        .fit(X_train, y_train)
        .score(X_test, y_test)
    )
    assert abs(ours - theirs) <= 0.02


@pytest.mark.parametrize("params", SETTINGS)
def test_cross_validated_accuracy_within_two_points_on_breast_cancer(params):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    ours, theirs = [], []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        Xtr, Xte, ytr, yte = take(X, train), take(X, test), take(y, train), take(y, test)
        ours.append(DecisionTreeClassifier(**params).fit(Xtr, ytr).score(Xte, yte))
        theirs.append(
            sk.DecisionTreeClassifier(random_state=0, **params).fit(Xtr, ytr).score(Xte, yte)
        )
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.02


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_first_split_and_its_impurity_equal_sklearn(cancer_split, credit_split, criterion):
    # The root's best split is unique on these data sets, so both libraries must find the same
    # feature and threshold and the same node statistics (sklearn stores float32 thresholds).
    for X_train, _, y_train, _ in (cancer_split, credit_split):
        ours = DecisionTreeClassifier(criterion=criterion, max_depth=1).fit(X_train, y_train)
        theirs = sk.DecisionTreeClassifier(criterion=criterion, max_depth=1, random_state=0)
        theirs.fit(X_train, y_train)
        assert ours.tree_.feature == theirs.tree_.feature[0]
        assert ours.tree_.threshold == pytest.approx(theirs.tree_.threshold[0], abs=1e-6)
        assert ours.tree_.impurity == pytest.approx(theirs.tree_.impurity[0], abs=1e-12)
        assert ours.tree_.left.impurity == pytest.approx(theirs.tree_.impurity[1], abs=1e-12)


def test_stopping_rules_hold_in_every_node(credit_split):
    X_train, _, y_train, _ = credit_split
    model = DecisionTreeClassifier(max_depth=7, min_samples_leaf=15, min_samples_split=40)
    model.fit(X_train, y_train)
    for node in nodes(model.tree_):
        assert node.depth <= 7
        if node.is_leaf:
            assert node.n_samples >= 15
        else:
            assert node.n_samples >= 40
    assert model.get_depth() == 7


def test_probabilities_and_importances_are_distributions(credit_split):
    X_train, X_test, y_train, _ = credit_split
    model = DecisionTreeClassifier(max_depth=5).fit(X_train, y_train)
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.feature_importances_.sum() == pytest.approx(1.0)
    assert (model.feature_importances_ >= 0).all()
    assert (model.classes_[proba.argmax(axis=1)] == model.predict(X_test)).all()


def test_categorical_split_groups_categories():
    # The label depends on the colour group {red, blue} vs {green, white}: one categorical
    # split separates it perfectly, which no single threshold on a code could do for this order.
    colours = ["red", "green", "blue", "white"] * 25
    X = [[c, float(i % 7)] for i, c in enumerate(colours)]
    y = [1 if c in {"red", "blue"} else 0 for c in colours]
    model = DecisionTreeClassifier(categorical_features=[0]).fit(X, y)
    assert model.get_depth() == 1
    assert model.tree_.left_categories in ({"red", "blue"}, {"green", "white"})
    assert model.predict([["blue", 3.0], ["white", 3.0]]).tolist() == [1, 0]
    # An unseen category follows the larger child instead of failing.
    assert model.predict([["purple", 1.0]]).tolist()[0] in (0, 1)
    assert "feature_0 in {" in model.export_text()


def test_categorical_columns_by_name_on_real_credit_data(credit):
    from Module_4_DataScience_ML.datasets import load_credit

    X, y = load_credit(one_hot=False)
    model = DecisionTreeClassifier(
        max_depth=4, min_samples_leaf=20, categorical_features=["Home", "Marital", "Records", "Job"]
    ).fit(X.iloc[:3500], y.iloc[:3500])
    assert model.score(X.iloc[3500:], y.iloc[3500:]) > 0.72  # majority-class rate is 0.72
    assert "Records in {" in model.export_text() or "Job in {" in model.export_text()


def test_export_text_reads_like_a_tree():
    X = [[0.0], [1.0], [2.0], [3.0]]
    text = DecisionTreeClassifier().fit(X, ["a", "a", "b", "b"]).export_text(["age"])
    assert text.splitlines() == [
        "|--- age <= 1.500",
        "|   |--- class: a  (n=2, counts=[2, 0])",
        "|--- age >  1.500",
        "|   |--- class: b  (n=2, counts=[0, 2])",
    ]


def _fit(n: int) -> tuple[float, int]:
    """(best-of-two CPU seconds, rows scanned) for an unrestricted tree on n noisy rows."""
    X, y = make_classification(
        n_samples=n, n_features=8, n_informative=5, flip_y=0.05, random_state=0
    )
    best = math.inf
    for _ in range(2):
        # CPU time of this process: other jobs on a shared machine inflate wall-clock time.
        start = time.process_time()
        model = DecisionTreeClassifier(min_samples_leaf=5).fit(X, y)
        best = min(best, time.process_time() - start)
    # Every internal node sweeps all its rows once per feature: the work is Σ m over them.
    scanned = sum(node.n_samples for node in nodes(model.tree_) if not node.is_leaf)
    return best, scanned


@pytest.mark.slow
def test_fit_grows_like_n_log_n():
    (t_small, w_small), (t_large, w_large) = _fit(2_500), _fit(40_000)
    work_exponent = math.log(w_large / w_small) / math.log(16)
    time_exponent = math.log(t_large / t_small) / math.log(16)
    print(f"tree exponents: work {work_exponent:.3f}, CPU time {time_exponent:.3f}")
    # The algorithmic claim, deterministic: rows swept grow like n log n (exponent ≈ 1.1-1.2).
    assert work_exponent < 1.3
    # Timing on a shared machine is noisy and adds cache effects (measured 1.25-1.29 here, and
    # scikit-learn's own tree shows ≈1.23 on this data); this bound still catches any O(m²)
    # sweep, which would give an exponent near 2.
    assert time_exponent < 1.45
