"""Logistic regression: AUC parity with scikit-learn, convergence, probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn import metrics as skm

from Module_4_DataScience_ML.from_scratch_implementations.logistic_regression import (
    LogisticRegression,
    log1p_exp,
    sigmoid,
)
from Module_4_DataScience_ML.from_scratch_implementations.metrics import roc_auc_score


@pytest.mark.parametrize("solver", ["gd", "newton"])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_auc_within_0_005_of_sklearn(cancer_split, credit_split, solver, C):
    for X_train, X_test, y_train, y_test in (cancer_split, credit_split):
        ours = LogisticRegression(C=C, solver=solver).fit(X_train, y_train)
        theirs = sk.LogisticRegression(C=C, max_iter=5000).fit(X_train, y_train)
        auc_ours = roc_auc_score(y_test, ours.predict_proba(X_test)[:, 1])
        auc_theirs = skm.roc_auc_score(y_test, theirs.predict_proba(X_test)[:, 1])
        assert abs(auc_ours - auc_theirs) < 0.005


def test_newton_reaches_sklearn_coefficients(credit_split):
    # Same objective (data already standardised), so the minimiser must agree closely.
    X_train, X_test, y_train, _ = credit_split
    ours = LogisticRegression(solver="newton", tol=1e-10).fit(X_train, y_train)
    theirs = sk.LogisticRegression(max_iter=10_000, tol=1e-10).fit(X_train, y_train)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test), atol=1e-5)


def test_gradient_descent_decreases_the_loss_and_agrees_with_newton(cancer_split):
    X_train, X_test, y_train, _ = cancer_split
    gd = LogisticRegression(solver="gd", tol=1e-7, max_iter=5000).fit(X_train, y_train)
    newton = LogisticRegression(solver="newton").fit(X_train, y_train)
    assert gd.loss_history_[-1] < gd.loss_history_[0]
    assert gd.loss_history_[-1] == pytest.approx(newton.loss_history_[-1], abs=1e-6)
    np.testing.assert_allclose(
        gd.predict_proba(X_test)[:, 1], newton.predict_proba(X_test)[:, 1], atol=1e-3
    )


def test_raw_features_are_standardised_internally(credit):
    # Unscaled credit data (incomes in thousands, flags in 0/1) still converges, and the
    # coefficients come back in raw units: decision_function = intercept + X @ coef.
    X, y = credit
    model = LogisticRegression().fit(X.iloc[:3000], y.iloc[:3000])
    raw = X.iloc[3000:].to_numpy()
    np.testing.assert_allclose(
        model.decision_function(X.iloc[3000:]), model.intercept_[0] + raw @ model.coef_[0]
    )
    assert roc_auc_score(y.iloc[3000:], model.predict_proba(X.iloc[3000:])[:, 1]) > 0.8


def test_probabilities_predictions_and_labels(cancer_split):
    X_train, X_test, y_train, _ = cancer_split
    labels = np.where(y_train == 1, "benign", "malignant")
    model = LogisticRegression().fit(X_train, labels)
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.classes_.tolist() == ["benign", "malignant"]
    expected = np.where(proba[:, 1] > 0.5, "malignant", "benign")
    assert (model.predict(X_test) == expected).all()


def test_deterministic_fit(cancer_split):
    X_train, _, y_train, _ = cancer_split
    a = LogisticRegression().fit(X_train, y_train).coef_
    b = LogisticRegression().fit(X_train, y_train).coef_
    np.testing.assert_array_equal(a, b)


def test_sigmoid_is_stable_at_extremes():
    assert sigmoid(1000.0) == 1.0
    assert sigmoid(-1000.0) == 0.0
    assert sigmoid(0.0) == 0.5
    assert log1p_exp(1000.0) == 1000.0
    assert log1p_exp(-1000.0) == 0.0


def test_multiclass_target_is_refused(wine_split):
    X_train, _, y_train, _ = wine_split
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        LogisticRegression().fit(X_train, y_train)
