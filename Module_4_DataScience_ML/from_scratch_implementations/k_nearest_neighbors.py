"""k-nearest neighbours from scratch: brute force and a KD-tree, classifier and regressor.

A query point gets the labels (or values) of its k closest training points under Euclidean
distance d(a, b) = √Σ_j (a_j - b_j)². Neighbours are ranked by (distance, training index), so
equidistant points resolve to the earlier training row: both search methods return exactly
the same neighbours. Vote ties resolve to the smallest class label (scikit-learn's rule) or,
with ``tie_break="nearest"``, by dropping the farthest neighbour until the tie breaks (the
book's rule).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from . import _validation as v
from .linear_algebra import Matrix, Vector, transpose
from .metrics import accuracy_score, r2_score
from .preprocessing import fit_standardizer

Neighbour = tuple[float, int]  # (distance, training index)
Weights = Literal["uniform", "distance"]
Algorithm = Literal["auto", "kd_tree", "brute"]


# --- brute force ----------------------------------------------------------------------------


def brute_force_neighbours(points: Matrix, query: Vector, k: int) -> list[Neighbour]:
    """The k smallest (d(query, x_i), i) pairs by scanning every training point: O(n p)."""
    distances = map(math.dist, repeat(query), points)
    return heapq.nsmallest(k, zip(distances, range(len(points)), strict=True))


# --- KD-tree --------------------------------------------------------------------------------


@dataclass(slots=True)
class KDNode:
    """Internal node: split on ``axis`` at ``value`` (left ≤ value ≤ right); leaf: ``indices``."""

    axis: int = -1
    value: float = 0.0
    left: KDNode | None = None
    right: KDNode | None = None
    indices: list[int] | None = None
    points: Matrix | None = None


def build_kd_tree(points: Matrix, leaf_size: int = 16) -> KDNode:
    """Split recursively at the median of the widest coordinate until ≤ leaf_size points.

    Depth is about log2(n / leaf_size), so recursion is safe here. Build cost O(n log² n)
    (a sort per node).
    """

    def build(indices: list[int]) -> KDNode:
        if len(indices) <= leaf_size:
            return KDNode(indices=indices, points=[points[i] for i in indices])
        p = len(points[0])
        spreads = []
        for axis in range(p):
            values = [points[i][axis] for i in indices]
            spreads.append(max(values) - min(values))
        axis = max(range(p), key=spreads.__getitem__)
        if spreads[axis] == 0:  # all points identical: nothing to split
            return KDNode(indices=indices, points=[points[i] for i in indices])
        ordered = sorted(indices, key=lambda i: points[i][axis])
        middle = len(ordered) // 2
        value = points[ordered[middle]][axis]
        return KDNode(
            axis=axis, value=value, left=build(ordered[:middle]), right=build(ordered[middle:])
        )

    return build(list(range(len(points))))


def kd_tree_neighbours(root: KDNode, query: Vector, k: int) -> list[Neighbour]:
    """The k nearest (distance, index) pairs, pruning subtrees that cannot contain them.

    A max-heap keyed by (-d, -i) holds the current best k; a subtree on the far side of a
    splitting plane is skipped when the plane is farther than the current k-th neighbour.
    """
    heap: list[tuple[float, int]] = []
    stack: list[tuple[KDNode, float]] = [(root, 0.0)]
    while stack:
        node, bound = stack.pop()
        if len(heap) == k and bound > -heap[0][0]:
            continue
        if node.indices is not None:
            assert node.points is not None
            for d, i in zip(map(math.dist, repeat(query), node.points), node.indices, strict=True):
                if len(heap) < k:
                    heapq.heappush(heap, (-d, -i))
                elif (-d, -i) > heap[0]:  # (d, i) ranks before the current k-th neighbour
                    heapq.heapreplace(heap, (-d, -i))
            continue
        diff = query[node.axis] - node.value
        near, far = (node.left, node.right) if diff <= 0 else (node.right, node.left)
        assert near is not None and far is not None
        stack.append((far, abs(diff)))  # popped last: the near side usually tightens the heap
        stack.append((near, bound))
    return sorted((-nd, -ni) for nd, ni in heap)


# --- voting and averaging -------------------------------------------------------------------


def neighbour_weights(distances: list[float], weights: Weights) -> list[float]:
    """Uniform: w = 1. Distance: w = 1/d; if some d = 0, those exact matches get w = 1, rest 0."""
    if weights == "uniform":
        return [1.0] * len(distances)
    if any(d == 0.0 for d in distances):
        return [1.0 if d == 0.0 else 0.0 for d in distances]
    return [1.0 / d for d in distances]


def class_weights(labels: list[int], w: list[float], n_classes: int) -> list[float]:
    """Total weight per class index."""
    totals = [0.0] * n_classes
    for label, weight in zip(labels, w, strict=True):
        totals[label] += weight
    return totals


def majority_vote(labels: list[int], w: list[float], n_classes: int, tie_break: str) -> int:
    """Class index with the largest total weight.

    "smallest_label": ties go to the smallest class index (what scikit-learn does).
    "nearest": drop the farthest neighbour and vote again until one class leads (the book).
    """
    while True:
        totals = class_weights(labels, w, n_classes)
        best = max(totals)
        winners = [c for c, total in enumerate(totals) if total == best]
        if len(winners) == 1 or tie_break == "smallest_label" or len(labels) == 1:
            return winners[0]
        labels, w = labels[:-1], w[:-1]


# --- estimators -----------------------------------------------------------------------------


class _KNNBase(BaseEstimator):
    def __init__(
        self,
        n_neighbors: int = 5,
        weights: Weights = "uniform",
        algorithm: Algorithm = "auto",
        leaf_size: int = 16,
        scale: bool = False,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.scale = scale

    def _fit_points(self, rows: Matrix) -> None:
        if not isinstance(self.n_neighbors, int) or self.n_neighbors < 1:
            raise ValueError(f"n_neighbors={self.n_neighbors!r} must be a positive integer.")
        if self.weights not in ("uniform", "distance"):
            raise ValueError(f"weights={self.weights!r} is unknown: use 'uniform' or 'distance'.")
        if self.algorithm not in ("auto", "kd_tree", "brute"):
            raise ValueError(f"algorithm={self.algorithm!r}: use 'auto', 'kd_tree' or 'brute'.")
        if self.n_neighbors > len(rows):
            raise ValueError(
                f"n_neighbors={self.n_neighbors} is larger than n_samples={len(rows)}: "
                "lower n_neighbors or pass more training rows."
            )
        if self.scale:
            self._standardizer = fit_standardizer(transpose(rows))
            rows = self._standardizer.transform_rows(rows)
        self._points = rows
        # KD-trees lose their edge in high dimension (every leaf is near the query).
        use_tree = self.algorithm == "kd_tree" or (self.algorithm == "auto" and len(rows[0]) <= 15)
        self._tree = build_kd_tree(rows, self.leaf_size) if use_tree else None
        self.effective_algorithm_ = "kd_tree" if use_tree else "brute"

    def kneighbors(self, X: Any) -> list[list[Neighbour]]:
        """For each row of X, its k nearest training rows as (distance, index), nearest first."""
        rows = v.predict_input(self, X, fitted_attribute="effective_algorithm_")
        if self.scale:
            rows = self._standardizer.transform_rows(rows)
        k = self.n_neighbors
        if self._tree is not None:
            return [kd_tree_neighbours(self._tree, q, k) for q in rows]
        return [brute_force_neighbours(self._points, q, k) for q in rows]


class KNeighborsClassifier(ClassifierMixin, _KNNBase):
    """k-NN classifier. Parameters as in scikit-learn, plus:

    scale : standardise features with the training mean and standard deviation first.
    tie_break : "smallest_label" (scikit-learn's rule) or "nearest" (drop the farthest).

    Attributes: classes_, n_features_in_, feature_names_in_, effective_algorithm_.
    """

    def __init__(
        self,
        n_neighbors: int = 5,
        weights: Weights = "uniform",
        algorithm: Algorithm = "auto",
        leaf_size: int = 16,
        scale: bool = False,
        tie_break: Literal["smallest_label", "nearest"] = "smallest_label",
    ) -> None:
        super().__init__(n_neighbors, weights, algorithm, leaf_size, scale)
        self.tie_break = tie_break

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        if self.tie_break not in ("smallest_label", "nearest"):
            raise ValueError(f"tie_break={self.tie_break!r}: use 'smallest_label' or 'nearest'.")
        rows, target = v.fit_input(self, X, y, numeric_target=False)
        classes = v.check_labels(target)
        index = {c: k for k, c in enumerate(classes)}
        self._y = [index[t] for t in target]
        self._classes: list[Hashable] = classes
        self._fit_points(rows)
        self.classes_ = np.asarray(classes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Share of the (weighted) neighbour vote per class, columns in ``classes_`` order."""
        out = []
        n_classes = len(self._classes) if hasattr(self, "_classes") else 0
        for neighbours in self.kneighbors(X):
            w = neighbour_weights([d for d, _ in neighbours], self.weights)
            totals = class_weights([self._y[i] for _, i in neighbours], w, n_classes)
            s = sum(totals)
            out.append([t / s for t in totals])
        return np.asarray(out)

    def predict(self, X: Any) -> np.ndarray:
        labels = []
        for neighbours in self.kneighbors(X):
            w = neighbour_weights([d for d, _ in neighbours], self.weights)
            votes = [self._y[i] for _, i in neighbours]
            winner = majority_vote(votes, w, len(self._classes), self.tie_break)
            labels.append(self._classes[winner])
        return np.asarray(labels)

    def score(self, X: Any, y: Any, sample_weight: None = None) -> float:
        """Accuracy on (X, y)."""
        predictions = self.predict(X)
        return accuracy_score(v.check_target(y, len(predictions), numeric=False), predictions)


class KNeighborsRegressor(RegressorMixin, _KNNBase):
    """k-NN regressor: ŷ = Σ w_i y_i / Σ w_i over the k nearest neighbours."""

    def fit(self, X: Any, y: Any) -> KNeighborsRegressor:
        rows, target = v.fit_input(self, X, y, numeric_target=True)
        self._y = target
        self._fit_points(rows)
        return self

    def predict(self, X: Any) -> np.ndarray:
        out = []
        for neighbours in self.kneighbors(X):
            w = neighbour_weights([d for d, _ in neighbours], self.weights)
            values = [self._y[i] for _, i in neighbours]
            out.append(sum(a * b for a, b in zip(w, values, strict=True)) / sum(w))
        return np.asarray(out)

    def score(self, X: Any, y: Any, sample_weight: None = None) -> float:
        """R² on (X, y)."""
        predictions = self.predict(X)
        return r2_score(v.check_target(y, len(predictions), numeric=True), predictions)
