"""The API boundary: turn whatever the caller passed into plain Python lists, or say why not.

Everything behind this module (the algorithms) works on ``list[list[float]]`` and ``list``
targets only. This file is the one place that knows about NumPy arrays, pandas DataFrames,
scikit-learn's exceptions and its ``n_features_in_`` / ``feature_names_in_`` conventions, so
that the estimators pass ``sklearn.utils.estimator_checks`` while the maths stays pure Python.

Every error names the problem and what to do about it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning, NotFittedError

Row = list[Any]


def _is_sparse(X: Any) -> bool:
    return type(X).__module__.startswith("scipy.sparse")


def _feature_names(X: Any) -> list[str] | None:
    """Column names of a DataFrame-like X when they are all strings, else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    if names and all(isinstance(name, str) for name in names):
        return names
    return None


def _names_mismatch_message(fitted: list[str], given: list[str]) -> str:
    # Same wording as scikit-learn so that its column-name consistency check recognises it.
    def listing(names: list[str]) -> str:
        shown = [f"- {name}\n" for name in names[:5]]
        return "".join(shown) + ("- ...\n" if len(names) > 5 else "")

    message = "The feature names should match those that were passed during fit.\n"
    unexpected = sorted(set(given) - set(fitted))
    missing = sorted(set(fitted) - set(given))
    if unexpected:
        message += "Feature names unseen at fit time:\n" + listing(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + listing(missing)
    if not unexpected and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    return message


def _check_names(estimator: Any, X: Any, reset: bool) -> None:
    names = _feature_names(X)
    name = type(estimator).__name__
    if reset:
        if names is not None:
            estimator.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None and names is not None:
        warnings.warn(
            f"X has feature names, but {name} was fitted without feature names",
            UserWarning,
            stacklevel=3,
        )
    elif fitted is not None and names is None:
        warnings.warn(
            f"X does not have valid feature names, but {name} was fitted with feature names",
            UserWarning,
            stacklevel=3,
        )
    elif fitted is not None and names is not None and list(fitted) != names:
        raise ValueError(_names_mismatch_message(list(fitted), names))


def _to_python_rows(X: Any, input_name: str) -> tuple[list[Any], tuple[int, ...] | None]:
    """Return X as a list (of rows, hopefully) plus the array shape when X was array-like."""
    if X is None:
        raise ValueError(
            f"{input_name} is None: pass a 2-D table of shape (n_samples, n_features)."
        )
    if _is_sparse(X):
        raise TypeError(
            f"Sparse input is not supported for {input_name}: these pure-Python models need "
            "dense rows; convert with X.toarray() first."
        )
    if isinstance(X, list | tuple):
        return list(X), None
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        # A DataFrame: object dtype keeps mixed columns (numbers and categories) intact.
        numeric = all(getattr(dtype, "kind", "O") in "biuf" for dtype in X.dtypes)
        array = X.to_numpy() if numeric else X.to_numpy(dtype=object)
    else:
        array = np.asarray(X)
    if array.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported in {input_name}: pass real numbers "
            "(split real and imaginary parts into two features if you need both)."
        )
    return array.tolist(), array.shape


def _expected_2d_message(input_name: str, what: str) -> str:
    return (
        f"Expected a 2D array for {input_name}, got {what} instead. Reshape your data either "
        "using array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) "
        "if it contains a single sample."
    )


def check_rows(
    X: Any,
    *,
    input_name: str = "X",
    categorical: Iterable[int] = (),
) -> list[Row]:
    """Validate a 2-D table and return it as a list of rows of floats.

    Columns listed in ``categorical`` keep their raw (hashable) values; every other value must
    be a finite real number. Raises ``ValueError``/``TypeError`` naming the offending cell.
    """
    rows, shape = _to_python_rows(X, input_name)
    if shape is not None and len(shape) != 2:
        what = "a scalar" if len(shape) == 0 else f"a {len(shape)}D array"
        raise ValueError(_expected_2d_message(input_name, what))
    if not rows:
        n_features = shape[1] if shape is not None else 0
        raise ValueError(
            f"Found array with 0 sample(s) (shape=(0, {n_features})) while a minimum of 1 is "
            f"required. {input_name} is empty: pass at least one row."
        )
    first = rows[0]
    if isinstance(first, str | bytes) or not isinstance(first, Sequence | np.ndarray):
        raise ValueError(_expected_2d_message(input_name, "a 1D sequence of scalars"))
    n_features = len(first)
    if n_features == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape=({len(rows)}, 0)) while a minimum of 1 is "
            f"required. {input_name} has rows but no columns: pass at least one feature."
        )
    categorical_set = set(categorical)
    out: list[Row] = []
    for i, row in enumerate(rows):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray):
            raise ValueError(
                f"{input_name} is ragged: row {i} is {row!r}, not a row of {n_features} values. "
                "Every row needs one value per feature."
            )
        if len(row) != n_features:
            raise ValueError(
                f"{input_name} is ragged: row {i} has {len(row)} values but row 0 has "
                f"{n_features}. Every row needs one value per feature; pad or drop rows."
            )
        clean: Row = []
        for j, value in enumerate(row):
            if j in categorical_set:
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    raise ValueError(
                        f"{input_name} contains a missing (NaN/None) category at row {i}, "
                        f"column {j}: fill it with an explicit level such as 'missing'."
                    )
                clean.append(value)
                continue
            if isinstance(value, complex):
                raise ValueError(f"Complex data not supported in {input_name} (row {i}, col {j}).")
            if isinstance(value, str):
                try:
                    number = float(value)
                except ValueError:
                    raise ValueError(
                        f"{input_name}[{i}][{j}] = {value!r} is not a number: encode "
                        "categorical columns first (or, for the decision tree, list the "
                        "column in categorical_features)."
                    ) from None
            else:
                number = float(value)  # TypeError for dicts etc.: message names the type
            if not math.isfinite(number):
                kind = "NaN" if math.isnan(number) else "infinity (inf)"
                raise ValueError(
                    f"{input_name} contains {kind} at row {i}, column {j}: impute or drop "
                    "missing/infinite values before calling this model."
                )
            clean.append(number)
        out.append(clean)
    return out


