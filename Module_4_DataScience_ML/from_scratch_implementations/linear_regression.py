"""Linear regression from scratch: normal equations, gradient descent, ridge, diagnostics.

Model: y = β₀ + Σ_j β_j x_j + ε. Least squares picks β to minimise Σ_i (y_i - ŷ_i)², plus
alpha Σ_j β_j² for ridge (the intercept is never penalised). Everything below works on lists of
columns; :class:`LinearRegression` is a thin scikit-learn-style wrapper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import mul
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from . import _validation as v
from .linear_algebra import (
    Matrix,
    SingularMatrixError,
    Vector,
    gram,
    inverse,
    linear_predictor,
    solve,
    transpose,
)
from .metrics import r2_score
from .preprocessing import fit_standardizer

Solver = Literal["normal", "gd"]


def center(column: Vector) -> tuple[Vector, float]:
    """Subtract the mean: x - x̄. Returns the centred column and x̄."""
    m = sum(column) / len(column)
    return [x - m for x in column], m


def fit_normal_equations(
    columns: Matrix, y: Vector, *, alpha: float = 0.0, fit_intercept: bool = True
) -> tuple[Vector, float]:
    """Solve (XᵀX + alphaI) β = Xᵀy; with an intercept X and y are centred first.

    Centring removes β₀ from the system (β₀ = ȳ - Σ_j β_j x̄_j afterwards) and makes XᵀX far
    better conditioned than appending a column of ones.
    """
    if fit_intercept:
        pairs = [center(column) for column in columns]
        cols = [c for c, _ in pairs]
        means = [m for _, m in pairs]
        yc, y_mean = center(y)
    else:
        cols, means, yc, y_mean = columns, [0.0] * len(columns), y, 0.0
    A = gram(cols)
    for j in range(len(A)):
        A[j][j] += alpha
    b = [sum(map(mul, column, yc)) for column in cols]
    try:
        beta = solve(A, b)
    except SingularMatrixError as err:
        n, p = len(y), len(columns)
        raise ValueError(
            f"XᵀX is singular ({err}) with n_samples={n} and n_features={p}: features are "
            "linearly dependent or there are too few rows. Drop duplicate/constant columns, "
            "add rows, or use ridge (alpha > 0)."
        ) from None
    intercept = y_mean - sum(map(mul, beta, means)) if fit_intercept else 0.0
    return beta, intercept


def fit_gradient_descent(
    columns: Matrix,
    y: Vector,
    *,
    alpha: float = 0.0,
    fit_intercept: bool = True,
    learning_rate: float | None = None,
    max_iter: int = 1000,
    tol: float = 1e-10,
) -> tuple[Vector, float, list[float]]:
    """Batch gradient descent on the standardised problem, then map back to raw units.

    With z_j = (x_j - x̄_j)/s_j the loss L(w) = (1/2n)(‖y_c - Zw‖² + alpha Σ_j (w_j/s_j)²) is the
    same ridge objective (β_j = w_j / s_j), and its gradient is
    ∇L = (1/n)(-Zᵀr + alpha w/s²). Standardising makes one learning rate fit all features. The
    default step is 1/L with L = p + alpha/(n·min s²), an upper bound on the curvature.
    Returns (β, β₀, loss history); stops when the loss improves by less than ``tol``.
    """
    n, p = len(y), len(columns)
    scaler = fit_standardizer(columns, center=fit_intercept)
    scales = scaler.scales
    Z_cols = scaler.transform_columns(columns)
    Z_rows = transpose(Z_cols)
    y_mean = sum(y) / n if fit_intercept else 0.0
    yc = [t - y_mean for t in y]
    penalty = [alpha / (s * s) for s in scales]
    if learning_rate is None:
        learning_rate = 1.0 / (p + max(penalty) / n)
    w = [0.0] * p
    history: list[float] = []
    for _ in range(max_iter):
        residual = [t - sum(map(mul, w, row)) for t, row in zip(yc, Z_rows, strict=True)]
        loss = (
            sum(r * r for r in residual)
            + sum(q * wj * wj for q, wj in zip(penalty, w, strict=True))
        ) / (2 * n)
        history.append(loss)
        if len(history) > 1 and history[-2] - loss < tol * max(1.0, history[-2]):
            break
        gradient = [
            (-sum(map(mul, residual, z)) + q * wj) / n
            for z, q, wj in zip(Z_cols, penalty, w, strict=True)
        ]
        w = [wj - learning_rate * g for wj, g in zip(w, gradient, strict=True)]
    # Without an intercept y_mean and the means are 0, so the intercept comes back as 0.0.
    beta, intercept = scaler.to_raw_coefficients(w, y_mean)
    return beta, intercept, history


@dataclass(frozen=True)
class ResidualDiagnostics:
    """Summary of the residuals r = y - ŷ of a fitted linear model.

    ``sigma`` = √(RSS/(n-p-1)) estimates the noise; ``durbin_watson`` = Σ(r_i - r_{i-1})²/RSS
    is near 2 for uncorrelated residuals; ``std_errors`` are √diag(sigma²(X_cᵀX_c)⁻¹) (OLS only).
    """

    n_samples: int
    n_features: int
    rss: float
    r2: float
    adjusted_r2: float
    sigma: float
    mean_residual: float
    max_abs_residual: float
    durbin_watson: float
    std_errors: list[float] | None
    t_values: list[float] | None


def residual_diagnostics(
    rows: Matrix, y: Vector, beta: Vector, intercept: float
) -> ResidualDiagnostics:
    """Diagnostics for the fit (β₀, β) on data (rows, y); see :class:`ResidualDiagnostics`."""
    n, p = len(y), len(beta)
    residuals = [t - f for t, f in zip(y, linear_predictor(rows, beta, intercept), strict=True)]
    rss = sum(r * r for r in residuals)
    y_mean = sum(y) / n
    tss = sum((t - y_mean) ** 2 for t in y)
    r2 = 1.0 - rss / tss if tss else (1.0 if rss == 0 else 0.0)
    dof = n - p - 1
    adjusted = 1.0 - (1.0 - r2) * (n - 1) / dof if dof > 0 else math.nan
    sigma = math.sqrt(rss / dof) if dof > 0 else math.nan
    dw = sum((residuals[i] - residuals[i - 1]) ** 2 for i in range(1, n)) / rss if rss else math.nan
    std_errors = t_values = None
    if dof > 0:
        columns = [center(list(c))[0] for c in zip(*rows, strict=True)]
        try:
            cov = inverse(gram(columns))
            std_errors = [math.sqrt(max(sigma**2 * cov[j][j], 0.0)) for j in range(p)]
            t_values = [b / se if se else math.nan for b, se in zip(beta, std_errors, strict=True)]
        except SingularMatrixError:
            pass  # collinear features: standard errors are undefined, leave them out
    return ResidualDiagnostics(
        n_samples=n,
        n_features=p,
        rss=rss,
        r2=r2,
        adjusted_r2=adjusted,
        sigma=sigma,
        mean_residual=sum(residuals) / n,
        max_abs_residual=max(abs(r) for r in residuals),
        durbin_watson=dw,
        std_errors=std_errors,
        t_values=t_values,
    )


class LinearRegression(RegressorMixin, BaseEstimator):
    """Ordinary least squares / ridge regression on pure-Python lists.

    Parameters
    ----------
    solver : "normal" solves the normal equations exactly; "gd" runs batch gradient descent.
    alpha : ridge penalty alpha ≥ 0 on Σ β_j² (0 = plain OLS).
    fit_intercept : learn β₀ (by centring) or force the line through the origin.
    learning_rate, max_iter, tol : gradient-descent settings (ignored by "normal").

    Attributes
    ----------
    coef_, intercept_ : β and β₀. n_features_in_, feature_names_in_ : as in scikit-learn.
    loss_history_ : loss per iteration for "gd" (empty for "normal").
    n_iter_ : gradient-descent steps taken (1 for "normal").
    """

    def __init__(
        self,
        solver: Solver = "normal",
        alpha: float = 0.0,
        fit_intercept: bool = True,
        learning_rate: float | None = None,
        max_iter: int = 1000,
        tol: float = 1e-10,
    ) -> None:
        self.solver = solver
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any) -> LinearRegression:
        if self.solver not in ("normal", "gd"):
            raise ValueError(f"solver={self.solver!r} is unknown: use 'normal' or 'gd'.")
        if self.alpha < 0:
            raise ValueError(f"alpha={self.alpha} must be >= 0 (it is a penalty weight).")
        rows, target = v.fit_input(self, X, y, numeric_target=True)
        columns = transpose(rows)
        if self.solver == "normal":
            beta, b0 = fit_normal_equations(
                columns, target, alpha=self.alpha, fit_intercept=self.fit_intercept
            )
            history: list[float] = []
        else:
            beta, b0, history = fit_gradient_descent(
                columns,
                target,
                alpha=self.alpha,
                fit_intercept=self.fit_intercept,
                learning_rate=self.learning_rate,
                max_iter=self.max_iter,
                tol=self.tol,
            )
        self._beta, self._intercept = beta, b0
        self.coef_ = np.asarray(beta)
        self.intercept_ = b0
        self.loss_history_ = history
        self.n_iter_ = max(1, len(history))  # the direct solve counts as one step
        return self

    def predict(self, X: Any) -> np.ndarray:
        rows = v.predict_input(self, X, fitted_attribute="coef_")
        return np.asarray(linear_predictor(rows, self._beta, self._intercept))

    def score(self, X: Any, y: Any, sample_weight: None = None) -> float:
        """R² of the predictions on (X, y)."""
        predictions = self.predict(X)
        return r2_score(v.check_target(y, len(predictions), numeric=True), predictions)

    def residual_diagnostics(self, X: Any, y: Any) -> ResidualDiagnostics:
        """Residual summary on (X, y): R², adjusted R², sigma, Durbin-Watson, standard errors."""
        rows = v.predict_input(self, X, fitted_attribute="coef_")
        target = v.check_target(y, len(rows), numeric=True)
        return residual_diagnostics(rows, target, self._beta, self._intercept)
