"""kNN: same predictions as scikit-learn's brute force (ties documented), KD-tree == brute."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import neighbors as sk
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from Module_4_DataScience_ML.from_scratch_implementations.k_nearest_neighbors import (
    KNeighborsClassifier,
    KNeighborsRegressor,
    brute_force_neighbours,
    build_kd_tree,
    kd_tree_neighbours,
    majority_vote,
)


def distance_tie_rows(X_train, X_test, k):
    """Test rows whose k-th and (k+1)-th nearest training points are equidistant.

    Only there may the two libraries pick different neighbours: we rank equal distances by
    training index, scikit-learn by its partition order. That is the documented exception.
    """
    distances, _ = sk.NearestNeighbors(n_neighbors=k + 1).fit(X_train).kneighbors(X_test)
    return {i for i, row in enumerate(distances) if math.isclose(row[k - 1], row[k])}


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
@pytest.mark.parametrize("k", [1, 4, 7])
def test_predictions_equal_sklearn_brute_force(cancer_split, wine_split, weights, algorithm, k):
    for X_train, X_test, y_train, _ in (cancer_split, wine_split):
        ours = KNeighborsClassifier(k, weights=weights, algorithm=algorithm).fit(X_train, y_train)
        theirs = sk.KNeighborsClassifier(k, weights=weights, algorithm="brute").fit(
            X_train, y_train
        )
        differ = set(np.flatnonzero(ours.predict(X_test) != theirs.predict(X_test)).tolist())
        assert differ <= distance_tie_rows(X_train, X_test, k)
        proba_gap = np.abs(ours.predict_proba(X_test) - theirs.predict_proba(X_test)).max(axis=1)
        assert set(np.flatnonzero(proba_gap > 1e-9).tolist()) <= distance_tie_rows(
            X_train, X_test, k
        )


def test_on_credit_data_equal_sklearn_except_documented_ties(credit_split):
    X_train, X_test, y_train, _ = credit_split
    ours = KNeighborsClassifier(15).fit(X_train, y_train).predict(X_test)
    theirs = sk.KNeighborsClassifier(15, algorithm="brute").fit(X_train, y_train).predict(X_test)
    differ = set(np.flatnonzero(ours != theirs).tolist())
    assert differ <= distance_tie_rows(X_train, X_test, 15)
    assert len(differ) <= 0.01 * len(X_test)


def test_scale_option_equals_a_standard_scaler_pipeline(credit):
    X, y = credit
    X_train, X_test, y_train = X.iloc[:3000], X.iloc[3000:3400], y.iloc[:3000]
    ours = KNeighborsClassifier(9, scale=True).fit(X_train, y_train).predict(X_test)
    pipe = make_pipeline(StandardScaler(), sk.KNeighborsClassifier(9, algorithm="brute"))
    theirs = pipe.fit(X_train, y_train).predict(X_test)
    differ = set(np.flatnonzero(ours != theirs).tolist())
    scaler = StandardScaler().fit(X_train)
    assert differ <= distance_tie_rows(scaler.transform(X_train), scaler.transform(X_test), 9)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_equals_sklearn(diabetes, weights):
    X, y = diabetes
    ours = KNeighborsRegressor(6, weights=weights).fit(X[:350], y[:350]).predict(X[350:])
    theirs = sk.KNeighborsRegressor(6, weights=weights).fit(X[:350], y[:350]).predict(X[350:])
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_distance_ties_go_to_the_earlier_training_row():
    # Query 0.0: rows 1 and 2 are both at distance 1; with k=2 row 0 and row 1 are taken.
    X = [[0.0], [1.0], [-1.0], [5.0]]
    y = ["a", "b", "c", "c"]
    model = KNeighborsClassifier(2, algorithm="kd_tree", leaf_size=1).fit(X, y)
    assert model.kneighbors([[0.0]]) == [[(0.0, 0), (1.0, 1)]]
    assert model.predict([[0.0]]).tolist() == ["a"]  # vote tie a/b: smallest label


def test_vote_tie_rules():
    # Two votes for class 1 (farther), two for class 0: smallest label wins; "nearest" drops
    # the farthest neighbour (class 1) and class 0 then leads.
    labels, weights = [1, 0, 0, 1], [1.0] * 4
    assert majority_vote(labels, weights, 2, "smallest_label") == 0
    assert majority_vote([0, 1, 1, 0], weights, 2, "nearest") == 1
    assert majority_vote([1, 0], [1.0, 1.0], 2, "nearest") == 1  # down to the single nearest


def test_exact_match_dominates_distance_weights():
    model = KNeighborsClassifier(3, weights="distance").fit([[0.0], [1.0], [1.1]], [0, 1, 1])
    assert model.predict_proba([[0.0]]).tolist() == [[1.0, 0.0]]


@st.composite
def point_clouds(draw):
    d = draw(st.integers(1, 4))
    coords = st.integers(-3, 3).map(float)  # a small grid: many exact distance ties
    points = draw(st.lists(st.lists(coords, min_size=d, max_size=d), min_size=1, max_size=60))
    query = draw(st.lists(coords, min_size=d, max_size=d))
    k = draw(st.integers(1, len(points)))
    leaf = draw(st.integers(1, 8))
    return points, query, k, leaf


@given(point_clouds())
@settings(max_examples=200, deadline=None)
def test_kd_tree_returns_exactly_the_brute_force_neighbours(cloud):
    points, query, k, leaf = cloud
    tree = build_kd_tree(points, leaf)
    assert kd_tree_neighbours(tree, query, k) == brute_force_neighbours(points, query, k)


def _query_seconds(n: int, d: int, queries: list[list[float]]) -> float:
    rng = random.Random(n)
    X = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n)]
    model = KNeighborsClassifier(5, algorithm="kd_tree").fit(X, [i % 2 for i in range(n)])
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        model.predict(queries)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("d", [2, 4, 8])
def test_kd_tree_queries_grow_sublinearly(d):
    rng = random.Random(99)
    queries = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(100)]
    small, large = _query_seconds(2_500, d, queries), _query_seconds(40_000, d, queries)
    exponent = math.log(large / small) / math.log(16)
    assert exponent < 0.9, f"query time grew like n^{exponent:.2f} in {d} dimensions"
