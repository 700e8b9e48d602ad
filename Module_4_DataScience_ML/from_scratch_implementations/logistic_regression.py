"""Binary logistic regression from scratch: gradient descent (or Newton) with an L2 penalty.

Model: P(y = 1 | x) = sigma(β₀ + βᵀx) with sigma(z) = 1 / (1 + e^{-z}). Fitting minimises the mean
negative log-likelihood plus a ridge penalty,

    L(β₀, β) = (1/n) Σ_i [log(1 + e^{z_i}) - y_i z_i] + ‖β‖² / (2Cn),

which is scikit-learn's objective C·Σ logloss + ½‖β‖² divided by Cn (same minimiser, same C).
Its gradient is (1/n) Xᵀ(sigma(z) - y) + β/(Cn); its Hessian is
(1/n) Xᵀ diag(sigma(1 - sigma)) X + I/(Cn).
"""

from __future__ import annotations

import math
from operator import mul
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from . import _validation as v
from .linear_algebra import (
    Matrix,
    SingularMatrixError,
    Vector,
    gram,
    linear_predictor,
    solve,
    transpose,
)
from .metrics import accuracy_score
from .preprocessing import Standardizer, fit_standardizer

Solver = Literal["gd", "newton"]


def sigmoid(z: float) -> float:
    """sigma(z) = 1/(1 + e^{-z}), written so that e^{…} never overflows."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def log1p_exp(z: float) -> float:
    """log(1 + e^z) without overflow: z + log(1 + e^{-z}) for z > 0."""
    return z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))


def penalised_loss(z: Vector, y: list[int], w: Vector, reg: float) -> float:
    """(1/n) Σ [log(1 + e^{z_i}) - y_i z_i] + (reg/2)‖w‖², with reg = 1/(Cn)."""
    n = len(y)
    nll = sum(log1p_exp(zi) - yi * zi for zi, yi in zip(z, y, strict=True)) / n
    return nll + 0.5 * reg * sum(wj * wj for wj in w)


def gradient(columns: Matrix, residual: Vector, w: Vector, reg: float) -> tuple[Vector, float]:
    """∂L/∂w_j = (1/n) Σ_i r_i x_ij + reg·w_j and ∂L/∂b = (1/n) Σ_i r_i, with r = sigma(z) - y."""
    n = len(residual)
    grad_w = [
        sum(map(mul, residual, col)) / n + reg * wj for col, wj in zip(columns, w, strict=True)
    ]
    return grad_w, sum(residual) / n


def largest_eigenvalue(A: Matrix, n_iter: int = 50) -> float:
    """Power iteration: λ_max of a symmetric positive semi-definite matrix."""
    x = [1.0] * len(A)
    lam = 0.0
    for _ in range(n_iter):
        y = [sum(map(mul, row, x)) for row in A]
        lam = math.sqrt(sum(t * t for t in y))
        if lam == 0:
            return 0.0
        x = [t / lam for t in y]
    return lam


def fit_gradient_descent(
    rows: Matrix, columns: Matrix, y: list[int], *, C: float, max_iter: int, tol: float
) -> tuple[Vector, float, list[float]]:
    """Nesterov-accelerated gradient descent with step 1/L (L = curvature bound).

    L = λ_max((1/n) X̃ᵀX̃)/4 + 1/(Cn) with X̃ = [1, X], since sigma' ≤ 1/4. Momentum with
    adaptive restart (reset when the loss goes up) keeps the plain-GD idea but converges in
    hundreds rather than tens of thousands of steps. Stops when ‖∇L‖∞ < tol.
    """
    n, p = len(y), len(columns)
    reg = 1.0 / (C * n)
    G = gram([[1.0] * n, *columns])
    L = largest_eigenvalue([[g / n for g in row] for row in G]) / 4.0 + reg
    step = 1.0 / L
    w, b = [0.0] * p, 0.0
    w_prev, b_prev = w, b
    momentum = 1.0
    history: list[float] = []
    for _ in range(max_iter):
        # Look-ahead point of Nesterov's method.
        t_next = (1 + math.sqrt(1 + 4 * momentum * momentum)) / 2
        beta = (momentum - 1) / t_next
        w_look = [wj + beta * (wj - pj) for wj, pj in zip(w, w_prev, strict=True)]
        b_look = b + beta * (b - b_prev)
        z = linear_predictor(rows, w_look, b_look)
        residual = [sigmoid(zi) - yi for zi, yi in zip(z, y, strict=True)]
        grad_w, grad_b = gradient(columns, residual, w_look, reg)
        w_prev, b_prev = w, b
        w = [wj - step * g for wj, g in zip(w_look, grad_w, strict=True)]
        b = b_look - step * grad_b
        momentum = t_next
        loss = penalised_loss(linear_predictor(rows, w, b), y, w, reg)
        if history and loss > history[-1]:
            momentum = 1.0  # restart: the momentum overshot
        history.append(loss)
        if max(abs(grad_b), *map(abs, grad_w)) < tol:
            break
    return w, b, history


def fit_newton(
    rows: Matrix, columns: Matrix, y: list[int], *, C: float, max_iter: int, tol: float
) -> tuple[Vector, float, list[float]]:
    """Newton-Raphson (IRLS): solve H Δ = ∇L and step θ ← θ - Δ; quadratic convergence."""
    n, p = len(y), len(columns)
    reg = 1.0 / (C * n)
    w, b = [0.0] * p, 0.0
    history: list[float] = []
    ones = [1.0] * n
    for _ in range(max_iter):
        z = linear_predictor(rows, w, b)
        prob = [sigmoid(zi) for zi in z]
        history.append(penalised_loss(z, y, w, reg))
        residual = [pi - yi for pi, yi in zip(prob, y, strict=True)]
        grad_w, grad_b = gradient(columns, residual, w, reg)
        weight = [pi * (1 - pi) for pi in prob]
        weighted = [list(map(mul, weight, col)) for col in [ones, *columns]]
        H = [[0.0] * (p + 1) for _ in range(p + 1)]
        for j, wc in enumerate(weighted):
            for k, col in enumerate([ones, *columns][j:], start=j):
                H[j][k] = H[k][j] = sum(map(mul, wc, col)) / n
        for j in range(1, p + 1):
            H[j][j] += reg
        try:
            delta = solve(H, [grad_b, *grad_w])
        except SingularMatrixError:
            raise ValueError(
                "The Hessian is singular (perfectly separable or collinear data without "
                "enough penalty): lower C or use solver='gd'."
            ) from None
        b -= delta[0]
        w = [wj - d for wj, d in zip(w, delta[1:], strict=True)]
        if max(map(abs, delta)) < tol:
            break
    history.append(penalised_loss(linear_predictor(rows, w, b), y, w, reg))
    return w, b, history


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression with an L2 penalty, on pure-Python lists.

    Parameters
    ----------
    C : inverse penalty strength, as in scikit-learn (larger C = weaker penalty).
    solver : "gd" (Nesterov gradient descent, default) or "newton" (IRLS).
    max_iter, tol : stop after max_iter steps or when the gradient (gd) / step (newton) < tol.
    standardize : fit on z-scored features (the penalty then acts on standardised
        coefficients); coef_ is reported back on the original scale either way.

    Attributes: classes_ (2 labels; classes_[1] is the positive class), coef_ (shape (1, p)),
    intercept_ (shape (1,)), n_iter_, loss_history_, n_features_in_, feature_names_in_.
    """

    def __init__(
        self,
        C: float = 1.0,
        solver: Solver = "gd",
        max_iter: int = 1000,
        tol: float = 1e-6,
        standardize: bool = True,
    ) -> None:
        self.C = C
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.standardize = standardize

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X: Any, y: Any) -> LogisticRegression:
        if self.solver not in ("gd", "newton"):
            raise ValueError(f"solver={self.solver!r} is unknown: use 'gd' or 'newton'.")
        if not self.C > 0:
            raise ValueError(f"C={self.C} must be > 0 (it is the inverse penalty strength).")
        rows, target = v.fit_input(self, X, y, numeric_target=False)
        classes = v.check_labels(target)
        if len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"multiclass ({len(classes)} classes): fit one model per class (one-vs-rest)."
            )
        y01 = [1 if t == classes[1] else 0 for t in target]
        columns = transpose(rows)
        if self.standardize:
            scaler = fit_standardizer(columns)
            columns = scaler.transform_columns(columns)
            rows = transpose(columns)
        else:
            p = len(columns)
            scaler = Standardizer(means=[0.0] * p, scales=[1.0] * p)
        fit = fit_gradient_descent if self.solver == "gd" else fit_newton
        w, b, history = fit(rows, columns, y01, C=self.C, max_iter=self.max_iter, tol=self.tol)
        beta, b0 = scaler.to_raw_coefficients(w, b)  # back to raw units
        self._beta, self._b0 = beta, b0
        self._classes = classes
        self.classes_ = np.asarray(classes)
        self.coef_ = np.asarray([beta])
        self.intercept_ = np.asarray([b0])
        self.n_iter_ = len(history)
        self.loss_history_ = history
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The log-odds z = β₀ + βᵀx of the positive class ``classes_[1]``."""
        rows = v.predict_input(self, X, fitted_attribute="coef_")
        return np.asarray(linear_predictor(rows, self._beta, self._b0))

    def predict_proba(self, X: Any) -> np.ndarray:
        """[[P(classes_[0]), P(classes_[1])], ...] with P(classes_[1]) = sigma(z)."""
        out = []
        for z in self.decision_function(X).tolist():
            p = sigmoid(z)
            out.append([1.0 - p, p])
        return np.asarray(out)

    def predict(self, X: Any) -> np.ndarray:
        """classes_[1] where z > 0 (probability above one half), else classes_[0]."""
        scores = self.decision_function(X).tolist()
        return np.asarray([self._classes[1] if z > 0 else self._classes[0] for z in scores])

    def score(self, X: Any, y: Any, sample_weight: None = None) -> float:
        """Accuracy on (X, y)."""
        predictions = self.predict(X)
        return accuracy_score(v.check_target(y, len(predictions), numeric=False), predictions)
