"""Decision trees from scratch: CART (Gini / entropy, numeric and categorical splits).

CART grows a binary tree greedily. At a node holding m rows it picks the split that minimises
the weighted child impurity n_L·I(L) + n_R·I(R), where for class shares p_k

    Gini      I = 1 - Σ_k p_k²
    entropy   I = -Σ_k p_k log₂ p_k

Numeric features: sort the node's rows once by the feature and sweep the cut point left to
right, moving one row at a time from the right child to the left child. The class counts are
updated in O(1) and so is the impurity (through running Σ c² for Gini and Σ c log c for
entropy), so a node costs O(m log m) per feature (the sort) and the whole tree
O(p · n log n · depth).

Categorical features: for two classes, order the categories by their share of the second
class and sweep them the same way; Breiman (1984) showed the best subset split is one of
these prefixes. With more classes, each "category vs the rest" split is tried.

The book's ID3 (multi-way splits on categorical attributes) lives in ``id3.py``.
"""

from __future__ import annotations

import gc
import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, islice
from typing import Any, Literal, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from . import _validation as v
from .metrics import accuracy_score

Criterion = Literal["gini", "entropy"]


# --- impurity -------------------------------------------------------------------------------


def gini(counts: Sequence[int]) -> float:
    """Gini impurity 1 - Σ_k p_k²: the chance two random draws (with replacement) differ."""
    n = sum(counts)
    return 1.0 - sum((c / n) ** 2 for c in counts) if n else 0.0


def entropy(counts: Sequence[int]) -> float:
    """Shannon entropy -Σ_k p_k log₂ p_k in bits (0 for a pure node)."""
    n = sum(counts)
    return -sum(c / n * math.log2(c / n) for c in counts if c) if n else 0.0


IMPURITY = {"gini": gini, "entropy": entropy}


def _xlogx_table(n: int) -> list[float]:
    """c·log₂c for c = 0..n, so the entropy sweep can update Σ c log c by table look-ups."""
    return [0.0] + [c * math.log2(c) for c in range(1, n + 1)]


# --- tree structure -------------------------------------------------------------------------


@dataclass(slots=True)
class TreeNode:
    """A node of a fitted tree. Leaves have ``left is None``.

    Numeric split: a row goes left when x[feature] <= threshold. Categorical split: left when
    x[feature] is in ``left_categories``; categories unseen in training follow the larger
    child (``unseen_left``).
    """

    counts: list[int]
    impurity: float
    depth: int
    feature: int = -1
    threshold: float = math.nan
    left_categories: frozenset[Hashable] | None = None
    unseen_left: bool = True
    left: TreeNode | None = None
    right: TreeNode | None = None

    @property
    def n_samples(self) -> int:
        return sum(self.counts)

    @property
    def is_leaf(self) -> bool:
        return self.left is None

    def goes_left(self, row: Sequence[Any]) -> bool:
        value = row[self.feature]
        if self.left_categories is None:
            return value <= self.threshold
        if value in self.left_categories:
            return True
        return self.unseen_left and value not in self._right_categories

    # Filled in by the builder for categorical splits (to tell "right" from "unseen").
    _right_categories: frozenset[Hashable] = field(default=frozenset())


class Split(NamedTuple):
    cost: float  # weighted child impurity n_L·I(L) + n_R·I(R) (Gini: in count units)
    feature: int
    threshold: float
    left_categories: frozenset[Hashable] | None
    right_categories: frozenset[Hashable] | None
    n_left: int


def _child_cost(left: list[int], right: list[int], criterion: Criterion) -> float:
    impurity = IMPURITY[criterion]
    return sum(left) * impurity(left) + sum(right) * impurity(right)


