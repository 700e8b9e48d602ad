"""Small linear-algebra helpers on plain lists (Data Science from Scratch, chapter 4).

A ``Vector`` is ``list[float]``; a ``Matrix`` is a list of rows. Inner loops use
``sum(map(operator.mul, a, b))`` so the multiply-add runs in C while staying pure Python.
"""

from __future__ import annotations

import math
from operator import mul

Vector = list[float]
Matrix = list[list[float]]


class SingularMatrixError(ValueError):
    """Raised by :func:`solve` when the system has no unique solution."""


def dot(v: Vector, w: Vector) -> float:
    """v · w = Σ_i v_i w_i."""
    if len(v) != len(w):
        raise ValueError(f"dot: vectors have different lengths ({len(v)} and {len(w)}).")
    return sum(map(mul, v, w))


def vector_add(v: Vector, w: Vector) -> Vector:
    """(v + w)_i = v_i + w_i."""
    if len(v) != len(w):
        raise ValueError(f"vector_add: lengths differ ({len(v)} and {len(w)}).")
    return [a + b for a, b in zip(v, w, strict=True)]


def vector_subtract(v: Vector, w: Vector) -> Vector:
    """(v - w)_i = v_i - w_i."""
    if len(v) != len(w):
        raise ValueError(f"vector_subtract: lengths differ ({len(v)} and {len(w)}).")
    return [a - b for a, b in zip(v, w, strict=True)]


def scalar_multiply(c: float, v: Vector) -> Vector:
    """(c v)_i = c v_i."""
    return [c * a for a in v]


def vector_mean(vectors: list[Vector]) -> Vector:
    """Component-wise mean: (1/n) Σ_k v_k."""
    n = len(vectors)
    return [sum(column) / n for column in zip(*vectors, strict=True)]


def sum_of_squares(v: Vector) -> float:
    """v · v."""
    return dot(v, v)


def norm(v: Vector) -> float:
    """Euclidean length ‖v‖ = √(v · v)."""
    return math.sqrt(sum_of_squares(v))


def mean(xs: Vector) -> float:
    """x̄ = (1/n) Σ x_i."""
    return sum(xs) / len(xs)


def variance(xs: Vector) -> float:
    """Population variance (1/n) Σ (x_i - x̄)², as scikit-learn's StandardScaler uses."""
    m = mean(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def standard_deviation(xs: Vector) -> float:
    """√variance."""
    return math.sqrt(variance(xs))


def shape(A: Matrix) -> tuple[int, int]:
    """(rows, columns)."""
    return len(A), (len(A[0]) if A else 0)


def transpose(A: Matrix) -> Matrix:
    """(Aᵀ)_ij = A_ji."""
    return [list(column) for column in zip(*A, strict=True)]


def identity(n: int) -> Matrix:
    """I_n: ones on the diagonal."""
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def matmul(A: Matrix, B: Matrix) -> Matrix:
    """(AB)_ij = Σ_k A_ik B_kj."""
    if shape(A)[1] != len(B):
        raise ValueError(f"matmul: shapes {shape(A)} and {shape(B)} are not aligned.")
    columns = transpose(B)
    return [[sum(map(mul, row, column)) for column in columns] for row in A]


def mat_vec(A: Matrix, v: Vector) -> Vector:
    """(Av)_i = Σ_j A_ij v_j."""
    return [sum(map(mul, row, v)) for row in A]


def linear_predictor(rows: Matrix, coef: Vector, intercept: float) -> Vector:
    """η_i = β₀ + Σ_j β_j x_ij for each row: linear regression's prediction, logistic
    regression's log-odds (the "linear predictor" of a generalised linear model)."""
    return [intercept + sum(map(mul, coef, row)) for row in rows]


def gram(columns: Matrix) -> Matrix:
    """XᵀX from X stored column by column: G_jk = Σ_i x_ij x_ik (symmetric, p(p+1)/2 sums)."""
    p = len(columns)
    G = [[0.0] * p for _ in range(p)]
    for j in range(p):
        for k in range(j, p):
            G[j][k] = G[k][j] = sum(map(mul, columns[j], columns[k]))
    return G


def solve(A: Matrix, b: Vector, *, rcond: float = 1e-12) -> Vector:
    """Solve A x = b by Gaussian elimination with partial pivoting.

    Each step swaps in the row with the largest |pivot| (numerical stability), eliminates
    below it, then back-substitutes: x_i = (b_i - Σ_{j>i} U_ij x_j) / U_ii.
    Raises :class:`SingularMatrixError` when a pivot is ≤ rcond · max|A_ij|.
    """
    n = len(A)
    if n == 0 or any(len(row) != n for row in A) or len(b) != n:
        raise ValueError(f"solve: need a square nxn matrix and n values, got {shape(A)}.")
    M = [[float(v) for v in row] + [float(bi)] for row, bi in zip(A, b, strict=True)]
    scale = max(abs(v) for row in A for v in row) or 1.0
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(M[r][col]))
        if abs(M[pivot][col]) <= rcond * scale:
            raise SingularMatrixError(
                f"matrix is singular (pivot {M[pivot][col]:.3g} in column {col})."
            )
        M[col], M[pivot] = M[pivot], M[col]
        pivot_row = M[col]
        for r in range(col + 1, n):
            factor = M[r][col] / pivot_row[col]
            if factor:
                row = M[r]
                for c in range(col, n + 1):
                    row[c] -= factor * pivot_row[c]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        tail = sum(M[i][j] * x[j] for j in range(i + 1, n))
        x[i] = (M[i][n] - tail) / M[i][i]
    return x


def inverse(A: Matrix) -> Matrix:
    """A⁻¹ column by column: solve A x = e_j for each unit vector e_j."""
    n = len(A)
    columns = [solve(A, unit) for unit in identity(n)]
    return transpose(columns)
