"""OLS, ridge and gradient descent against scikit-learn on the diabetes data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import linear_model as sk

from Module_4_DataScience_ML.from_scratch_implementations.linear_regression import (
    LinearRegression,
)
from Module_4_DataScience_ML.from_scratch_implementations.metrics import r2_score


def test_ols_coefficients_equal_sklearn_to_1e_6(diabetes):
    X, y = diabetes
    ours, theirs = LinearRegression().fit(X, y), sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-6)
    assert abs(ours.intercept_ - theirs.intercept_) < 1e-6
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-6)


def test_ols_without_intercept_equals_sklearn(diabetes):
    X, y = diabetes
    ours = LinearRegression(fit_intercept=False).fit(X, y)
    theirs = sk.LinearRegression(fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-6)
    assert ours.intercept_ == 0.0


@pytest.mark.parametrize("alpha", [0.01, 1.0, 100.0])
def test_ridge_equals_sklearn_ridge(diabetes, alpha):
    X, y = diabetes
    ours, theirs = LinearRegression(alpha=alpha).fit(X, y), sk.Ridge(alpha=alpha).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-6)
    assert abs(ours.intercept_ - theirs.intercept_) < 1e-6


def test_ridge_shrinks_coefficients(diabetes):
    X, y = diabetes
    norms = [np.linalg.norm(LinearRegression(alpha=a).fit(X, y).coef_) for a in (0, 1, 10)]
    assert norms[0] > norms[1] > norms[2]


def test_gradient_descent_converges_to_the_ridge_solution(diabetes):
    X, y = diabetes
    exact = LinearRegression(alpha=1.0).fit(X, y)
    gd = LinearRegression(solver="gd", alpha=1.0, max_iter=3000).fit(X, y)
    assert gd.loss_history_[-1] < gd.loss_history_[0]
    assert all(b <= a + 1e-12 for a, b in zip(gd.loss_history_, gd.loss_history_[1:], strict=False))
    assert abs(gd.score(X, y) - exact.score(X, y)) < 1e-3
    np.testing.assert_allclose(gd.predict(X), exact.predict(X), atol=2.0)


def test_score_is_r2_and_matches_sklearn(diabetes):
    X, y = diabetes
    ours = LinearRegression().fit(X[:300], y[:300])
    theirs = sk.LinearRegression().fit(X[:300], y[:300])
    assert ours.score(X[300:], y[300:]) == pytest.approx(theirs.score(X[300:], y[300:]), abs=1e-9)
    assert ours.score(X[300:], y[300:]) == r2_score(y[300:], ours.predict(X[300:]))


def test_residual_diagnostics_match_textbook_formulas(diabetes):
    X, y = diabetes
    model = LinearRegression().fit(X, y)
    d = model.residual_diagnostics(X, y)
    n, p = X.shape
    residuals = y - model.predict(X)
    assert d.rss == pytest.approx(float(residuals @ residuals))
    assert abs(d.mean_residual) < 1e-9  # OLS with intercept: residuals sum to zero
    assert d.adjusted_r2 == pytest.approx(1 - (1 - d.r2) * (n - 1) / (n - p - 1))
    # Standard errors: sqrt(diag(sigma² (XcᵀXc)⁻¹)), computed independently with NumPy.
    Xc = X - X.mean(axis=0)
    sigma2 = d.rss / (n - p - 1)
    expected = np.sqrt(np.diag(sigma2 * np.linalg.inv(Xc.T @ Xc)))
    np.testing.assert_allclose(d.std_errors, expected, rtol=1e-8)
    assert 1.5 < d.durbin_watson < 2.5  # shuffled rows: no autocorrelation


def test_collinear_features_raise_a_helpful_error():
    X = [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]]
    with pytest.raises(ValueError, match=r"singular.*linearly dependent.*alpha > 0"):
        LinearRegression().fit(X, [1.0, 2.0, 3.0, 4.0])
    ridge = LinearRegression(alpha=1.0).fit(X, [1.0, 2.0, 3.0, 4.0])  # ridge resolves it
    assert np.isfinite(ridge.coef_).all()


def test_lists_and_dataframes_give_the_same_fit(diabetes):
    import pandas as pd

    X, y = diabetes
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    a = LinearRegression().fit(X.tolist(), y.tolist())
    b = LinearRegression().fit(frame, pd.Series(y))
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert list(b.feature_names_in_) == list(frame.columns)