def best_numeric_split(
    column: list[float],
    y: list[int],
    indices: list[int],
    counts: list[int],
    feature: int,
    criterion: Criterion,
    min_samples_leaf: int,
    xlogx: list[float],
) -> Split | None:
    """One sorted sweep over ``column`` for the node's ``indices`` (see module docstring).

    Gini: n_L·I_L + n_R·I_R = m - S_L/n_L - S_R/n_R with S = Σ_k c_k², and moving one row of
    class k to the left changes S_L by 2c_k + 1 and S_R by -(2c_k - 1).
    Entropy (bits): n·I = n log₂ n - Σ_k c_k log₂ c_k, updated through the xlogx table.
    """
    m = len(indices)
    order = sorted(indices, key=column.__getitem__)
    values = list(map(column.__getitem__, order))
    if values[0] == values[-1]:
        return None  # constant feature in this node
    if criterion == "gini" and len(counts) == 2:
        labels = list(map(y.__getitem__, order))
        return _binary_gini_sweep(values, labels, counts, feature, min_samples_leaf)
    left = [0] * len(counts)
    right = list(counts)
    use_gini = criterion == "gini"
    s_left, s_right = 0.0, float(sum(c * c for c in counts))
    t_left, t_right = 0.0, sum(xlogx[c] for c in counts)
    best_cost, best_pos = math.inf, -1
    for pos in range(m - 1):
        k = y[order[pos]]
        cl, cr = left[k], right[k]
        left[k], right[k] = cl + 1, cr - 1
        if use_gini:
            s_left += 2 * cl + 1
            s_right -= 2 * cr - 1
        else:
            t_left += xlogx[cl + 1] - xlogx[cl]
            t_right += xlogx[cr - 1] - xlogx[cr]
        n_left = pos + 1
        if values[pos + 1] == values[pos] or n_left < min_samples_leaf:
            continue  # cannot cut between equal values; leaf too small
        n_right = m - n_left
        if n_right < min_samples_leaf:
            break
        if use_gini:
            cost = m - s_left / n_left - s_right / n_right
        else:
            cost = xlogx[n_left] - t_left + xlogx[n_right] - t_right
        if cost < best_cost:
            best_cost, best_pos = cost, pos
    if best_pos < 0:
        return None
    lo, hi = values[best_pos], values[best_pos + 1]
    threshold = lo / 2.0 + hi / 2.0  # midpoint; fall back to lo if rounding reaches hi
    if threshold >= hi or not math.isfinite(threshold):
        threshold = lo
    return Split(best_cost, feature, threshold, None, None, best_pos + 1)


def _binary_gini_sweep(
    values: list[float], labels: list[int], counts: list[int], feature: int, min_samples_leaf: int
) -> Split | None:
    """The sweep of :func:`best_numeric_split` for Gini with two classes, on scalar counters.

    With l₁ the class-1 count among the first n_L sorted rows, l₀ = n_L - l₁, r₁ = N₁ - l₁ and
    r₀ = n_R - r₁, the cost of cutting after n_L rows is

        n_L·I_L + n_R·I_R = m - (l₀² + l₁²)/n_L - (r₀² + r₁²)/n_R.

    The squares are exact integers, so the costs are the very floats the general loop gives
    (same expression, same order of operations) and the strict ``<`` keeps the first minimum:
    the tree is unchanged, but each row costs a few integer operations on local names instead
    of list indexing (the sweep is most of the fit time).
    """
    m = len(values)
    total_1 = counts[1]
    first, last = min_samples_leaf, m - min_samples_leaf  # allowed n_left: both leaves big enough
    best_cost, best_n_left = math.inf, -1
    # Running class-1 counts come from ``accumulate`` (in C); the loop sees only allowed cuts.
    left_ones = accumulate(labels[:last], initial=0)
    cuts = zip(
        range(first, last + 1),
        islice(left_ones, first, None),
        values[first - 1 : last],
        values[first : last + 1],
        strict=True,
    )
    for n_left, left_1, value, next_value in cuts:
        if value == next_value:
            continue  # cannot cut between equal values
        n_right = m - n_left
        left_0 = n_left - left_1
        right_1 = total_1 - left_1
        right_0 = n_right - right_1
        cost = (
            m
            - (left_0 * left_0 + left_1 * left_1) / n_left
            - (right_0 * right_0 + right_1 * right_1) / n_right
        )
        if cost < best_cost:
            best_cost, best_n_left = cost, n_left
    if best_n_left < 0:
        return None
    lo, hi = values[best_n_left - 1], values[best_n_left]
    threshold = lo / 2.0 + hi / 2.0  # midpoint; fall back to lo if rounding reaches hi
    if threshold >= hi or not math.isfinite(threshold):
        threshold = lo
    return Split(best_cost, feature, threshold, None, None, best_n_left)


