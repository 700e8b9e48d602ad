"""Exercise 1: load a CSV into a pandas DataFrame, and see what a messy export does to it.

    python -m Module_1_Foundations.exercises.ex01_load_csv [--raw-dir DIR] [--rows 5]

Shows: the shape, the column types pandas inferred (and why some numeric columns came out as
text), memory use, the first rows, and how pandas treats ragged lines.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

import pandas as pd

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.exercises._common import loanbook_dir, show


def load_loans(path: Path) -> tuple[pd.DataFrame, str]:
    """Load with pandas defaults; on a ragged line, report pandas' error and skip bad lines."""
    try:
        return pd.read_csv(path), ""
    except pd.errors.ParserError as exc:
        message = str(exc).strip()
        return pd.read_csv(path, on_bad_lines="skip"), message


def field_counts(path: Path) -> Counter[int]:
    """How many lines have how many fields (the csv module, which never guesses)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        return Counter(len(row) for row in reader)


def text_in_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns pandas left as text although most values are numbers, with example culprits."""
    rows = []
    for column in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].dropna().astype(str)
        numbers = pd.to_numeric(values, errors="coerce")
        share = numbers.notna().mean() if len(values) else 0.0
        if share > 0.9:
            culprits = values[numbers.isna()].unique()[:4]
            rows.append({"column": column, "numeric share": share, "e.g.": ", ".join(culprits)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="python -m Module_1_Foundations.exercises.ex01_load_csv",
            description="Load loans.csv into a DataFrame and print what pandas made of it.",
        )
        parser.add_argument("--raw-dir", type=Path, help="[default: <raw_dir>/loanbook]")
        parser.add_argument("--rows", type=int, default=5, help="rows of the head to print")
        args: argparse.Namespace = parser.parse_args(argv)
        setup_logging("Module_1_Foundations", "ex01_load_csv")
        path = loanbook_dir(args.raw_dir) / "loans.csv"
        frame, error = load_loans(path)
        print(f"loaded {path}: {frame.shape[0]:,} rows x {frame.shape[1]} columns")
        if error:
            print(f"pandas refused a ragged line at first: {error}")
            print("  -> re-read with on_bad_lines='skip': those lines are dropped, silently")
        widths = field_counts(path)
        expected = max(widths, key=widths.__getitem__)
        shown = ", ".join(f"{w} fields: {n:,}" for w, n in sorted(widths.items(), reverse=True))
        print(f"lines by number of fields ({expected} expected): {shown}")
        print("  pandas: more fields -> error (or skipped); fewer -> kept, padded with NaN")
        show("column types pandas inferred", frame.dtypes.astype(str).rename("dtype"))
        suspects = text_in_numeric(frame)
        if len(suspects):
            show("numeric columns read as text because of a few bad values", suspects)
        memory = frame.memory_usage(deep=True).sum() / 1e6
        print(
            f"\nmemory in pandas: {memory:,.1f} MB for {path.stat().st_size / 1e6:,.1f} MB of CSV"
        )
        show(f"first {args.rows} rows", frame.head(args.rows))
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
