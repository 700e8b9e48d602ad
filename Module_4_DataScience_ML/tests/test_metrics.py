"""Every metric equals sklearn.metrics to 1e-9: on real model outputs and on random inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression as SkLogistic

from Module_4_DataScience_ML.from_scratch_implementations import metrics as m

TOL = 1e-9


@pytest.fixture(scope="module")
def cancer_outputs(cancer_split):
    """Real labels, hard predictions and probabilities from a reference model."""
    X_train, X_test, y_train, y_test = cancer_split
    model = SkLogistic(C=0.05, max_iter=2000).fit(X_train, y_train)
    return y_test, model.predict(X_test), model.predict_proba(X_test)[:, 1]


@pytest.fixture(scope="module")
def wine_outputs(wine_split):
    X_train, X_test, y_train, y_test = wine_split
    model = SkLogistic(C=0.01, max_iter=2000).fit(X_train, y_train)
    return y_test, model.predict(X_test), model.predict_proba(X_test)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (m.accuracy_score, skm.accuracy_score),
        (m.precision_score, skm.precision_score),
        (m.recall_score, skm.recall_score),
        (m.f1_score, skm.f1_score),
    ],
)
def test_binary_label_metrics_on_real_predictions(cancer_outputs, ours, theirs):
    y, pred, _ = cancer_outputs
    assert abs(ours(y, pred) - theirs(y, pred)) < TOL


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (m.precision_score, skm.precision_score),
        (m.recall_score, skm.recall_score),
        (m.f1_score, skm.f1_score),
    ],
)
def test_multiclass_averages_on_real_predictions(wine_outputs, ours, theirs, average):
    y, pred, _ = wine_outputs
    assert abs(ours(y, pred, average=average) - theirs(y, pred, average=average)) < TOL


def test_confusion_matrix_on_real_predictions(wine_outputs):
    y, pred, _ = wine_outputs
    assert m.confusion_matrix(y, pred) == skm.confusion_matrix(y, pred).tolist()


def test_probability_metrics_on_real_scores(cancer_outputs):
    y, _, proba = cancer_outputs
    assert abs(m.roc_auc_score(y, proba) - skm.roc_auc_score(y, proba)) < TOL
    assert abs(m.log_loss(y, proba) - skm.log_loss(y, proba)) < TOL
    assert abs(m.brier_score_loss(y, proba) - skm.brier_score_loss(y, proba)) < TOL
    ours, theirs = m.roc_curve(y, proba), skm.roc_curve(y, proba)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


def test_multiclass_log_loss_on_real_probabilities(wine_outputs):
    y, _, proba = wine_outputs
    assert abs(m.log_loss(y, proba.tolist()) - skm.log_loss(y, proba)) < TOL


def test_regression_metrics_on_real_predictions(diabetes):
    X, y = diabetes
    pred = X @ np.linspace(-300, 500, X.shape[1]) + y.mean()
    pairs = [
        (m.mean_absolute_error, skm.mean_absolute_error),
        (m.mean_squared_error, skm.mean_squared_error),
        (m.root_mean_squared_error, skm.root_mean_squared_error),
        (m.r2_score, skm.r2_score),
    ]
    for ours, theirs in pairs:
        assert abs(ours(y, pred) - theirs(y, pred)) < TOL * max(1.0, abs(theirs(y, pred)))


# --- property-based: random inputs, same answers as scikit-learn ----------------------------

labels = st.lists(st.integers(0, 1), min_size=2, max_size=60)


@st.composite
def binary_scores(draw):
    y = draw(labels)
    assume(0 < sum(y) < len(y))  # ROC needs both classes
    # Few distinct values so ties between scores are common (the tricky case).
    scores = draw(
        st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]), min_size=len(y),
                 max_size=len(y))
    )  # fmt: skip
    return y, scores


@st.composite
def label_pairs(draw):
    y = draw(st.lists(st.integers(0, 3), min_size=1, max_size=60))
    pred = draw(st.lists(st.integers(0, 3), min_size=len(y), max_size=len(y)))
    return y, pred


@given(binary_scores())
@settings(max_examples=150, deadline=None)
def test_roc_and_probability_metrics_match_sklearn(data):
    y, scores = data
    assert abs(m.roc_auc_score(y, scores) - skm.roc_auc_score(y, scores)) < TOL
    for a, b in zip(m.roc_curve(y, scores), skm.roc_curve(y, scores), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
    assert abs(m.brier_score_loss(y, scores) - skm.brier_score_loss(y, scores)) < TOL
    assert abs(m.log_loss(y, scores) - skm.log_loss(y, scores)) < 1e-7  # clipped logs


@given(binary_scores())
@settings(max_examples=80, deadline=None)
def test_auc_flips_when_scores_are_negated(data):
    y, scores = data
    assert m.roc_auc_score(y, scores) + m.roc_auc_score(y, [-s for s in scores]) == (
        pytest.approx(1.0, abs=TOL)
    )


@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@given(label_pairs())
@settings(max_examples=150, deadline=None)
def test_label_metrics_match_sklearn(data):
    y, pred = data
    assert abs(m.accuracy_score(y, pred) - skm.accuracy_score(y, pred)) < TOL
    assert m.confusion_matrix(y, pred) == skm.confusion_matrix(y, pred).tolist()
    for average in ("macro", "micro", "weighted"):
        for ours, theirs in [
            (m.precision_score, skm.precision_score),
            (m.recall_score, skm.recall_score),
            (m.f1_score, skm.f1_score),
        ]:
            expected = theirs(y, pred, average=average, zero_division=0.0)
            assert abs(ours(y, pred, average=average) - expected) < TOL


@given(label_pairs())
@settings(max_examples=80, deadline=None)
def test_confusion_matrix_counts_every_sample_once(data):
    y, pred = data
    matrix = m.confusion_matrix(y, pred)
    assert sum(map(sum, matrix)) == len(y)
    assert sum(matrix[i][i] for i in range(len(matrix))) == sum(
        a == b for a, b in zip(y, pred, strict=True)
    )


@given(
    st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=50).flatmap(
        lambda y: st.tuples(
            st.just(y), st.lists(st.floats(-1e4, 1e4), min_size=len(y), max_size=len(y))
        )
    )
)
# found by hypothesis: a near-zero variance makes R² overflow to -inf in both implementations
@example(([0.0, 1.7e-158], [0.0, 1.0]))
@settings(max_examples=150, deadline=None)
def test_regression_metrics_match_sklearn(data):
    y, pred = data
    for ours, theirs in [
        (m.mean_absolute_error, skm.mean_absolute_error),
        (m.mean_squared_error, skm.mean_squared_error),
        (m.root_mean_squared_error, skm.root_mean_squared_error),
        (m.r2_score, skm.r2_score),
    ]:
        expected, got = theirs(y, pred), ours(y, pred)
        if math.isinf(expected):
            assert got == expected  # the same overflow, not a tolerance question
        else:
            assert abs(got - expected) <= TOL * max(1.0, abs(expected))
    assert m.mean_squared_error(y, pred) >= 0
    assert m.r2_score(y, pred) <= 1.0


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: m.accuracy_score([], []), "empty"),
        (lambda: m.accuracy_score([1, 0], [1]), "one prediction per sample"),
        (lambda: m.roc_auc_score([1, 1, 1], [0.2, 0.4, 0.9]), "both classes"),
        (lambda: m.roc_auc_score(["a", "b"], [0.2, 0.4]), "pos_label"),
        (lambda: m.roc_auc_score([0, 1], [0.2, float("nan")]), "NaN"),
        (lambda: m.mean_squared_error([1.0, float("inf")], [1.0, 2.0]), "infinity"),
        (lambda: m.precision_score([0, 1, 2], [0, 1, 2]), "average='binary'"),
        (lambda: m.brier_score_loss([0, 1], [0.5, 1.5]), r"\[0, 1\]"),
        (lambda: m.log_loss([0, 1, 2], [0.1, 0.2, 0.3]), "one column per class"),
    ],
)
def test_bad_metric_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_string_labels_with_pos_label():
    y = ["good", "bad", "bad", "good"]
    score = [0.1, 0.8, 0.4, 0.3]
    assert m.roc_auc_score(y, score, pos_label="bad") == skm.roc_auc_score(
        [1 if t == "bad" else 0 for t in y], score
    )
    assert m.precision_score(y, ["bad", "bad", "good", "good"], pos_label="bad") == 0.5