def best_categorical_split(
    column: list[Hashable],
    y: list[int],
    indices: list[int],
    n_classes: int,
    feature: int,
    criterion: Criterion,
    min_samples_leaf: int,
) -> Split | None:
    """Best subset split of a categorical feature (Breiman's ordering for two classes)."""
    per_category: dict[Hashable, list[int]] = defaultdict(lambda: [0] * n_classes)
    for i in indices:
        per_category[column[i]][y[i]] += 1
    if len(per_category) < 2:
        return None
    categories = sorted(per_category, key=repr)  # deterministic base order
    if n_classes == 2:
        categories.sort(key=lambda c: per_category[c][1] / sum(per_category[c]))
        candidates = [categories[:j] for j in range(1, len(categories))]
    else:
        candidates = [[c] for c in categories]
    total = [sum(col) for col in zip(*per_category.values(), strict=True)]
    best: Split | None = None
    for chosen in candidates:
        left = [sum(per_category[c][k] for c in chosen) for k in range(n_classes)]
        right = [t - lft for t, lft in zip(total, left, strict=True)]
        n_left, n_right = sum(left), sum(right)
        if n_left < min_samples_leaf or n_right < min_samples_leaf:
            continue
        cost = _child_cost(left, right, criterion)  # n·I units, as in the numeric sweep
        if best is None or cost < best.cost:
            chosen_set = frozenset(chosen)
            rest = frozenset(c for c in categories if c not in chosen_set)
            best = Split(cost, feature, math.nan, chosen_set, rest, n_left)
    return best


@dataclass
class TreeSettings:
    criterion: Criterion = "gini"
    max_depth: int | None = None
    min_samples_split: int = 2
    min_samples_leaf: int = 1
    min_impurity_decrease: float = 0.0
    categorical: frozenset[int] = frozenset()


def build_tree(
    rows: list[list[Any]], y: list[int], n_classes: int, settings: TreeSettings
) -> tuple[TreeNode, list[float]]:
    """Grow a CART tree; returns (root, unnormalised impurity decrease per feature).

    Iterative, with an explicit stack instead of recursion: an unrestricted tree on noisy data
    can get deeper than Python's recursion limit, and a stack makes the order explicit.
    """
    n, p = len(rows), len(rows[0])
    columns = [list(c) for c in zip(*rows, strict=True)]
    xlogx = _xlogx_table(n)
    impurity = IMPURITY[settings.criterion]
    importances = [0.0] * p

    def counts_of(indices: list[int]) -> list[int]:
        counts = [0] * n_classes
        for i in indices:
            counts[y[i]] += 1
        return counts

    root_counts = counts_of(list(range(n)))
    root = TreeNode(counts=root_counts, impurity=impurity(root_counts), depth=0)
    stack: list[tuple[TreeNode, list[int]]] = [(root, list(range(n)))]
    while stack:
        node, indices = stack.pop()
        m = len(indices)
        if (
            node.impurity <= 1e-12
            or (settings.max_depth is not None and node.depth >= settings.max_depth)
            or m < settings.min_samples_split
            or m < 2 * settings.min_samples_leaf
        ):
            continue
        best: Split | None = None
        for f in range(p):
            if f in settings.categorical:
                split = best_categorical_split(
                    columns[f], y, indices, n_classes, f, settings.criterion,
                    settings.min_samples_leaf,
                )  # fmt: skip
            else:
                split = best_numeric_split(
                    columns[f], y, indices, node.counts, f, settings.criterion,
                    settings.min_samples_leaf, xlogx,
                )  # fmt: skip
            if split is not None and (best is None or split.cost < best.cost - 1e-12):
                best = split  # strict: on a tie the lower feature index wins
        if best is None:
            continue
        column = columns[best.feature]
        if best.left_categories is None:
            left_idx = [i for i in indices if column[i] <= best.threshold]
            right_idx = [i for i in indices if column[i] > best.threshold]
        else:
            left_idx = [i for i in indices if column[i] in best.left_categories]
            right_idx = [i for i in indices if column[i] not in best.left_categories]
        left_counts, right_counts = counts_of(left_idx), counts_of(right_idx)
        left_imp, right_imp = impurity(left_counts), impurity(right_counts)
        # Weighted impurity decrease, as scikit-learn defines it (fractions of all n rows).
        decrease = (m * node.impurity - len(left_idx) * left_imp - len(right_idx) * right_imp) / n
        if decrease + 1e-12 < settings.min_impurity_decrease:
            continue
        importances[best.feature] += decrease
        node.feature = best.feature
        node.threshold = best.threshold
        node.left_categories = best.left_categories
        if best.right_categories is not None:
            node._right_categories = best.right_categories
        node.unseen_left = len(left_idx) >= len(right_idx)
        node.left = TreeNode(left_counts, left_imp, node.depth + 1)
        node.right = TreeNode(right_counts, right_imp, node.depth + 1)
        stack.append((node.right, right_idx))
        stack.append((node.left, left_idx))
    return root, importances


