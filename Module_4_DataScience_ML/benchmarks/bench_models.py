"""Benchmark the from-scratch models against scikit-learn, side by side in one run.

For each model and training size: fit and predict wall-clock seconds for both libraries, the
ratio (ours / scikit-learn) and the quality gap (ours - scikit-learn: accuracy, R² or AUC) on a
common held-out set. Then two scaling studies: the CART fit-time exponent between 2 500 and
40 000 rows, and the KD-tree query-time exponent for 2, 4 and 8 features.

Run: ``python -m Module_4_DataScience_ML.benchmarks.bench_models [--quick]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import linear_model, neighbors, tree
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

from Module_4_DataScience_ML.from_scratch_implementations import (
    DecisionTreeClassifier,
    KNeighborsClassifier,
    LinearRegression,
    LogisticRegression,
)

N_FEATURES = 8
N_TEST = 2_000


@dataclass(frozen=True)
class Case:
    name: str
    task: str  # "regression" | "classification"
    ours: Callable[[], Any]
    theirs: Callable[[], Any]
    metric: str  # "R2" | "accuracy" | "AUC"
    sizes: tuple[int, ...]


def cases(quick: bool) -> list[Case]:
    big = (1_000, 5_000) if quick else (1_000, 10_000, 100_000)
    small = (1_000, 5_000) if quick else (1_000, 10_000)
    return [
        Case("OLS (normal eq.)", "regression", LinearRegression,
             linear_model.LinearRegression, "R2", big),
        Case("Ridge GD a=1", "regression", lambda: LinearRegression(solver="gd", alpha=1.0),
             lambda: linear_model.Ridge(alpha=1.0), "R2", small),
        Case("Logistic GD C=1", "classification", LogisticRegression,
             lambda: linear_model.LogisticRegression(max_iter=1000), "AUC", big),
        Case("Logistic Newton", "classification", lambda: LogisticRegression(solver="newton"),
             lambda: linear_model.LogisticRegression(max_iter=1000), "AUC", big),
        Case("kNN k=5 KD-tree", "classification", KNeighborsClassifier,
             lambda: neighbors.KNeighborsClassifier(algorithm="kd_tree"), "accuracy", small),
        Case("CART depth<=8", "classification", lambda: DecisionTreeClassifier(max_depth=8),
             lambda: tree.DecisionTreeClassifier(max_depth=8, random_state=0), "accuracy", big),
        Case("CART unrestricted", "classification", DecisionTreeClassifier,
             lambda: tree.DecisionTreeClassifier(random_state=0), "accuracy", small),
    ]  # fmt: skip


def make_data(task: str, n_train: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    n = n_train + N_TEST
    if task == "regression":
        X, y = make_regression(n, N_FEATURES, n_informative=6, noise=20.0, random_state=seed)
    else:
        X, y = make_classification(
            n, N_FEATURES, n_informative=5, flip_y=0.05, class_sep=0.8, random_state=seed
        )
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def quality(case: Case, model: Any, X_test: np.ndarray, y_test: np.ndarray) -> float:
    if case.metric == "R2":
        return float(r2_score(y_test, model.predict(X_test)))
    if case.metric == "AUC":
        return float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
    return float(accuracy_score(y_test, model.predict(X_test)))


def run_case(case: Case, n: int) -> dict[str, Any]:
    X_train, X_test, y_train, y_test = make_data(case.task, n)
    row: dict[str, Any] = {"model": case.name, "n": n, "metric": case.metric}
    for side, factory in (("ours", case.ours), ("sk", case.theirs)):
        model, fit_s = timed(lambda f=factory: f().fit(X_train, y_train))
        _, predict_s = timed(lambda m=model: m.predict(X_test))
        row[f"{side}_fit"], row[f"{side}_predict"] = fit_s, predict_s
        row[f"{side}_score"] = quality(case, model, X_test, y_test)
    return row


def ratio(ours: float, theirs: float) -> str:
    value = ours / theirs
    return f"{value:.1f}x" if value < 10 else f"{value:,.0f}x"


def exponent(small: float, large: float, ratio: float) -> float:
    """Slope of log(time) against log(n): time ∝ n^exponent."""
    return math.log(large / small) / math.log(ratio)


def cpu_timed(action: Callable[[], Any]) -> tuple[Any, float]:
    """Like timed, but CPU seconds of this process: robust to other jobs on a shared box."""
    start = time.process_time()
    result = action()
    return result, time.process_time() - start


def tree_scaling(sizes: tuple[int, int]) -> list[str]:
    lines = []
    for label, factory in (
        ("ours", lambda: DecisionTreeClassifier(min_samples_leaf=5)),
        ("scikit-learn", lambda: tree.DecisionTreeClassifier(min_samples_leaf=5, random_state=0)),
    ):
        seconds = []
        for n in sizes:
            X, y = make_classification(n, N_FEATURES, n_informative=5, flip_y=0.05, random_state=0)
            fit = lambda X=X, y=y, f=factory: f().fit(X, y)  # noqa: E731
            seconds.append(min(cpu_timed(fit)[1] for _ in range(2)))
        slope = exponent(seconds[0], seconds[1], sizes[1] / sizes[0])
        lines.append(
            f"| CART fit, {label} | {sizes[0]:,} -> {sizes[1]:,} | {seconds[0]:.3f} s -> "
            f"{seconds[1]:.3f} s | {slope:.2f} |"
        )
    return lines


def knn_scaling(sizes: tuple[int, int], n_queries: int) -> list[str]:
    lines = []
    for d in (2, 4, 8):
        rng = random.Random(d)
        queries = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n_queries)]
        seconds = []
        for n in sizes:
            X = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n)]
            model = KNeighborsClassifier(5, algorithm="kd_tree").fit(X, [i % 2 for i in range(n)])
            query = lambda m=model, q=queries: m.predict(q)  # noqa: E731
            seconds.append(min(cpu_timed(query)[1] for _ in range(2)))
        per_query = [1e3 * s / n_queries for s in seconds]
        slope = exponent(seconds[0], seconds[1], sizes[1] / sizes[0])
        lines.append(
            f"| kNN query, {d} features | {sizes[0]:,} -> {sizes[1]:,} | {per_query[0]:.3f} ms "
            f"-> {per_query[1]:.3f} ms per query | {slope:.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(
            "Time the from-scratch Module 4 models against scikit-learn on the same synthetic "
            f"data ({N_FEATURES} features, {N_TEST:,} held-out rows) and print Markdown tables."
        )
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes only (about 20 s instead of minutes)"
    )
    args = parser.parse_args(argv)

    print(f"## Fit/predict vs scikit-learn ({'quick' if args.quick else 'full'} run)\n")
    print(
        "| model | n train | fit ours (s) | fit sklearn (s) | fit ratio | predict ratio "
        "| metric | ours | sklearn | gap |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for case in cases(args.quick):
        for n in case.sizes:
            r = run_case(case, n)
            print(
                f"| {r['model']} | {n:,} | {r['ours_fit']:.3f} | {r['sk_fit']:.4f} | "
                f"{ratio(r['ours_fit'], r['sk_fit'])} | "
                f"{ratio(r['ours_predict'], r['sk_predict'])} | {r['metric']} | "
                f"{r['ours_score']:.4f} | {r['sk_score']:.4f} | "
                f"{r['ours_score'] - r['sk_score']:+.4f} |",
                flush=True,
            )

    tree_sizes = (1_000, 4_000) if args.quick else (2_500, 40_000)
    knn_sizes = (1_000, 4_000) if args.quick else (2_500, 40_000)
    print("\n## Scaling (CPU time ∝ n^exponent, best of two)\n")
    print("| what | rows | time | exponent |")
    print("|---|---|---|---:|")
    for line in tree_scaling(tree_sizes) + knn_scaling(knn_sizes, 100 if args.quick else 300):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
