"""Every estimator refuses bad input with an error that names the problem and the fix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from Module_4_DataScience_ML.from_scratch_implementations.decision_trees import (
    DecisionTreeClassifier,
)
from Module_4_DataScience_ML.from_scratch_implementations.k_nearest_neighbors import (
    KNeighborsClassifier,
    KNeighborsRegressor,
)
from Module_4_DataScience_ML.from_scratch_implementations.linear_regression import (
    LinearRegression,
)
from Module_4_DataScience_ML.from_scratch_implementations.logistic_regression import (
    LogisticRegression,
)

FACTORIES = {
    "linear": lambda: LinearRegression(),
    "knn_classifier": lambda: KNeighborsClassifier(n_neighbors=1),
    "knn_regressor": lambda: KNeighborsRegressor(n_neighbors=1),
    "tree": lambda: DecisionTreeClassifier(),
    "logistic": lambda: LogisticRegression(),
}
CLASSIFIERS = ["knn_classifier", "tree", "logistic"]

GOOD_X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.5]]
GOOD_Y = [0, 1, 0, 1]

BAD_FITS = {
    "nan": ([[0.0, math.nan], *GOOD_X[1:]], GOOD_Y, r"X contains NaN at row 0, column 1"),
    "inf": ([[0.0, 1.0], [math.inf, 0.0], *GOOD_X[2:]], GOOD_Y, r"infinity .*row 1, column 0"),
    "empty": ([], [], r"0 sample\(s\).*X is empty"),
    "no_columns": ([[], [], []], [0, 1, 0], r"0 feature\(s\).*at least one feature"),
    "ragged": ([[0.0, 1.0], [1.0], [2.0, 1.0], [3.0, 0.5]], GOOD_Y, r"ragged: row 1 has 1"),
    "mismatch": (GOOD_X, [0, 1, 0], r"X has 4 rows but y has 3 values"),
    "one_d": ([0.0, 1.0, 2.0, 3.0], GOOD_Y, r"Expected a 2D array.*Reshape your data"),
    "text": ([["a", 1.0], *GOOD_X[1:]], GOOD_Y, r"'a' is not a number"),
    "y_nan": (GOOD_X, [0.0, 1.0, math.nan, 1.0], r"y contains NaN at position 2"),
    "y_none": (GOOD_X, None, r"target y is None"),
    "sparse": (None, GOOD_Y, r"Sparse input is not supported"),
}


@pytest.mark.parametrize("case", sorted(BAD_FITS))
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_bad_training_data_is_refused(name, case):
    X, y, message = BAD_FITS[case]
    if case == "sparse":
        from scipy.sparse import csr_matrix

        X = csr_matrix(np.array(GOOD_X))
    error = TypeError if case == "sparse" else ValueError
    with pytest.raises(error, match=message):
        FACTORIES[name]().fit(X, y)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_predicting_before_fitting_is_refused(name):
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit'"):
        FACTORIES[name]().predict(GOOD_X)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_predicting_with_the_wrong_width_is_refused(name):
    model = FACTORIES[name]().fit(GOOD_X, GOOD_Y)
    with pytest.raises(ValueError, match=r"X has 3 features, but .* is expecting 2"):
        model.predict([[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="contains NaN"):
        model.predict([[0.0, math.nan]])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_a_single_class_is_refused(name):
    with pytest.raises(ValueError, match="only one class is present: y contains only 1"):
        FACTORIES[name]().fit(GOOD_X, [1, 1, 1, 1])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_a_continuous_target_is_refused_by_classifiers(name):
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        FACTORIES[name]().fit(GOOD_X, [0.5, 1.2, 3.3, 0.1])


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (KNeighborsClassifier(n_neighbors=10), "n_neighbors=10 is larger than n_samples=4"),
        (KNeighborsClassifier(weights="cosine"), "weights='cosine' is unknown"),
        (DecisionTreeClassifier(criterion="mse"), "criterion='mse' is unknown"),
        (DecisionTreeClassifier(min_samples_leaf=0), "min_samples_leaf=0 must be >= 1"),
        (DecisionTreeClassifier(categorical_features=[5]), "beyond the 2 columns"),
        (LinearRegression(alpha=-1.0), "alpha=-1.0 must be >= 0"),
        (LinearRegression(solver="svd"), "solver='svd' is unknown"),
        (LogisticRegression(C=0.0), "C=0.0 must be > 0"),
    ],
)
def test_bad_hyper_parameters_are_refused_at_fit(model, message):
    with pytest.raises(ValueError, match=message):
        model.fit(GOOD_X, GOOD_Y)


def test_column_vector_y_warns_and_works():
    from sklearn.exceptions import DataConversionWarning

    with pytest.warns(DataConversionWarning, match="column-vector y"):
        model = LinearRegression().fit(GOOD_X, [[v] for v in [1.0, 2.0, 3.0, 5.0]])
    assert model.predict(GOOD_X).shape == (4,)