def find_leaf(root: TreeNode, row: Sequence[Any]) -> TreeNode:
    """Follow the splits from the root to the leaf that ``row`` falls into."""
    node = root
    while node.left is not None:
        assert node.right is not None
        node = node.left if node.goes_left(row) else node.right
    return node


def tree_depth(root: TreeNode) -> int:
    """Length of the longest root-to-leaf path."""
    depth, stack = 0, [root]
    while stack:
        node = stack.pop()
        depth = max(depth, node.depth)
        if node.left is not None and node.right is not None:
            stack.extend([node.left, node.right])
    return depth


def count_leaves(root: TreeNode) -> int:
    leaves, stack = 0, [root]
    while stack:
        node = stack.pop()
        if node.left is None or node.right is None:
            leaves += 1
        else:
            stack.extend([node.left, node.right])
    return leaves


def export_text(
    root: TreeNode,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[Any] | None = None,
    decimals: int = 3,
) -> str:
    """A readable dump of the tree, one line per branch, in the style of sklearn's export_text."""
    lines: list[str] = []

    def name(f: int) -> str:
        return str(feature_names[f]) if feature_names is not None else f"feature_{f}"

    def leaf_text(node: TreeNode) -> str:
        k = max(range(len(node.counts)), key=node.counts.__getitem__)
        label = class_names[k] if class_names is not None else k
        return f"class: {label}  (n={node.n_samples}, counts={node.counts})"

    stack: list[tuple[TreeNode, int, str]] = [(root, 0, "")]
    while stack:
        node, depth, header = stack.pop()
        indent = "|   " * depth
        if header:
            lines.append(f"{indent[:-4]}|--- {header}")
        if node.left is None or node.right is None:
            lines.append(f"{indent}|--- {leaf_text(node)}")
            continue
        if node.left_categories is None:
            left_h = f"{name(node.feature)} <= {node.threshold:.{decimals}f}"
            right_h = f"{name(node.feature)} >  {node.threshold:.{decimals}f}"
        else:
            cats = sorted(map(str, node.left_categories))
            left_h = f"{name(node.feature)} in {{{', '.join(cats)}}}"
            right_h = f"{name(node.feature)} not in {{{', '.join(cats)}}}"
        stack.append((node.right, depth + 1, right_h))
        stack.append((node.left, depth + 1, left_h))
    return "\n".join(lines)


# --- estimator ------------------------------------------------------------------------------


