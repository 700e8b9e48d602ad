"""Exercise 3: group and aggregate: default rate and exposure by grade and by region.

    python -m Module_1_Foundations.exercises.ex03_group_aggregate [--raw-dir DIR]

Joins the loans to their observed outcome (``loan_truth.observed_default``), normalises the
grade and region spellings (" b", "PACIFIC"), and prints per group: loans, defaults, default
rate, exposure (sum of principal) and the mean interest rate; then a grade x region pivot.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.exercises._common import loanbook_dir, show

MARKERS = ("", "NA", "N/A", "null", "?", "-")


def load(folder: Path) -> pd.DataFrame:
    loans = pd.read_csv(folder / "loans.csv", dtype=str, on_bad_lines="skip")
    loans.columns = [c.lower().replace(" ", "_") for c in loans.columns]
    loans = loans.drop_duplicates()
    truth = pd.read_csv(folder / "loan_truth.csv", usecols=["loan_id", "observed_default"])
    frame = loans.merge(truth, on="loan_id", how="inner", validate="many_to_one")
    frame["grade"] = frame["grade"].str.strip().str.upper()
    region = frame["region"].str.strip()
    frame["region"] = region.mask(region.isin(MARKERS)).str.title().fillna("(unknown)")
    frame["loan_amount"] = pd.to_numeric(frame["loan_amount"], errors="coerce")
    rate = pd.to_numeric(frame["interest_rate"], errors="coerce")
    frame["interest_rate"] = rate.where(rate.between(3, 36))  # 12990 % is a typo, not a rate
    valid = frame["loan_amount"].between(500, 40_000) & frame["grade"].isin(list("ABCDEFG"))
    return frame[valid]


def by(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    out = frame.groupby(key, dropna=False).agg(
        loans=("loan_id", "size"),
        defaults=("observed_default", "sum"),
        default_rate=("observed_default", "mean"),
        exposure_musd=("loan_amount", lambda s: s.sum() / 1e6),
        mean_rate_pct=("interest_rate", "mean"),
    )
    out["exposure_share"] = out["exposure_musd"] / out["exposure_musd"].sum()
    return out


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="python -m Module_1_Foundations.exercises.ex03_group_aggregate",
            description="Default rate and exposure by grade and region (pandas groupby).",
        )
        parser.add_argument("--raw-dir", type=Path, help="[default: <raw_dir>/loanbook]")
        args = parser.parse_args(argv)
        setup_logging("Module_1_Foundations", "ex03_group_aggregate")
        frame = load(loanbook_dir(args.raw_dir))
        rate = frame.observed_default.mean()
        print(f"{len(frame):,} loans with a known outcome, {rate:.1%} defaulted")
        show("by grade", by(frame, "grade"))
        show("by region", by(frame, "region").sort_values("default_rate", ascending=False))
        pivot = frame.pivot_table(
            index="grade", columns="region", values="observed_default", aggfunc="mean"
        )
        show("default rate, grade x region", pivot, floatfmt="{:.2f}")
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
