"""Feature scaling on plain lists: the one standardiser every model here shares.

Standardising maps each feature to z_j = (x_j - μ_j) / s_j with the training mean μ_j and
population standard deviation s_j (as scikit-learn's ``StandardScaler``). kNN needs it so no
feature dominates the distance by its units alone; gradient descent needs it so one learning
rate suits every feature. Linear models fitted on z map their coefficients back to raw units
with :meth:`Standardizer.to_raw_coefficients`, so callers never see the scaled problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import mul

from .linear_algebra import Matrix, Vector


@dataclass(frozen=True)
class Standardizer:
    """The per-feature shift μ_j and scale s_j learned by :func:`fit_standardizer`."""

    means: Vector
    scales: Vector

    def transform_rows(self, rows: Matrix) -> Matrix:
        """z_ij = (x_ij - μ_j) / s_j for data stored row by row."""
        m, s = self.means, self.scales
        return [[(x - mj) / sj for x, mj, sj in zip(row, m, s, strict=True)] for row in rows]

    def transform_columns(self, columns: Matrix) -> Matrix:
        """The same z, for data stored column by column."""
        return [
            [(x - mj) / sj for x in column]
            for column, mj, sj in zip(columns, self.means, self.scales, strict=True)
        ]

    def to_raw_coefficients(self, w: Vector, b: float) -> tuple[Vector, float]:
        """(β, β₀) with β₀ + βᵀx = b + wᵀz for every x.

        b + Σ_j w_j (x_j - μ_j)/s_j = (b - Σ_j β_j μ_j) + Σ_j β_j x_j with β_j = w_j/s_j.
        """
        beta = [wj / sj for wj, sj in zip(w, self.scales, strict=True)]
        return beta, b - sum(map(mul, beta, self.means))


def fit_standardizer(columns: Matrix, *, center: bool = True) -> Standardizer:
    """Column means and population standard deviations of the training data (columns).

    A constant column gets s = 1 (it is left unscaled rather than divided by zero). With
    ``center=False`` the means are 0 and s_j = √((1/n) Σ x_ij²), for models without an
    intercept, whose data must not be shifted.
    """
    means, scales = [], []
    for column in columns:
        n = len(column)
        m = sum(column) / n if center else 0.0
        s = math.sqrt(sum((x - m) ** 2 for x in column) / n)
        means.append(m)
        scales.append(s if s > 0 else 1.0)
    return Standardizer(means, scales)
