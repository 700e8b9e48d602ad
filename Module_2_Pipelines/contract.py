"""The contract gate: each table of a day's drop converted under its contract, before it counts.

The gate is Module 1's converter itself (:func:`convert_csv` with the table's contract): it
reads the drop once, types and cleans it, and keeps every row it refuses with a reason. The
clean result is staged (``<processed>/loanbook/daily/_staged/<table>/<day>``); the transform
step swaps it into the table only when the whole drop passed. A drop that is broken as a whole
(a missing file, a wrong header, too many rejects) stops here, and nothing reaches the lake.
"""

from __future__ import annotations

import logging
import math
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import sha256_file
from Module_1_Foundations.common.lake import OPTIONAL_TABLES, PIPELINE_TABLES, LakeLayout
from Module_1_Foundations.common.settings import Settings
from Module_2_Pipelines.pipeline import DEFAULT_MAX_REJECT_RATE

log = logging.getLogger("Module_2_Pipelines.etl")


class ContractError(UserError):
    """The raw drop breaks the data contract: retrying cannot help, fix the input."""


def has_data_rows(path: Path) -> bool:
    """True when a CSV holds at least one non-empty line after its header."""
    with open(path, "rb") as handle:
        handle.readline()
        return any(line.strip() for line in handle)


def allowed_rejects(rows: int, max_reject_rate: float) -> int:
    """Rejects a table of ``rows`` may hold: the share rounded up to a whole row, so that one
    refused row of a quiet day's ten does not stop the day (``0.0`` still allows none)."""
    return math.ceil(rows * max_reject_rate - 1e-9)


def stage_table(layout: LakeLayout, name: str, day: date) -> dict[str, Any]:
    """Convert one table of the day's drop into its staged partition; return the counts.

    A table with a header and no rows today (a quiet day) stages nothing. ``sha256`` is the
    raw file's, computed by the converter while it reads (the run's one pass over the file).

    Raises:
        ContractError: the file is missing, empty, or its header lacks contract columns.
    """
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import convert_csv

    path = layout.raw_daily(day) / f"{name}.csv"
    staged = layout.daily_staged(name, day)
    rejects = layout.daily_rejects(name, day)
    if not path.is_file():
        raise ContractError(f"{path}: missing from the drop; rerun extract or re-land the day")
    if path.stat().st_size and not has_data_rows(path):
        shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(rejects, ignore_errors=True)
        counts = dict.fromkeys(("rows_in", "rows_out", "rows_rejected", "duplicates_removed"), 0)
        return counts | {"reject_reasons": {}, "sha256": sha256_file(path)}
    try:
        result = convert_csv(path, staged, table=name, rejects_dir=rejects)
    except UserError as exc:
        raise ContractError(str(exc)) from None
    return {
        "rows_in": int(result.rows_in),
        "rows_out": int(result.rows_out),
        "rows_rejected": int(result.rows_rejected),
        "duplicates_removed": int(result.duplicates_removed),
        "reject_reasons": dict(result.reject_reasons),
        "sha256": result.input_sha256,
    }


def validate(
    day: date,
    *,
    settings: Settings | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    tables: tuple[str, ...] = PIPELINE_TABLES,
) -> dict[str, Any]:
    """Stage every table of the day's drop under its contract; fail fast with the counts.

    A table of ``OPTIONAL_TABLES`` (the ground truth) missing from the drop is left out of the
    counts; any other missing file stops the day.

    Raises:
        ContractError: a file is missing or empty, its header is wrong, the drop holds no
            loans, or more than ``max_reject_rate`` of a table's rows were rejected (then
            nothing of the day stays staged).
    """
    layout = LakeLayout.from_settings(settings)
    counts: dict[str, dict[str, Any]] = {}
    try:
        for name in tables:
            if name in OPTIONAL_TABLES and not (layout.raw_daily(day) / f"{name}.csv").is_file():
                # no partition for it today; the transform clears any earlier one of the day
                shutil.rmtree(layout.daily_staged(name, day), ignore_errors=True)
                log.info("validate %s: no %s.csv in the drop (optional)", day, name)
                continue
            counts[name] = result = stage_table(layout, name, day)
            rate = result["rows_rejected"] / result["rows_in"] if result["rows_in"] else 0.0
            allowed = allowed_rejects(result["rows_in"], max_reject_rate)
            log.info(
                "validate %s: %s.csv %s rows, %s rejected (%.2f%%) %s",
                day,
                name,
                f"{result['rows_in']:,}",
                f"{result['rows_rejected']:,}",
                100 * rate,
                result["reject_reasons"],
            )
            if result["rows_rejected"] > allowed:
                raise ContractError(
                    f"{layout.raw_daily(day) / f'{name}.csv'}: {result['rows_rejected']:,} of "
                    f"{result['rows_in']:,} rows break the contract ({100 * rate:.1f}% > "
                    f"{100 * max_reject_rate:.1f}% allowed, at most {allowed:,} rows; "
                    f"{result['reject_reasons']}): fix the drop, or raise max_reject_rate for "
                    "this run if it is expected"
                )
        if "loans" in counts and counts["loans"]["rows_out"] == 0:
            raise ContractError(f"{layout.raw_daily(day) / 'loans.csv'}: the drop holds no loans")
    except ContractError:
        for name in tables:
            shutil.rmtree(layout.daily_staged(name, day), ignore_errors=True)
        raise
    return {"date": day.isoformat(), "tables": counts, "max_reject_rate": max_reject_rate}
