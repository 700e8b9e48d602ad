"""Train/test split and k-fold: sizes, disjointness, coverage, stratification, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from Module_4_DataScience_ML.from_scratch_implementations.linear_regression import (
    LinearRegression,
)
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import (
    KFold,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)


def test_split_sizes_partition_and_keep_types():
    X = np.arange(20).reshape(10, 2)
    y = pd.Series(range(10))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1)
    assert isinstance(X_test, np.ndarray)
    assert isinstance(y_test, pd.Series)
    assert len(X_test) == 3 and len(X_train) == 7
    assert sorted(y_train.tolist() + y_test.tolist()) == list(range(10))
    assert (X_test[:, 0] // 2).tolist() == y_test.tolist()  # rows stay aligned


def test_split_is_deterministic_under_a_seed_and_varies_across_seeds():
    data = list(range(100))
    first = train_test_split(data, random_state=7)
    assert first == train_test_split(data, random_state=7)
    assert first != train_test_split(data, random_state=8)


def test_stratified_split_keeps_class_shares(credit):
    _, y = credit
    _, _, y_train, y_test = train_test_split(
        y.tolist(), y.tolist(), test_size=0.25, random_state=0, stratify=y
    )
    share = y.mean()
    assert abs(np.mean(y_test) - share) < 0.002
    assert abs(np.mean(y_train) - share) < 0.002


def test_unshuffled_split_takes_the_tail():
    assert train_test_split(list(range(8)), test_size=2, shuffle=False) == [
        [0, 1, 2, 3, 4, 5],
        [6, 7],
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"test_size": 1.5}, "fraction"), ({"test_size": 10}, "at least one row")],
)
def test_bad_split_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_test_split(list(range(10)), **kwargs)


def test_mismatched_arrays_are_refused():
    with pytest.raises(ValueError, match="rows"):
        train_test_split([1, 2, 3], [1, 2])


@pytest.mark.parametrize("splitter", [KFold(4), KFold(4, shuffle=True, random_state=3)])
def test_kfold_tests_every_row_exactly_once(splitter):
    X = list(range(10))
    folds = list(splitter.split(X))
    tested = sorted(i for _, test in folds for i in test)
    assert tested == X
    assert sorted(len(test) for _, test in folds) == [2, 2, 3, 3]
    for train, test in folds:
        assert not set(train) & set(test)
        assert len(train) + len(test) == 10


def test_stratified_kfold_balances_classes():
    y = [0] * 30 + [1] * 10
    for _, test in StratifiedKFold(5, shuffle=True, random_state=0).split(y, y):
        assert sorted(y[i] for i in test) == [0] * 6 + [1] * 2


def test_cross_val_score_refits_on_each_fold(diabetes):
    X, y = diabetes
    scores = cross_val_score(LinearRegression(), X, y, cv=KFold(5, shuffle=True, random_state=0))
    assert len(scores) == 5
    assert 0.3 < np.mean(scores) < 0.6  # OLS on diabetes: out-of-fold R² ≈ 0.48
    assert len(set(scores)) == 5
