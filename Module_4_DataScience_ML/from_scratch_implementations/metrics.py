"""Evaluation metrics from scratch (classification, probabilities, regression).

Each function takes two equal-length sequences (lists, tuples, NumPy arrays or pandas Series
are all turned into lists first) and returns plain Python numbers or lists. The definitions
and edge-case conventions follow ``sklearn.metrics`` so the two agree to 1e-9.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any, Literal

Average = Literal["binary", "macro", "micro", "weighted"]

# float64 machine epsilon: log_loss clips probabilities to [eps, 1 - eps], as scikit-learn does.
_EPS = 2.220446049250313e-16


def _as_list(values: Any, name: str) -> list[Any]:
    if hasattr(values, "tolist"):
        values = values.tolist()
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty: a metric needs at least one sample.")
    return values


def _pair(y_true: Any, y_other: Any, other_name: str) -> tuple[list[Any], list[Any]]:
    truth = _as_list(y_true, "y_true")
    other = _as_list(y_other, other_name)
    if len(truth) != len(other):
        raise ValueError(
            f"y_true has {len(truth)} values but {other_name} has {len(other)}: "
            "pass one prediction per sample."
        )
    return truth, other


def _finite(values: list[Any], name: str) -> list[float]:
    out = [float(v) for v in values]
    if not all(map(math.isfinite, out)):
        raise ValueError(f"{name} contains NaN or infinity: metrics need finite numbers.")
    return out


# --- classification -------------------------------------------------------------------------


def accuracy_score(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Accuracy = (1/n) Σ 1[ŷ_i = y_i]."""
    truth, pred = _pair(y_true, y_pred, "y_pred")
    return sum(t == p for t, p in zip(truth, pred, strict=True)) / len(truth)


def _labels(truth: list[Any], pred: list[Any]) -> list[Any]:
    return sorted(set(truth) | set(pred))


def confusion_matrix(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> list[list[int]]:
    """C[i][j] = number of samples whose true label is labels[i] and predicted label labels[j]."""
    truth, pred = _pair(y_true, y_pred, "y_pred")
    order = list(labels) if labels is not None else _labels(truth, pred)
    position = {label: i for i, label in enumerate(order)}
    matrix = [[0] * len(order) for _ in order]
    for t, p in zip(truth, pred, strict=True):
        if t in position and p in position:
            matrix[position[t]][position[p]] += 1
    return matrix


def _per_label_counts(
    truth: list[Any], pred: list[Any], labels: list[Any]
) -> tuple[list[int], list[int], list[int]]:
    """True positives, predicted positives and actual positives for each label."""
    tp = Counter(t for t, p in zip(truth, pred, strict=True) if t == p)
    predicted = Counter(pred)
    actual = Counter(truth)
    return (
        [tp[label] for label in labels],
        [predicted[label] for label in labels],
        [actual[label] for label in labels],
    )


def _divide(numerator: float, denominator: float, zero_division: float) -> float:
    return numerator / denominator if denominator else zero_division


def _select(
    truth: list[Any], pred: list[Any], average: Average, pos_label: Hashable
) -> tuple[list[Any], list[int], list[int], list[int]]:
    if average == "binary":
        present = set(truth) | set(pred)
        if len(present) > 2:
            raise ValueError(
                f"Target is multiclass ({len(present)} labels) but average='binary': "
                "choose average='macro', 'micro' or 'weighted'."
            )
        if len(present) == 2 and pos_label not in present:
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label: it should be one of "
                f"{sorted(present)}."
            )
        labels = [pos_label]
    else:
        labels = _labels(truth, pred)
    tp, predicted, actual = _per_label_counts(truth, pred, labels)
    if average == "micro":
        return labels, [sum(tp)], [sum(predicted)], [sum(actual)]
    return labels, tp, predicted, actual


def _combine(scores: list[float], support: list[int], average: Average) -> float:
    if average == "weighted":
        total = sum(support)
        return sum(s * w for s, w in zip(scores, support, strict=True)) / total if total else 0.0
    return sum(scores) / len(scores)


