"""The faults the loan-book generator injects into a clean export, and how often.

Each fault is what real exports do: missing markers, stray case and whitespace, other date
formats, impossible values, exact duplicate lines, malformed lines. They are applied per column
to a clean chunk (:func:`inject_faults`), then to its CSV bytes (:func:`with_duplicates`,
:func:`malform`); the generator counts every one, so the converter's counts can be checked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from Module_1_Foundations.common.errors import UserError

MISSING_MARKERS = ("", "NA", "N/A", "null", "?", "-")
ALT_DATE_FORMATS = ("%Y/%m/%d", "%d %b %Y", "%B %d %Y", "%Y%m%d")


@dataclass(frozen=True)
class FaultRates:
    """Probability that a row (or cell) receives each kind of fault."""

    missing: float = 0.02
    duplicate: float = 0.005
    case_whitespace: float = 0.02
    date_format: float = 0.03
    out_of_range: float = 0.002
    malformed: float = 0.001

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 0.5:
                flag = "--" + f.name.replace("_", "-") + "-rate"
                raise UserError(f"{flag}={value} is out of range: give a rate between 0 and 0.5")

    @classmethod
    def none(cls) -> FaultRates:
        return cls(0, 0, 0, 0, 0, 0)


#: Which columns receive which fault, per table (the rest stay clean).
FAULT_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "borrowers": {
        "missing": ("home_ownership", "annual_income"),
        "case_whitespace": ("region", "home_ownership"),
        "date_format": ("created_date", "earliest_credit_line"),
        "out_of_range": ("birth_year", "credit_score", "annual_income"),
    },
    "loans": {
        "missing": ("purpose", "annual_income", "employment_length", "debt_to_income", "region"),
        "case_whitespace": ("grade", "purpose", "region", "employment_length"),
        "date_format": ("application_date", "issue_date"),
        "out_of_range": ("loan_amount", "interest_rate", "debt_to_income", "annual_income"),
    },
    "repayments": {
        "missing": ("amount_paid",),
        "case_whitespace": ("status",),
        "date_format": ("due_date", "payment_date"),
        "out_of_range": ("amount_paid",),
    },
    "loan_truth": {},
}
BAD_NUMBERS = ("n/a?", "twelve", "12 500", "#VALUE!", "12.5.1")


def _as_text(column: pa.Array) -> pa.Array:
    """Render a column as the CSV would show it, so faults can replace individual cells."""
    return pc.cast(column, pa.string())  # dates cast to ISO 8601 (much faster than strftime)


def _case_whitespace(values: list[str | None], rng: np.random.Generator) -> list[str | None]:
    variants = (str.upper, str.lower, str.title, lambda s: f" {s}", lambda s: f"{s}  ")
    picks = rng.integers(0, len(variants), len(values))
    return [None if v is None else variants[k](v) for v, k in zip(values, picks, strict=True)]


def _alternate_dates(column: pa.Array, rng: np.random.Generator) -> pa.Array:
    picks = rng.integers(0, len(ALT_DATE_FORMATS), len(column))
    pieces = [pc.strftime(column, format=fmt) for fmt in ALT_DATE_FORMATS]
    out = pieces[0]
    for k in range(1, len(ALT_DATE_FORMATS)):
        out = pc.if_else(pa.array(picks == k), pieces[k], out)
    return out


def _out_of_range(values: list[str | None], rng: np.random.Generator) -> list[str]:
    bad_numbers = np.array(BAD_NUMBERS, dtype=object)
    out: list[str] = []
    for value, roll, pick in zip(
        values, rng.random(len(values)), rng.integers(0, len(BAD_NUMBERS), len(values)), strict=True
    ):
        number = float(value) if value not in (None, "") else 1.0
        if roll < 0.25:
            out.append(bad_numbers[pick])
        elif roll < 0.6:
            negative = -abs(number) or -1.0
            out.append(str(int(negative)) if negative.is_integer() else str(negative))
        else:
            out.append(str(int(abs(number) * 1000 + 9999)))
    return out


def inject_faults(
    table: pa.Table, name: str, rates: FaultRates, rng: np.random.Generator, counts: dict[str, int]
) -> pa.Table:
    """Return ``table`` with cell-level faults applied; ``counts`` accumulates per fault type."""
    plan = FAULT_COLUMNS[name]
    n = table.num_rows
    for column in table.column_names:
        kinds = [k for k, cols in plan.items() if column in cols]
        if not kinds:
            continue
        original = table.column(column).combine_chunks()
        text = _as_text(original)
        for kind in ("date_format", "case_whitespace", "out_of_range", "missing"):
            if kind not in kinds:
                continue
            hit = rng.random(n) < getattr(rates, kind)
            if kind == "date_format":
                hit &= pc.is_valid(original).to_numpy(zero_copy_only=False)
            if not hit.any():
                continue
            index = np.flatnonzero(hit)
            mask = pa.array(hit)
            if kind == "date_format":
                new = _alternate_dates(original.take(pa.array(index)), rng)
            elif kind == "case_whitespace":
                new = pa.array(_case_whitespace(text.take(pa.array(index)).to_pylist(), rng))
            elif kind == "out_of_range":
                new = pa.array(_out_of_range(text.take(pa.array(index)).to_pylist(), rng))
            else:
                new = pa.array(
                    list(rng.choice(np.array(MISSING_MARKERS, dtype=object), len(index)))
                )
            text = pc.replace_with_mask(text, mask, new.cast(pa.string()))
            counts[kind] = counts.get(kind, 0) + len(index)
        table = table.set_column(table.column_names.index(column), column, text)
    return table


def with_duplicates(
    table: pa.Table, rate: float, rng: np.random.Generator
) -> tuple[pa.Table, set[int]]:
    """Insert exact copies of about ``rate`` of the rows, each a few rows after its original.

    Returns the new table and the positions of every row taking part in a duplicate pair, so
    that later faults leave those rows alone and the duplicates stay exact.
    """
    n = table.num_rows
    dup = np.flatnonzero(rng.random(n) < rate)
    if not len(dup):
        return table, set()
    keys = np.concatenate([np.arange(n, dtype=float), dup + rng.integers(0, 50, len(dup)) + 0.5])
    order = np.concatenate([np.arange(n), dup])[np.argsort(keys, kind="stable")]
    return table.take(pa.array(order)), set(np.flatnonzero(np.isin(order, dup)).tolist())


def csv_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", delimiter=",")
    pacsv.write_csv(table, sink, options)
    return sink.getvalue()


def malform(
    data: bytes, rate: float, rng: np.random.Generator, protected: set[int]
) -> tuple[bytes, int]:
    """Break about ``rate`` of the lines: truncated, an extra field, or a stray text line."""
    if rate <= 0:
        return data, 0
    lines = data.split(b"\n")
    body = len(lines) - 1  # the last element is empty: the text ends with a newline
    hit = [i for i in np.flatnonzero(rng.random(body) < rate) if i not in protected]
    for i, kind in zip(hit, rng.integers(0, 3, len(hit)), strict=True):
        line = lines[i]
        if kind == 0 and b'"' not in line:
            lines[i] = line.rsplit(b",", 2)[0]
        elif kind == 1:
            lines[i] = line + b",UNEXPECTED"
        else:
            lines[i] = b"### export page break ###"
    return b"\n".join(lines), len(hit)
