"""Vectorised cleaning of one batch of raw CSV text: missing markers, trimming, case, types.

Every function here is pure: Arrow arrays of raw strings in, typed Arrow arrays and a list of
problems out. Nothing loops over rows in Python except over the (few) rows that are rejected.

A column's :class:`ColumnPlan` says what it should hold (from the loan-book contract, or inferred
from the first batch of any other CSV). :func:`clean_batch` applies the plans to a batch and
returns the typed columns plus, for each rejected row, the reasons.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from Module_1_Foundations.project.column_plans import ColumnPlan, canonical_spellings
from Module_1_Foundations.project.csv_reading import UNDECODABLE_CLOSE, UNDECODABLE_OPEN
from Module_1_Foundations.project.value_parsing import (
    ARROW_TYPES,
    as_mask,
    decimal_comma_as_point,
    drop_rolled_iso_days,
    normalise_missing,
    null_where_not,
    parse_bools,
    parse_dates,
    parse_numbers,
    parse_timestamps,
    parse_zoned_timestamps,
    plain_numbers,
    scatter,
    ymd_dates,
)

#: C0 control characters inside a cell (tab, line feed and carriage return are ordinary text
#: in a quoted field); RE2 syntax for the Arrow kernels.
CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_CONTROL_RE = re.compile(CONTROL_PATTERN)
_UNDECODABLE = f"{UNDECODABLE_OPEN}(?P<b>[^{UNDECODABLE_CLOSE}]*){UNDECODABLE_CLOSE}"
_NOUN = {
    "int": "an integer",
    "float": "a number",
    "bool": "a yes/no value",
    "date": "a date",
    "timestamp": "a timestamp",
    "timestamptz": "a timestamp with a UTC offset",
}


@dataclass
class Problem:
    """Rows (a boolean mask) that break one rule of one column."""

    column: str
    mask: np.ndarray
    message: str  # '{value}' is replaced by the raw cell, or by ``shown``
    kind: str
    #: What '{value}' shows for each masked row, in row order (default: the raw cell).
    shown: pa.Array | None = None


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
            if kind in ("int", "float", "timestamp", "timestamptz"):
                return pc.cast(raw, ARROW_TYPES[kind])
            if kind == "date":
                return drop_rolled_iso_days(raw, pc.cast(raw, pa.date32()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            plan.dirty = True
    if kind in ("int", "float"):
        return pc.cast(null_where_not(raw, plain_numbers(raw, kind)), ARROW_TYPES[kind])
    if kind == "date":
        return ymd_dates(raw)
    return None


def _parse_text(text: pa.Array, plan: ColumnPlan) -> tuple[pa.Array, np.ndarray]:
    """Parse trimmed, marker-free text in every accepted form; return values and a 'bad' mask."""
    kind = plan.kind
    if kind in ("int", "float"):
        values, ok = parse_numbers(text, kind)  # type: ignore[arg-type]
        return values, as_mask(pc.and_(pc.is_valid(text), pc.invert(ok)))
    if kind == "date":
        values = parse_dates(text, plan.date_formats, plan.format_hits)
    else:
        parser = {
            "timestamp": parse_timestamps,
            "timestamptz": parse_zoned_timestamps,
            "bool": parse_bools,
        }[kind]
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
    if plan.decimal_comma:
        raw, ok = decimal_comma_as_point(pc.utf8_trim_whitespace(raw))
        wrong = as_mask(pc.and_(pc.invert(ok), pc.match_substring(raw, ".")))
        if wrong.any():
            message = "'{value}' is not a number written with a decimal comma (like 1.234,5)"
            problems.append(Problem(plan.name, wrong, message, "type"))
    if plan.kind == "string":
        typed = _clean_text(raw, plan)
    else:
        fast = _parse_fast(raw, plan)
        if fast is None:
            typed, bad = _parse_text(normalise_missing(raw), plan)
        elif fast.null_count == 0:
            typed, bad = fast, np.zeros(n, dtype=bool)
        else:
            index = np.flatnonzero(~as_mask(pc.is_valid(fast)))
            values, bad_subset = _parse_text(normalise_missing(raw.take(index)), plan)
            typed = pc.coalesce(fast, scatter(values, pa.array(index), n))
            bad = np.zeros(n, dtype=bool)
            bad[index[bad_subset]] = True
        if bad.any():
            message = f"'{{value}}' is not {_NOUN[plan.kind]}"
            problems.append(Problem(plan.name, bad, message, "type"))
    # Numbers are checked in NumPy on one view of the values (nulls read as NaN, which no
    # comparison flags): one conversion instead of an Arrow kernel and a mask per rule.
    numbers = typed.to_numpy(zero_copy_only=False) if plan.kind in ("int", "float") else None
    if plan.kind == "float":
        assert numbers is not None
        nan = np.isnan(numbers)
        if typed.null_count:
            nan &= as_mask(pc.is_valid(typed))
        if nan.any():
            typed = pc.if_else(pa.array(nan), pa.scalar(None, pa.float64()), typed)
        inf = np.isinf(numbers)
        if inf.any():
            problems.append(Problem(plan.name, inf, "'{value}' is not a finite number", "type"))
    already = problems[0].mask if problems else np.zeros(n, dtype=bool)
    if not plan.nullable and typed.null_count:
        missing = ~as_mask(pc.is_valid(typed)) & ~already
        if missing.any():
            problems.append(Problem(plan.name, missing, "missing value", "missing"))
    if plan.min is not None and numbers is not None:
        low = numbers < plan.min
        if low.any():
            problems.append(Problem(plan.name, low, f"'{{value}}' is below {plan.min:g}", "range"))
    if plan.max is not None and numbers is not None:
        high = numbers > plan.max
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


@dataclass(frozen=True)
class CellScreen:
    """Which checks on the raw text a batch needs before its values are typed.

    The reader tells whether the file has shown a control byte or an undecodable sequence so
    far; only then is every cell searched (the common, clean file pays nothing).
    """

    controls: bool = False
    undecodable: bool = False
    #: Drop control characters from the text instead of rejecting their rows.
    remove_controls: bool = False


def _escaped_controls(values: list[str | None]) -> pa.Array:
    """The first control character of each value, written ``\\xNN``."""
    shown = []
    for value in values:
        found = _CONTROL_RE.search(value or "")
        shown.append(f"\\x{ord(found.group()):02x}" if found else "")
    return pa.array(shown, pa.string())


def screen_cells(raw: pa.Array, name: str, screen: CellScreen) -> tuple[pa.Array, list[Problem]]:
    """Reject (or clean) cells holding undecodable bytes or C0 control characters."""
    problems: list[Problem] = []
    if screen.undecodable:
        hit = as_mask(pc.match_substring(raw, UNDECODABLE_OPEN))
        if hit.any():
            found = pc.extract_regex(raw.take(pa.array(np.flatnonzero(hit))), _UNDECODABLE)
            problems.append(
                Problem(
                    name,
                    hit,
                    "bytes {value} are not valid UTF-8, which the rest of the file is",
                    "encoding",
                    shown=pc.struct_field(found, "b"),
                )
            )
    if screen.controls:
        hit = as_mask(pc.match_substring_regex(raw, CONTROL_PATTERN))
        if hit.any() and screen.remove_controls:
            raw = pc.replace_substring_regex(raw, CONTROL_PATTERN, "")
        elif hit.any():
            values = raw.take(pa.array(np.flatnonzero(hit))).to_pylist()
            problems.append(
                Problem(
                    name,
                    hit,
                    "control character {value} in the text (--remove-control-chars drops them)",
                    "control",
                    shown=_escaped_controls(values),
                )
            )
    return raw, problems


def clean_batch(
    raw_columns: Sequence[pa.Array], plans: Sequence[ColumnPlan], screen: CellScreen | None = None
) -> CleanBatch:
    """Clean every column of a batch (raw text, one array per planned column)."""
    out = CleanBatch(columns=[])
    for raw, plan in zip(raw_columns, plans, strict=True):
        if screen is not None and (screen.controls or screen.undecodable):
            raw, screened = screen_cells(raw, plan.name, screen)
            out.problems.extend(screened)
        typed, problems = clean_column(raw, plan)
        out.columns.append(typed)
        out.problems.extend(problems)
    return out