def precision_score(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    *,
    average: Average = "binary",
    pos_label: Hashable = 1,
    zero_division: float = 0.0,
) -> float:
    """Precision = TP / (TP + FP): of the predicted positives, the share that are positive.

    ``average``: 'binary' scores ``pos_label`` only; 'macro' is the unweighted mean over
    labels; 'weighted' weights labels by support; 'micro' pools the counts first.
    """
    truth, pred = _pair(y_true, y_pred, "y_pred")
    _, tp, predicted, actual = _select(truth, pred, average, pos_label)
    scores = [_divide(t, p, zero_division) for t, p in zip(tp, predicted, strict=True)]
    return _combine(scores, actual, average)


def recall_score(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    *,
    average: Average = "binary",
    pos_label: Hashable = 1,
    zero_division: float = 0.0,
) -> float:
    """Recall = TP / (TP + FN): of the actual positives, the share that were found."""
    truth, pred = _pair(y_true, y_pred, "y_pred")
    _, tp, _, actual = _select(truth, pred, average, pos_label)
    scores = [_divide(t, a, zero_division) for t, a in zip(tp, actual, strict=True)]
    return _combine(scores, actual, average)


def f1_score(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    *,
    average: Average = "binary",
    pos_label: Hashable = 1,
    zero_division: float = 0.0,
) -> float:
    """F1 = 2PR / (P + R) = 2TP / (2TP + FP + FN), the harmonic mean of precision and recall."""
    truth, pred = _pair(y_true, y_pred, "y_pred")
    _, tp, predicted, actual = _select(truth, pred, average, pos_label)
    scores = [
        _divide(2 * t, p + a, zero_division)  # p + a = 2TP + FP + FN
        for t, p, a in zip(tp, predicted, actual, strict=True)
    ]
    return _combine(scores, actual, average)


# --- ranking and probabilities --------------------------------------------------------------


def _binary_truth(truth: list[Any], pos_label: Hashable | None) -> list[int]:
    labels = set(truth)
    if pos_label is None:
        if labels <= {0, 1} or labels <= {-1, 1}:
            pos_label = 1
        else:
            raise ValueError(
                f"y_true has labels {sorted(labels, key=str)}: pass pos_label= to say which "
                "one is the positive class."
            )
    if len(labels) > 2:
        raise ValueError(f"y_true must be binary for this metric, found {len(labels)} labels.")
    return [1 if t == pos_label else 0 for t in truth]


def roc_curve(
    y_true: Sequence[Hashable],
    y_score: Sequence[float],
    *,
    pos_label: Hashable | None = None,
    drop_intermediate: bool = True,
) -> tuple[list[float], list[float], list[float]]:
    """ROC curve: (FPR, TPR, thresholds) as the decision threshold sweeps down the scores.

    At threshold t, TPR(t) = #{positives with score ≥ t} / P and FPR(t) = #{negatives with
    score ≥ t} / N. The first point is (0, 0) with threshold +inf. With ``drop_intermediate``
    the points that lie on a straight segment are dropped (they do not change the area).
    """
    truth, scores = _pair(y_true, y_score, "y_score")
    positive = _binary_truth(truth, pos_label)
    scores = _finite(scores, "y_score")
    order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
    tps: list[int] = []
    fps: list[int] = []
    thresholds: list[float] = []
    tp = fp = 0
    for rank, i in enumerate(order):
        tp += positive[i]
        fp += 1 - positive[i]
        # A threshold is a distinct score: emit once the last sample with that score is counted.
        if rank == len(order) - 1 or scores[order[rank + 1]] != scores[i]:
            tps.append(tp)
            fps.append(fp)
            thresholds.append(scores[i])
    if tp == 0 or fp == 0:
        raise ValueError(
            "ROC needs both classes in y_true (found only one): the rate of the missing class "
            "is undefined."
        )
    if drop_intermediate and len(fps) > 2:
        # Keep the ends and every point where the curve's slope changes (second difference ≠ 0).
        keep = [0]
        for k in range(1, len(fps) - 1):
            bends_fp = fps[k + 1] - 2 * fps[k] + fps[k - 1]
            bends_tp = tps[k + 1] - 2 * tps[k] + tps[k - 1]
            if bends_fp or bends_tp:
                keep.append(k)
        keep.append(len(fps) - 1)
        tps = [tps[k] for k in keep]
        fps = [fps[k] for k in keep]
        thresholds = [thresholds[k] for k in keep]
    fpr = [0.0] + [f / fp for f in fps]
    tpr = [0.0] + [t / tp for t in tps]
    return fpr, tpr, [math.inf, *thresholds]


