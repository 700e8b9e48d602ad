"""The public API: everything a caller needs, importable from the package itself.

    from Module_4_DataScience_ML.from_scratch_implementations import LogisticRegression, ...

The capstone and the notebooks import from here, so a name that moves between files must keep
working at this address.
"""

from __future__ import annotations

import importlib

import numpy as np
from sklearn.base import BaseEstimator

import Module_4_DataScience_ML.from_scratch_implementations as api

# Where each public name is defined: the re-export must be that very object, not a copy.
HOMES = {
    "decision_trees": ["DecisionTreeClassifier"],
    "k_nearest_neighbors": ["KNeighborsClassifier", "KNeighborsRegressor"],
    "linear_regression": ["LinearRegression"],
    "logistic_regression": ["LogisticRegression"],
    "metrics": [
        "accuracy_score",
        "auc",
        "brier_score_loss",
        "confusion_matrix",
        "f1_score",
        "log_loss",
        "mean_absolute_error",
        "mean_squared_error",
        "precision_score",
        "r2_score",
        "recall_score",
        "roc_auc_score",
        "roc_curve",
        "root_mean_squared_error",
    ],
    "model_selection": ["KFold", "StratifiedKFold", "cross_val_score", "train_test_split"],
}

ESTIMATORS = [
    "DecisionTreeClassifier",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "LinearRegression",
    "LogisticRegression",
]


def test_all_lists_exactly_the_re_exported_names():
    expected = sorted(name for names in HOMES.values() for name in names)
    assert sorted(api.__all__) == expected


def test_each_public_name_is_the_object_defined_in_its_module():
    for module_name, names in HOMES.items():
        module = importlib.import_module(f"{api.__name__}.{module_name}")
        for name in names:
            assert getattr(api, name) is getattr(module, name), f"{name} from {module_name}"


def test_the_names_the_capstone_imports_work_from_the_package():
    from Module_4_DataScience_ML.from_scratch_implementations import (
        DecisionTreeClassifier,
        LogisticRegression,
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )

    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 1, 0, 1, 1])
    for model in (LogisticRegression(), DecisionTreeClassifier(max_depth=2)):
        p = model.fit(X, y).predict_proba(X)[:, 1]
        assert 0.5 < roc_auc_score(y, p) <= 1.0
        assert 0.0 <= brier_score_loss(y, p) < 0.25
        assert log_loss(y, p) > 0.0


def test_every_estimator_is_a_scikit_learn_estimator():
    for name in ESTIMATORS:
        assert issubclass(getattr(api, name), BaseEstimator), name
