"""Matrix helpers: exact small cases plus hypothesis properties against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from Module_4_DataScience_ML.from_scratch_implementations import linear_algebra as la

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def matrices(rows: int, cols: int):
    return st.lists(st.lists(finite, min_size=cols, max_size=cols), min_size=rows, max_size=rows)


@st.composite
def matrix_pair(draw):
    n, k, m = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return draw(matrices(n, k)), draw(matrices(k, m))


@st.composite
def diagonally_dominant_system(draw):
    """A well-conditioned square system: |A_ii| > Σ_j≠i |A_ij| guarantees a unique solution."""
    n = draw(st.integers(1, 6))
    A = draw(matrices(n, n))
    for i in range(n):
        A[i][i] = sum(abs(v) for v in A[i]) + 1.0
    x = draw(st.lists(finite, min_size=n, max_size=n))
    return A, x


def test_small_products_by_hand():
    A = [[1.0, 2.0], [3.0, 4.0]]
    assert la.matmul(A, la.identity(2)) == A
    assert la.matmul(A, A) == [[7.0, 10.0], [15.0, 22.0]]
    assert la.mat_vec(A, [1.0, 1.0]) == [3.0, 7.0]
    assert la.dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 32.0
    assert la.transpose([[1.0, 2.0, 3.0]]) == [[1.0], [2.0], [3.0]]
    assert la.variance([1.0, 2.0, 3.0, 4.0]) == pytest.approx(1.25)


def test_solve_by_hand_needs_pivoting():
    # The first pivot is 0: without row swaps elimination would divide by zero.
    A = [[0.0, 2.0], [3.0, 1.0]]
    assert la.solve(A, [4.0, 5.0]) == pytest.approx([1.0, 2.0])


def test_singular_matrix_is_refused_with_a_clear_error():
    with pytest.raises(la.SingularMatrixError, match="singular"):
        la.solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: la.dot([1.0], [1.0, 2.0]), "different lengths"),
        (lambda: la.matmul([[1.0, 2.0]], [[1.0, 2.0]]), "not aligned"),
        (lambda: la.solve([[1.0, 2.0]], [1.0]), "square"),
    ],
)
def test_shape_mismatches_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@given(matrix_pair())
@settings(max_examples=60, deadline=None)
def test_matmul_matches_numpy(pair):
    A, B = pair
    np.testing.assert_allclose(la.matmul(A, B), np.array(A) @ np.array(B), rtol=1e-9, atol=1e-6)


@given(st.integers(1, 5).flatmap(lambda n: matrices(n, 3)))
@settings(max_examples=60, deadline=None)
def test_transpose_is_an_involution_and_gram_is_xtx(A):
    assert la.transpose(la.transpose(A)) == A
    G = la.gram(la.transpose(A))
    np.testing.assert_allclose(G, np.array(A).T @ np.array(A), rtol=1e-9, atol=1e-6)
    assert la.transpose(G) == G  # symmetric by construction


@given(diagonally_dominant_system())
@settings(max_examples=80, deadline=None)
def test_solve_recovers_x_from_ax(system):
    A, x = system
    b = la.mat_vec(A, x)
    np.testing.assert_allclose(la.solve(A, b), x, rtol=1e-7, atol=1e-6)


@given(diagonally_dominant_system())
@settings(max_examples=40, deadline=None)
def test_inverse_times_matrix_is_identity(system):
    A, _ = system
    product = la.matmul(la.inverse(A), A)
    np.testing.assert_allclose(product, np.eye(len(A)), atol=1e-9)


@given(st.lists(finite, min_size=1, max_size=20))
def test_norm_and_variance_are_non_negative_and_match_numpy(xs):
    assert la.norm(xs) == pytest.approx(float(np.linalg.norm(xs)), rel=1e-9, abs=1e-9)
    assert la.variance(xs) >= 0
    assert la.variance(xs) == pytest.approx(float(np.var(xs)), rel=1e-7, abs=1e-6)


def test_linear_predictor_is_intercept_plus_row_dot_coefficients():
    rows = [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]
    assert la.linear_predictor(rows, [2.0, -1.0], 0.5) == [0.5, 1.5, 6.0]
    assert la.linear_predictor([], [2.0, -1.0], 0.5) == []


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6).flatmap(lambda p: st.tuples(matrices(4, p), matrices(1, p))), finite)
def test_linear_predictor_matches_numpy(data, intercept):
    rows, (coef,) = data
    expected = np.asarray(rows) @ np.asarray(coef) + intercept
    np.testing.assert_allclose(la.linear_predictor(rows, coef, intercept), expected, atol=1e-6)