def auc(x: Sequence[float], y: Sequence[float]) -> float:
    """Area under a curve by the trapezoid rule: Σ (x_{k+1} - x_k)(y_{k+1} + y_k) / 2."""
    xs, ys = _pair(x, y, "y")
    return sum((xs[k + 1] - xs[k]) * (ys[k + 1] + ys[k]) / 2 for k in range(len(xs) - 1))


def roc_auc_score(
    y_true: Sequence[Hashable], y_score: Sequence[float], *, pos_label: Hashable | None = None
) -> float:
    """ROC AUC: the probability that a random positive scores above a random negative
    (ties count one half), computed as the trapezoid area under :func:`roc_curve`."""
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label)
    return auc(fpr, tpr)


def log_loss(
    y_true: Sequence[Hashable], y_prob: Any, *, labels: Sequence[Hashable] | None = None
) -> float:
    """Cross-entropy: -(1/n) Σ_i Σ_k 1[y_i = k] log p_ik, with p clipped to [eps, 1 - eps].

    ``y_prob`` is either one probability per sample (of the larger label, binary case) or a
    row of probabilities per sample with columns in sorted label order.
    """
    truth, probs = _pair(y_true, y_prob, "y_prob")
    order = list(labels) if labels is not None else sorted(set(truth))
    if probs and not isinstance(probs[0], list | tuple):
        if len(order) > 2:
            raise ValueError(
                "1-D y_prob is only valid for binary targets; pass one column per class."
            )
        if len(order) == 1:
            raise ValueError(
                "y_true contains a single label: pass labels= so the loss knows both classes."
            )
        probs = [[1.0 - float(p), float(p)] for p in probs]
    position = {label: k for k, label in enumerate(order)}
    total = 0.0
    for i, (t, row) in enumerate(zip(truth, probs, strict=True)):
        if len(row) != len(order):
            raise ValueError(
                f"y_prob row {i} has {len(row)} columns but there are {len(order)} labels."
            )
        if t not in position:
            raise ValueError(f"y_true[{i}] = {t!r} is not among the labels {order}.")
        p = min(max(float(row[position[t]]), _EPS), 1.0 - _EPS)
        total -= math.log(p)
    return total / len(truth)


def brier_score_loss(
    y_true: Sequence[Hashable], y_prob: Sequence[float], *, pos_label: Hashable | None = None
) -> float:
    """Brier score = (1/n) Σ (p_i - o_i)², o_i = 1 if sample i is positive else 0."""
    truth, probs = _pair(y_true, y_prob, "y_prob")
    outcome = _binary_truth(truth, pos_label)
    probs = _finite(probs, "y_prob")
    if any(p < 0 or p > 1 for p in probs):
        raise ValueError("y_prob must hold probabilities in [0, 1].")
    return sum((p - o) ** 2 for p, o in zip(probs, outcome, strict=True)) / len(probs)


# --- regression -----------------------------------------------------------------------------


def _numeric_pair(y_true: Any, y_pred: Any) -> tuple[list[float], list[float]]:
    truth, pred = _pair(y_true, y_pred, "y_pred")
    return _finite(truth, "y_true"), _finite(pred, "y_pred")


def mean_absolute_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """MAE = (1/n) Σ |y_i - ŷ_i|."""
    truth, pred = _numeric_pair(y_true, y_pred)
    return sum(abs(t - p) for t, p in zip(truth, pred, strict=True)) / len(truth)


def mean_squared_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """MSE = (1/n) Σ (y_i - ŷ_i)²."""
    truth, pred = _numeric_pair(y_true, y_pred)
    return sum((t - p) ** 2 for t, p in zip(truth, pred, strict=True)) / len(truth)


def root_mean_squared_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """RMSE = √MSE, in the units of y."""
    return math.sqrt(mean_squared_error(y_true, y_pred))


def r2_score(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """R² = 1 - SS_res / SS_tot with SS_res = Σ (y_i - ŷ_i)², SS_tot = Σ (y_i - ȳ)².

    When y is constant (SS_tot = 0) the score is 1.0 for a perfect fit and 0.0 otherwise,
    scikit-learn's ``force_finite`` convention.
    """
    truth, pred = _numeric_pair(y_true, y_pred)
    y_bar = sum(truth) / len(truth)
    ss_res = sum((t - p) ** 2 for t, p in zip(truth, pred, strict=True))
    ss_tot = sum((t - y_bar) ** 2 for t in truth)
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot
