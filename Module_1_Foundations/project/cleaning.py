"""Vectorised cleaning of one batch of raw CSV text: missing markers, trimming, case, types.

Every function here is pure: Arrow arrays of raw strings in, typed Arrow arrays and a list of
problems out. Nothing loops over rows in Python except over the (few) rows that are rejected.

A column's :class:`ColumnPlan` says what it should hold (from the loan-book contract, or inferred
from the first batch of any other CSV). :func:`clean_batch` applies the plans to a batch and
returns the typed columns plus, for each rejected row, the reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from Module_1_Foundations.project.column_plans import ColumnPlan, Kind, canonical_spellings
from Module_1_Foundations.project.value_parsing import (
    ARROW_TYPES,
    FLOAT_PATTERN,
    INT_PATTERN,
    as_mask,
    drop_rolled_iso_days,
    normalise_missing,
    parse_bools,
    parse_dates,
    parse_numbers,
    parse_timestamps,
    scatter,
    ymd_dates,
)

_NOUN = {
    "int": "an integer",
    "float": "a number",
    "bool": "a yes/no value",
    "date": "a date",
    "timestamp": "a timestamp",
}


@dataclass
class Problem:
    """Rows (a boolean mask) that break one rule of one column."""

    column: str
    mask: np.ndarray
    message: str  # '{value}' is replaced by the raw cell
    kind: str


@dataclass
class CleanBatch:
    """The typed columns of a batch and the problems found in it."""

    columns: list[pa.Array]
    problems: list[Problem] = field(default_factory=list)

    def bad_mask(self, n: int) -> np.ndarray:
        bad = np.zeros(n, dtype=bool)
        for problem in self.problems:
            bad |= problem.mask
        return bad


def _canonicalise(text: pa.Array, plan: ColumnPlan) -> pa.Array:
    """Map each value to the canonical spelling of its lower-cased form (new forms are added)."""
    assert plan.canonical is not None
    lower = pc.utf8_lower(text)
    keys = pc.unique(pc.drop_null(lower)).to_pylist()
    new = [k for k in keys if k not in plan.canonical]
    if new:
        if plan.allowed is None:
            spelled = canonical_spellings(pc.filter(text, pc.is_in(lower, pa.array(new))))
            plan.canonical.update(spelled)
        else:  # a contract's allowed list is closed: unknown values stay as they are
            for key in new:
                plan.canonical.setdefault(key, None)  # type: ignore[arg-type]
    mapping_keys = pa.array(list(plan.canonical), pa.string())
    mapping_values = pa.array(list(plan.canonical.values()), pa.string())
    mapped = mapping_values.take(pc.index_in(lower, value_set=mapping_keys))
    return pc.coalesce(mapped, text)


def _parse_fast(raw: pa.Array, plan: ColumnPlan) -> pa.Array | None:
    """Parse cells already in canonical form (``12.5``, ``2024-01-05``); nulls elsewhere.

    ``None`` when nothing can be parsed this way. A column whose whole-column cast failed in
    the previous batch goes straight to the per-cell path.
    """
    kind = plan.kind
    if not plan.dirty:
        try:
            if kind in ("int", "float", "timestamp"):
                return pc.cast(raw, ARROW_TYPES[kind])
            if kind == "date":
                return drop_rolled_iso_days(raw, pc.cast(raw, pa.date32()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            plan.dirty = True
    if kind in ("int", "float"):
        ok = pc.match_substring_regex(raw, INT_PATTERN if kind == "int" else FLOAT_PATTERN)
        return pc.cast(pc.if_else(ok, raw, pa.scalar(None, pa.string())), ARROW_TYPES[kind])
    if kind == "date":
        return ymd_dates(raw)
    return None


def _parse_text(text: pa.Array, kind: Kind) -> tuple[pa.Array, np.ndarray]:
    """Parse trimmed, marker-free text in every accepted form; return values and a 'bad' mask."""
    if kind in ("int", "float"):
        values, ok = parse_numbers(text, kind)  # type: ignore[arg-type]
        return values, as_mask(pc.and_(pc.is_valid(text), pc.invert(ok)))
    parser = {"date": parse_dates, "timestamp": parse_timestamps, "bool": parse_bools}[kind]
    values = parser(text)
    return values, as_mask(pc.and_(pc.is_valid(text), pc.is_null(values)))


def _clean_text(raw: pa.Array, plan: ColumnPlan) -> pa.Array:
    """Trim, null the missing markers and (low-cardinality text) normalise case."""
    if plan.canonical is None:
        return normalise_missing(raw)
    known = pa.array([v for v in plan.canonical.values() if v is not None], pa.string())
    exact = pc.is_in(raw, value_set=known)
    if pc.all(exact).as_py():
        return raw
    index = pa.array(np.flatnonzero(~as_mask(exact)))
    fixed = _canonicalise(normalise_missing(raw.take(index)), plan)
    return pc.if_else(exact, raw, scatter(fixed, index, len(raw)))


def clean_column(raw: pa.Array, plan: ColumnPlan) -> tuple[pa.Array, list[Problem]]:
    """Clean one column of raw text according to its plan; return values and problems.

    The common case is vectorised over the whole column; only the cells that are not in
    canonical form (whitespace, markers, other date formats, junk) take the slower path, on
    the subset of rows that need it.
    """
    problems: list[Problem] = []
    n = len(raw)
    if plan.kind == "string":
        typed = _clean_text(raw, plan)
    else:
        fast = _parse_fast(raw, plan)
        if fast is None:
            typed, bad = _parse_text(normalise_missing(raw), plan.kind)
        elif fast.null_count == 0:
            typed, bad = fast, np.zeros(n, dtype=bool)
        else:
            index = np.flatnonzero(~as_mask(pc.is_valid(fast)))
            values, bad_subset = _parse_text(normalise_missing(raw.take(index)), plan.kind)
            typed = pc.coalesce(fast, scatter(values, pa.array(index), n))
            bad = np.zeros(n, dtype=bool)
            bad[index[bad_subset]] = True
        if bad.any():
            message = f"'{{value}}' is not {_NOUN[plan.kind]}"
            problems.append(Problem(plan.name, bad, message, "type"))
    if plan.kind == "float":
        nan = as_mask(pc.is_nan(typed))
        if nan.any():
            typed = pc.if_else(pa.array(nan), pa.scalar(None, pa.float64()), typed)
        inf = as_mask(pc.is_inf(typed))
        if inf.any():
            problems.append(Problem(plan.name, inf, "'{value}' is not a finite number", "type"))
    already = problems[0].mask if problems else np.zeros(n, dtype=bool)
    if not plan.nullable and typed.null_count:
        missing = ~as_mask(pc.is_valid(typed)) & ~already
        if missing.any():
            problems.append(Problem(plan.name, missing, "missing value", "missing"))
    if plan.min is not None and plan.kind in ("int", "float"):
        low = as_mask(pc.less(typed, plan.min))
        if low.any():
            problems.append(Problem(plan.name, low, f"'{{value}}' is below {plan.min:g}", "range"))
    if plan.max is not None and plan.kind in ("int", "float"):
        high = as_mask(pc.greater(typed, plan.max))
        if high.any():
            problems.append(Problem(plan.name, high, f"'{{value}}' is above {plan.max:g}", "range"))
    if plan.allowed is not None and plan.kind != "string":
        allowed = pa.array(list(plan.allowed), plan.arrow_type)
        outside = as_mask(pc.and_(pc.is_valid(typed), pc.invert(pc.is_in(typed, allowed))))
        if outside.any():
            problems.append(Problem(plan.name, outside, _not_one_of(plan.allowed), "allowed"))
    if plan.allowed is not None and plan.kind == "string":
        allowed = pa.array([str(v) for v in plan.allowed], pa.string())
        outside = as_mask(pc.and_(pc.is_valid(typed), pc.invert(pc.is_in(typed, allowed))))
        if outside.any():
            problems.append(Problem(plan.name, outside, _not_one_of(plan.allowed), "allowed"))
    return typed, problems


def _not_one_of(allowed: tuple) -> str:
    shown = ", ".join(str(v) for v in allowed[:10])
    more = ", ..." if len(allowed) > 10 else ""
    return f"'{{value}}' is not one of {shown}{more}"


def clean_batch(raw_columns: Sequence[pa.Array], plans: Sequence[ColumnPlan]) -> CleanBatch:
    """Clean every column of a batch (raw text, one array per planned column)."""
    out = CleanBatch(columns=[])
    for raw, plan in zip(raw_columns, plans, strict=True):
        typed, problems = clean_column(raw, plan)
        out.columns.append(typed)
        out.problems.extend(problems)
    return out
