"""Splitting data for honest evaluation: train/test split and k-fold cross-validation.

Indices are shuffled with ``random.Random(seed)`` so every split is reproducible. The
functions index lists, NumPy arrays (fancy indexing) and DataFrames/Series (``.iloc``) alike.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any


def _length(data: Any) -> int:
    shape = getattr(data, "shape", None)
    return int(shape[0]) if shape is not None else len(data)


def take(data: Any, indices: list[int]) -> Any:
    """Rows ``indices`` of a list, NumPy array or pandas object, keeping its type."""
    if hasattr(data, "iloc"):
        return data.iloc[indices]
    if hasattr(data, "shape") and hasattr(data, "__getitem__") and not isinstance(data, list):
        return data[indices]
    return [data[i] for i in indices]


def _shuffled(n: int, seed: int | None) -> list[int]:
    indices = list(range(n))
    random.Random(seed).shuffle(indices)
    return indices


def _n_test(n: int, test_size: float | int) -> int:
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size={test_size} must be in (0, 1) as a fraction.")
        n_test = math.ceil(test_size * n)  # scikit-learn rounds the test share up
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(
            f"test_size={test_size} leaves {n - n_test} training and {n_test} test rows out "
            f"of {n}: both sides need at least one row."
        )
    return n_test


def _stratified_test_indices(labels: list[Hashable], n_test: int, seed: int | None) -> list[int]:
    """Pick test rows class by class so each class keeps its share (largest remainders)."""
    by_class: dict[Hashable, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_class[label].append(i)
    rng = random.Random(seed)
    n = len(labels)
    classes = sorted(by_class, key=repr)
    exact = {c: n_test * len(by_class[c]) / n for c in classes}
    quota = {c: math.floor(exact[c]) for c in classes}
    leftover = n_test - sum(quota.values())
    for c in sorted(classes, key=lambda c: (quota[c] - exact[c], repr(c)))[:leftover]:
        quota[c] += 1
    test: list[int] = []
    for c in classes:
        members = by_class[c][:]
        rng.shuffle(members)
        test.extend(members[: quota[c]])
    rng.shuffle(test)
    return test


def train_test_split(
    *arrays: Any,
    test_size: float | int = 0.25,
    random_state: int | None = None,
    shuffle: bool = True,
    stratify: Sequence[Hashable] | None = None,
) -> list[Any]:
    """Split each array into a train part and a test part: returns [a_train, a_test, b_train, ...].

    ``stratify`` (usually y) keeps every class's proportion equal in both parts.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array.")
    n = _length(arrays[0])
    for k, array in enumerate(arrays[1:], start=1):
        if _length(array) != n:
            raise ValueError(
                f"array {k} has {_length(array)} rows but array 0 has {n}: all must match."
            )
    n_test = _n_test(n, test_size)
    if stratify is not None:
        labels = stratify.tolist() if hasattr(stratify, "tolist") else list(stratify)
        test = _stratified_test_indices(labels, n_test, random_state)
        chosen = set(test)
        train = [i for i in _shuffled(n, random_state) if i not in chosen]
    elif shuffle:
        order = _shuffled(n, random_state)
        test, train = order[:n_test], order[n_test:]
    else:
        train, test = list(range(n - n_test)), list(range(n - n_test, n))
    out: list[Any] = []
    for array in arrays:
        out.extend([take(array, train), take(array, test)])
    return out


@dataclass(frozen=True)
class KFold:
    """k-fold cross-validation: split the rows into k folds; each fold is the test set once.

    Fold sizes differ by at most one (the first n mod k folds get one extra row).
    """

    n_splits: int = 5
    shuffle: bool = False
    random_state: int | None = None

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[list[int], list[int]]]:
        n = _length(X)
        if not 2 <= self.n_splits <= n:
            raise ValueError(
                f"n_splits={self.n_splits} must be between 2 and the number of rows ({n})."
            )
        order = _shuffled(n, self.random_state) if self.shuffle else list(range(n))
        start = 0
        for fold in range(self.n_splits):
            size = n // self.n_splits + (1 if fold < n % self.n_splits else 0)
            test = order[start : start + size]
            train = order[:start] + order[start + size :]
            start += size
            yield sorted(train), sorted(test)


@dataclass(frozen=True)
class StratifiedKFold:
    """k-fold where each fold keeps the class proportions of y (rows dealt round-robin)."""

    n_splits: int = 5
    shuffle: bool = False
    random_state: int | None = None

    def split(self, X: Any, y: Any) -> Iterator[tuple[list[int], list[int]]]:
        labels = y.tolist() if hasattr(y, "tolist") else list(y)
        n = len(labels)
        if not 2 <= self.n_splits <= n:
            raise ValueError(f"n_splits={self.n_splits} must be between 2 and {n}.")
        order = _shuffled(n, self.random_state) if self.shuffle else list(range(n))
        folds: list[list[int]] = [[] for _ in range(self.n_splits)]
        by_class: dict[Hashable, list[int]] = defaultdict(list)
        for i in order:
            by_class[labels[i]].append(i)
        slot = 0
        for c in sorted(by_class, key=repr):
            for i in by_class[c]:
                folds[slot % self.n_splits].append(i)
                slot += 1
        for k in range(self.n_splits):
            test = sorted(folds[k])
            chosen = set(test)
            yield [i for i in range(n) if i not in chosen], test


def clone(estimator: Any) -> Any:
    """A fresh, unfitted copy with the same hyper-parameters."""
    return type(estimator)(**estimator.get_params())


def cross_val_score(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    cv: int | KFold | StratifiedKFold = 5,
    scoring: Callable[[Any, Any], float] | None = None,
) -> list[float]:
    """Fit a fresh clone on each training part and score it on the held-out fold.

    ``scoring(y_true, y_pred)`` defaults to ``estimator.score`` (accuracy or R²).
    """
    splitter = KFold(n_splits=cv) if isinstance(cv, int) else cv
    scores: list[float] = []
    for train, test in splitter.split(X, y):
        model = clone(estimator).fit(take(X, train), take(y, train))
        X_test, y_test = take(X, test), take(y, test)
        if scoring is None:
            scores.append(float(model.score(X_test, y_test)))
        else:
            scores.append(float(scoring(y_test, model.predict(X_test))))
    return scores
