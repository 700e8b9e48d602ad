"""Holdout evaluation and the champion/challenger rule (pure functions).

Ranking and probability metrics come from Module 4 (``roc_auc_score``, ``roc_curve``,
``log_loss``, ``brier_score_loss``); this module adds the credit-risk views: Gini, KS, the
calibration table by decile of predicted PD, the population stability index (PSI) and the gap
to the best possible AUC, the AUC of the generator's true default probabilities on the same
loans (no model can rank better than the truth, up to sampling noise).

Champion/challenger: a challenger replaces the champion only when, on the same holdout, its
AUC beats the champion's by at least ``AUC_MARGIN`` (0.005: below that the difference is
within the sampling noise of a holdout of a few thousand loans, and a model change costs
review and monitoring resets) and its calibration is no worse (expected calibration error at
most the champion's plus ``ECE_TOLERANCE``, 0.002, so noise in the third decimal does not
block a clearly better ranker). The first model becomes champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

AUC_MARGIN = 0.005
ECE_TOLERANCE = 0.002
DECILES = 10
PSI_BINS = 10
PSI_WATCH, PSI_SHIFT = 0.1, 0.25


def ks_statistic(y: np.ndarray, p: np.ndarray) -> float:
    from Module_4_DataScience_ML.from_scratch_implementations import roc_curve

    fpr, tpr, _ = roc_curve(y.tolist(), p.tolist())
    return float(max(t - f for f, t in zip(fpr, tpr, strict=True)))


def calibration_table(y: np.ndarray, p: np.ndarray, true_pd: np.ndarray | None) -> list[dict]:
    """Loans by decile of predicted PD (1 = lowest): mean PD, observed rate, mean true PD."""
    order = np.argsort(p, kind="stable")
    rows = []
    for decile, idx in enumerate(np.array_split(order, DECILES), start=1):
        if len(idx) == 0:
            continue
        truth = float("nan")  # also when no loan of the decile has a true PD
        if true_pd is not None:
            known = true_pd[idx][~np.isnan(true_pd[idx])]
            truth = float(known.mean()) if len(known) else truth
        rows.append(
            {
                "decile": decile,
                "loans": len(idx),
                "mean_pd": float(p[idx].mean()),
                "observed_rate": float(y[idx].mean()),
                "mean_true_pd": truth,
            }
        )
    return rows


def expected_calibration_error(table: list[dict]) -> float:
    total = sum(r["loans"] for r in table)
    return sum(r["loans"] * abs(r["mean_pd"] - r["observed_rate"]) for r in table) / total


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS) -> float:
    """Population stability index of ``actual`` against ``expected`` (bins: its deciles)."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return 0.0
    inner = edges[1:-1]
    e = np.bincount(np.searchsorted(inner, expected, side="right"), minlength=len(edges) - 1)
    a = np.bincount(np.searchsorted(inner, actual, side="right"), minlength=len(edges) - 1)
    e_share = np.clip(e / e.sum(), 1e-6, None)
    a_share = np.clip(a / a.sum(), 1e-6, None)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def psi_status(value: float) -> str:
    return "stable" if value < PSI_WATCH else "watch" if value < PSI_SHIFT else "shift"


def evaluate(
    y: np.ndarray, p: np.ndarray, true_pd: np.ndarray | None, champion_p: np.ndarray | None
) -> dict[str, Any]:
    """Every holdout metric of one model; ``champion_p``: the champion's PDs on the same loans."""
    from Module_4_DataScience_ML.from_scratch_implementations import (
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )

    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype=float), 1e-15, 1 - 1e-15)
    auc = float(roc_auc_score(y.tolist(), p.tolist()))
    table = calibration_table(y, p, true_pd)
    metrics: dict[str, Any] = {
        "auc": auc,
        "gini": 2 * auc - 1,
        "ks": ks_statistic(y, p),
        "brier": float(brier_score_loss(y.tolist(), p.tolist())),
        "log_loss": float(log_loss(y.tolist(), p.tolist())),
        "ece": expected_calibration_error(table),
        "mean_pd": float(p.mean()),
        "observed_rate": float(y.mean()),
        "holdout_rows": len(y),
    }
    truth = None if true_pd is None else np.asarray(true_pd, dtype=float)
    known = None if truth is None else ~np.isnan(truth)
    if known is not None and len(set(y[known].tolist())) == 2:
        # on the loans with a true PD (a drop may lack the ground truth), the model's AUC on
        # the same loans: the two numbers always describe one population
        best = float(roc_auc_score(y[known].tolist(), truth[known].tolist()))
        same = auc if known.all() else float(roc_auc_score(y[known].tolist(), p[known].tolist()))
        metrics["best_possible_auc"] = best
        metrics["truth_coverage"] = float(known.mean())
        metrics["auc_gap_to_best"] = best - same
        metrics["auc_share_of_best"] = same / best
    if champion_p is not None:
        metrics["psi_vs_champion"] = psi(np.asarray(champion_p, dtype=float), p)
    return {"metrics": metrics, "calibration": table}


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def champion_decision(
    challenger: dict[str, float], champion: dict[str, float] | None, champion_version: Any = None
) -> Decision:
    """The champion/challenger rule (module docstring), with its reason in one sentence."""
    if champion is None:
        return Decision(True, "first registered model: becomes champion")
    gain = challenger["auc"] - champion["auc"]
    ece_change = challenger["ece"] - champion["ece"]
    label = f"champion v{champion_version}" if champion_version is not None else "champion"
    detail = (
        f"AUC {challenger['auc']:.4f} vs {champion['auc']:.4f} ({gain:+.4f}, margin "
        f"{AUC_MARGIN}), calibration error {challenger['ece']:.4f} vs {champion['ece']:.4f}"
    )
    if gain < AUC_MARGIN:
        return Decision(False, f"kept {label}: AUC gain below the margin; {detail}")
    if ece_change > ECE_TOLERANCE:
        return Decision(False, f"kept {label}: calibration worse; {detail}")
    return Decision(True, f"promoted over {label}: {detail}")