class DecisionTreeClassifier(ClassifierMixin, BaseEstimator):
    """CART classifier with scikit-learn's parameter names, plus categorical splits.

    Parameters
    ----------
    criterion : "gini" or "entropy".
    max_depth, min_samples_split, min_samples_leaf, min_impurity_decrease : stopping rules.
    categorical_features : column indices (or DataFrame column names) holding categories;
        those columns may contain strings and are split into category subsets.

    Attributes
    ----------
    classes_, tree_ (root :class:`TreeNode`), feature_importances_, n_features_in_,
    feature_names_in_ (when fitted on a DataFrame with string column names).
    """

    def __init__(
        self,
        criterion: Criterion = "gini",
        max_depth: int | None = None,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        min_impurity_decrease: float = 0.0,
        categorical_features: Sequence[int | str] | None = None,
    ) -> None:
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_impurity_decrease = min_impurity_decrease
        self.categorical_features = categorical_features

    def _categorical_indices(self, X: Any) -> frozenset[int]:
        if not self.categorical_features:
            return frozenset()
        columns = list(getattr(X, "columns", []))
        out = set()
        for item in self.categorical_features:
            if isinstance(item, str):
                if item not in columns:
                    raise ValueError(
                        f"categorical feature {item!r} is not a column of X: pass a DataFrame "
                        "with that column or use an integer index."
                    )
                out.add(columns.index(item))
            else:
                out.add(int(item))
        return frozenset(out)

    def _check_params(self) -> None:
        if self.criterion not in IMPURITY:
            raise ValueError(f"criterion={self.criterion!r} is unknown: use 'gini' or 'entropy'.")
        if self.max_depth is not None and self.max_depth < 1:
            raise ValueError(f"max_depth={self.max_depth} must be None or >= 1.")
        if self.min_samples_split < 2:
            raise ValueError(f"min_samples_split={self.min_samples_split} must be >= 2.")
        if self.min_samples_leaf < 1:
            raise ValueError(f"min_samples_leaf={self.min_samples_leaf} must be >= 1.")

    def fit(self, X: Any, y: Any) -> DecisionTreeClassifier:
        self._check_params()
        categorical = self._categorical_indices(X)
        rows, target = v.fit_input(self, X, y, numeric_target=False, categorical=categorical)
        if any(j >= len(rows[0]) for j in categorical):
            raise ValueError(
                f"categorical_features={self.categorical_features} refers to a column beyond "
                f"the {len(rows[0])} columns of X."
            )
        classes = v.check_labels(target)
        index = {c: k for k, c in enumerate(classes)}
        settings = TreeSettings(
            criterion=self.criterion,
            max_depth=self.max_depth,
            min_samples_split=self.min_samples_split,
            min_samples_leaf=self.min_samples_leaf,
            min_impurity_decrease=self.min_impurity_decrease,
            categorical=categorical,
        )
        # The build allocates millions of short-lived lists but creates no reference cycles;
        # pausing the cyclic garbage collector (restored below) saves repeated full scans of
        # the training rows, which grow with n and bend the n log n curve upwards.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            root, importances = build_tree(rows, [index[t] for t in target], len(classes), settings)
        finally:
            if gc_was_enabled:
                gc.enable()
        total = sum(importances)
        self._categorical = categorical
        self._classes: list[Hashable] = classes
        self.classes_ = np.asarray(classes)
        self.tree_ = root
        self.feature_importances_ = np.asarray(
            [imp / total for imp in importances] if total > 0 else importances
        )
        return self

    def _leaves(self, X: Any) -> list[TreeNode]:
        rows = v.predict_input(
            self, X, fitted_attribute="tree_", categorical=getattr(self, "_categorical", ())
        )
        return [find_leaf(self.tree_, row) for row in rows]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class shares in the leaf each row reaches (columns in ``classes_`` order)."""
        return np.asarray([[c / leaf.n_samples for c in leaf.counts] for leaf in self._leaves(X)])

    def predict(self, X: Any) -> np.ndarray:
        """Majority class of the leaf; ties go to the smallest class (as in scikit-learn)."""
        labels = []
        for leaf in self._leaves(X):
            k = max(range(len(leaf.counts)), key=leaf.counts.__getitem__)
            labels.append(self._classes[k])
        return np.asarray(labels)

    def score(self, X: Any, y: Any, sample_weight: None = None) -> float:
        """Accuracy on (X, y)."""
        predictions = self.predict(X)
        return accuracy_score(v.check_target(y, len(predictions), numeric=False), predictions)

    def get_depth(self) -> int:
        v.check_fitted(self, "tree_")
        return tree_depth(self.tree_)

    def get_n_leaves(self) -> int:
        v.check_fitted(self, "tree_")
        return count_leaves(self.tree_)

    def export_text(self, feature_names: Sequence[str] | None = None, decimals: int = 3) -> str:
        """The fitted tree as indented text (feature names default to ``feature_names_in_``)."""
        v.check_fitted(self, "tree_")
        if feature_names is None and hasattr(self, "feature_names_in_"):
            feature_names = list(self.feature_names_in_)
        return export_text(self.tree_, feature_names, self._classes, decimals)
