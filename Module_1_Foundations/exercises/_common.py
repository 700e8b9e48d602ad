"""Shared bits of the exercises: where the loan book is, and a plain-text table printer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.lake import LakeLayout


def loanbook_dir(raw_dir: Path | None) -> Path:
    """``--raw-dir`` or ``<raw_dir>/loanbook``; a clear error when the book is not generated."""
    folder = raw_dir or LakeLayout.from_settings().raw_root
    if not (folder / "loans.csv").is_file():
        raise UserError(
            f"{folder}/loans.csv is missing: generate the loan book with 'make generate'"
        )
    return folder


def show(title: str, frame: pd.DataFrame | pd.Series, *, floatfmt: str = "{:,.3f}") -> None:
    """Print a titled table (what each exercise shows)."""
    print(f"\n== {title}")
    with pd.option_context(
        "display.width", 120,
        "display.max_columns", 20,
        "display.float_format", floatfmt.format,
    ):  # fmt: skip
        print(frame.to_string())
