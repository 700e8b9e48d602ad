"""The shared standardiser: StandardScaler on lists, and the way back to raw units."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from Module_4_DataScience_ML.from_scratch_implementations.linear_algebra import (
    linear_predictor,
    transpose,
)
from Module_4_DataScience_ML.from_scratch_implementations.preprocessing import (
    Standardizer,
    fit_standardizer,
)


def test_matches_scikit_learns_standard_scaler_on_wine():
    X, _ = load_wine(return_X_y=True)
    rows = X.tolist()
    scaler = fit_standardizer(transpose(rows))
    theirs = StandardScaler().fit(X)
    np.testing.assert_allclose(scaler.means, theirs.mean_, rtol=1e-12)
    np.testing.assert_allclose(scaler.scales, theirs.scale_, rtol=1e-12)
    np.testing.assert_allclose(scaler.transform_rows(rows), theirs.transform(X), atol=1e-12)


def test_rows_and_columns_give_the_same_numbers():
    rows = [[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]]
    scaler = fit_standardizer(transpose(rows))
    assert transpose(scaler.transform_columns(transpose(rows))) == scaler.transform_rows(rows)


def test_a_constant_column_is_shifted_but_not_divided_by_zero():
    scaler = fit_standardizer([[5.0, 5.0, 5.0], [1.0, 2.0, 3.0]])
    assert scaler.means[0] == 5.0
    assert scaler.scales[0] == 1.0
    assert scaler.transform_rows([[5.0, 2.0], [7.0, 2.0]]) == [[0.0, 0.0], [2.0, 0.0]]


def test_without_centring_the_scale_is_the_root_mean_square():
    scaler = fit_standardizer([[3.0, -4.0]], center=False)
    assert scaler.means == [0.0]
    assert scaler.scales == [np.sqrt((9.0 + 16.0) / 2)]


def test_coefficients_fitted_on_z_give_the_same_predictions_in_raw_units():
    rows = [[1.0, 10.0], [2.0, 30.0], [4.0, 20.0], [0.5, 15.0]]
    scaler = fit_standardizer(transpose(rows))
    w, b = [0.7, -1.3], 0.25
    beta, b0 = scaler.to_raw_coefficients(w, b)
    np.testing.assert_allclose(
        linear_predictor(rows, beta, b0), linear_predictor(scaler.transform_rows(rows), w, b)
    )


def test_the_identity_standardizer_leaves_coefficients_alone():
    identity = Standardizer(means=[0.0, 0.0], scales=[1.0, 1.0])
    assert identity.to_raw_coefficients([2.0, -3.0], 0.5) == ([2.0, -3.0], 0.5)