def check_target(y: Any, n_samples: int, *, numeric: bool) -> list[Any]:
    """Validate y: 1-D, one value per row, finite when numeric. Returns a plain list."""
    if y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None: "
            "pass one target value per row of X."
        )
    if _is_sparse(y):
        raise TypeError("Sparse y is not supported: pass a dense 1-D sequence.")
    if isinstance(y, list | tuple):
        values = list(y)
        if values and all(isinstance(v, list | tuple) and len(v) == 1 for v in values):
            values = [v[0] for v in values]
            _warn_column_vector()
        elif any(isinstance(v, list | tuple) for v in values):
            raise ValueError("y should be a 1d array: pass one target value per row.")
    else:
        array = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if array.ndim == 2 and array.shape[1] == 1:
            _warn_column_vector()
            array = array.ravel()
        if array.ndim != 1:
            raise ValueError(
                f"y should be a 1d array, got an array of shape {array.shape} instead: "
                "these models predict a single target."
            )
        values = array.tolist()
    if len(values) != n_samples:
        raise ValueError(
            f"X has {n_samples} rows but y has {len(values)} values: they must have the same "
            "length (one target per row)."
        )
    for i, value in enumerate(values):
        if value is None:
            raise ValueError(f"y contains a missing value (None) at position {i}: drop the row.")
        if isinstance(value, float) and not math.isfinite(value):
            kind = "NaN" if math.isnan(value) else "infinity (inf)"
            raise ValueError(f"y contains {kind} at position {i}: drop or fix that row.")
    if numeric:
        try:
            return [float(v) for v in values]
        except (TypeError, ValueError):
            raise ValueError(
                "y must be numeric for a regressor; use the classifier for labels."
            ) from None
    return values


def _warn_column_vector() -> None:
    warnings.warn(
        "A column-vector y was passed when a 1d array was expected. Please change the shape "
        "of y to (n_samples, ), for example using ravel().",
        DataConversionWarning,
        stacklevel=4,
    )


def check_labels(y: list[Any]) -> list[Any]:
    """Return the sorted distinct class labels, refusing continuous or single-class targets."""
    if any(isinstance(v, float) and not v.is_integer() for v in y):
        raise ValueError(
            "Unknown label type: continuous. A classifier needs discrete labels; "
            "use a regressor for a continuous target, or bin it first."
        )
    try:
        classes = sorted(set(y))
    except TypeError:
        raise ValueError(
            "y mixes label types that cannot be ordered (for example str and int): "
            "use one type for all labels."
        ) from None
    if len(classes) < 2:
        raise ValueError(
            f"Classifier can't train when only one class is present: y contains only "
            f"{classes[0]!r}. Need at least 2 classes (one class cannot be told apart)."
        )
    return classes


def fit_input(
    estimator: Any, X: Any, y: Any, *, numeric_target: bool, categorical: Iterable[int] = ()
) -> tuple[list[Row], list[Any]]:
    """Validate X and y at fit time and record ``n_features_in_``/``feature_names_in_``."""
    rows = check_rows(X, categorical=categorical)
    target = check_target(y, len(rows), numeric=numeric_target)
    _check_names(estimator, X, reset=True)
    estimator.n_features_in_ = len(rows[0])
    return rows, target


def check_fitted(estimator: Any, attribute: str) -> None:
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


def predict_input(
    estimator: Any, X: Any, *, fitted_attribute: str, categorical: Iterable[int] = ()
) -> list[Row]:
    """Validate X at predict time: fitted first, then same width (and names) as in fit."""
    check_fitted(estimator, fitted_attribute)
    _check_names(estimator, X, reset=False)
    rows = check_rows(X, categorical=categorical)
    expected = estimator.n_features_in_
    if len(rows[0]) != expected:
        raise ValueError(
            f"X has {len(rows[0])} features, but {type(estimator).__name__} is expecting "
            f"{expected} features as input: pass the same columns as in fit."
        )
    return rows
