"""Exercise 2: find missing values per column, then handle them three ways: drop, fill, flag.

    python -m Module_1_Foundations.exercises.ex02_missing_values [--raw-dir DIR]

Reads every cell as text first, so the markers an export uses ("", NA, N/A, null, ?, -) are
visible, then shows what each policy costs: rows lost (drop), values invented (fill), or
columns added (flag).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.exercises._common import loanbook_dir, show

MARKERS = ("", "NA", "N/A", "null", "?", "-")


def missing_report(raw: pd.DataFrame) -> pd.DataFrame:
    """Per column: how many cells hold each marker, and the missing share."""
    stripped = raw.apply(lambda s: s.str.strip())
    report = pd.DataFrame(
        {repr(m): (stripped == m).sum() for m in MARKERS}, index=raw.columns
    ).astype(int)
    report["missing"] = report.sum(axis=1)
    report["share"] = report["missing"] / len(raw)
    return report[report["missing"] > 0].sort_values("missing", ascending=False)


def to_nan(raw: pd.DataFrame) -> pd.DataFrame:
    stripped = raw.apply(lambda s: s.str.strip())
    return stripped.mask(stripped.isin(MARKERS))


def policies(frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """Rows, cells still missing and columns after each policy."""
    dropped = frame.dropna()
    filled = frame.copy()
    for column in frame.columns[frame.isna().any()]:
        if column in numeric:
            filled[column] = pd.to_numeric(filled[column], errors="coerce")
            filled[column] = filled[column].fillna(filled[column].median())
        else:
            filled[column] = filled[column].fillna("unknown")
    flagged = frame.copy()
    for column in frame.columns[frame.isna().any()]:
        flagged[f"{column}_was_missing"] = frame[column].isna()
    return pd.DataFrame(
        {
            "rows": [len(frame), len(dropped), len(filled), len(flagged)],
            "cells missing": [
                int(frame.isna().sum().sum()),
                int(dropped.isna().sum().sum()),
                int(filled.isna().sum().sum()),
                int(flagged.isna().sum().sum()),
            ],
            "columns": [frame.shape[1], dropped.shape[1], filled.shape[1], flagged.shape[1]],
        },
        index=["as loaded", "drop rows", "fill (median / 'unknown')", "flag (+ indicators)"],
    )


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="python -m Module_1_Foundations.exercises.ex02_missing_values",
            description="Report missing values per column; compare drop, fill and flag.",
        )
        parser.add_argument("--raw-dir", type=Path, help="[default: <raw_dir>/loanbook]")
        args = parser.parse_args(argv)
        setup_logging("Module_1_Foundations", "ex02_missing_values")
        path = loanbook_dir(args.raw_dir) / "loans.csv"
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="skip")
        raw = raw.fillna("")  # short lines are padded with NaN even with keep_default_na=False
        print(f"{path}: {len(raw):,} rows; every cell read as text to see the markers")
        show("missing values per column, by marker", missing_report(raw))
        frame = to_nan(raw)
        numeric = ["annual_income", "debt_to_income", "loan_amount", "interest_rate"]
        numeric = [c for c in frame.columns if c.lower().replace(" ", "_") in numeric]
        show("what each policy costs", policies(frame, numeric), floatfmt="{:,.0f}")
        print(
            "\ndrop loses whole loans for one empty field; fill invents values (the median "
            "hides risk); flag keeps the rows and lets a model learn from 'was missing'."
        )
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
