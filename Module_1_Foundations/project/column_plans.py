"""What each column should hold: a :class:`ColumnPlan`, from the contract or inferred.

With a loan-book table the plans come from its contract (``datasets/loanbook_schema.py``); for
any other CSV they are inferred from the first batch (:func:`infer_plan`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.datasets.loanbook_schema import TableSpec
from Module_1_Foundations.project.value_parsing import (
    ARROW_TYPES,
    DAY_FIRST,
    DECIMAL_COMMA_PATTERN,
    FLOAT_PATTERN,
    INT_PATTERN,
    MONTH_FIRST,
    ZONED_TIMESTAMP_PATTERN,
    Kind,
    date_formats,
    day_month_order,
    normalise_missing,
    parse_bools,
    parse_dates,
    parse_timestamps,
    parse_zoned_timestamps,
)

#: Share of a column's sample values that must parse for the column to get that type.
INFER_THRESHOLD = 0.98
LOW_CARDINALITY = 50
_DATE_NAME = re.compile(r"(^|_)(date|day|dt|on|at|time|timestamp)$")


@dataclass
class ColumnPlan:
    """What one column should hold, and how to normalise it."""

    name: str
    source_header: str
    kind: Kind
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: tuple[str | int, ...] | None = None
    #: trimmed, lower-cased spelling -> canonical spelling (low-cardinality text only)
    canonical: dict[str, str] | None = None
    #: day/month order of ``NN/NN/YYYY`` dates (``DAY_FIRST``/``MONTH_FIRST``; None: month)
    date_order: str | None = None
    #: numbers written ``1.234,5`` (a ';'-delimited export)
    decimal_comma: bool = False
    #: why the column got its type, when that was a decision worth recording (the manifest)
    decision: str | None = None
    #: set once a whole-column cast has failed: later batches skip straight to per-cell parsing
    dirty: bool = field(default=False, compare=False)
    #: cells each date format has parsed so far in this file (the per-cell path tries the
    #: column's own habit first)
    format_hits: Counter[str] = field(default_factory=Counter, compare=False, repr=False)

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.kind]

    @property
    def date_formats(self) -> tuple[str, ...]:
        """The formats to try, the ones that parsed most cells so far first.

        The order changes only the work, not the result: no cell reads as two different dates
        under two of these formats (one of day-first and month-first is ever in the list).
        On the repayments export the two ISO formats, which the vectorised path has already
        tried on these cells and which never parse one, move to the end.
        """
        formats = date_formats(self.date_order or MONTH_FIRST)
        if not self.format_hits:
            return formats
        return tuple(sorted(formats, key=lambda f: -self.format_hits[f]))

    def describe(self) -> dict:
        out: dict = {"name": self.name, "source_header": self.source_header, "type": self.kind}
        out["nullable"] = self.nullable
        for key in ("min", "max", "allowed"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.canonical is not None:
            out["case_normalised"] = True
        if self.date_order is not None:
            out["date_order"] = self.date_order
        if self.decimal_comma:
            out["decimal_comma"] = True
        if self.decision is not None:
            out["decision"] = self.decision
        return out


@dataclass(frozen=True)
class TypeDecision:
    """The type inferred for a column, and what the manifest should say about it."""

    kind: Kind
    reason: str | None = None
    date_order: str | None = None
    decimal_comma: bool = False


def infer_kind(text: pa.Array, name: str = "", decimal_comma: bool = False) -> TypeDecision:
    """The narrowest type that at least ``INFER_THRESHOLD`` of the present values parse as.

    Dates: ``NN/NN/YYYY`` values are read day or month first as the column's own values say
    (:func:`day_month_order`); when they cannot tell, the column stays text and the decision
    says why. With ``decimal_comma`` (a ';'-delimited file), ``1,5`` is a number.
    """
    present = pc.drop_null(text)
    n = len(present)
    if n == 0:
        return TypeDecision("string")
    need = n * INFER_THRESHOLD

    def share(ok: pa.Array) -> float:
        return pc.sum(pc.cast(ok, pa.int64())).as_py() or 0

    order, why = day_month_order(present)
    chosen = order if order in (DAY_FIRST, MONTH_FIRST) else None
    date_ok = share(pc.is_valid(parse_dates(present, date_formats(chosen))))
    if order == "ambiguous":  # would the column be dates if the order were known?
        either = pc.or_(
            pc.is_valid(parse_dates(present, date_formats(MONTH_FIRST))),
            pc.is_valid(parse_dates(present, date_formats(DAY_FIRST))),
        )
        date_ok_either = share(either)
        if date_ok < need <= date_ok_either:
            return TypeDecision("string", f"kept as text: {why}")
    date = TypeDecision("date", why, chosen)
    if _DATE_NAME.search(name) and date_ok >= need:
        return date
    if share(pc.match_substring_regex(present, INT_PATTERN)) >= need:
        return TypeDecision("int")
    if share(pc.match_substring_regex(present, FLOAT_PATTERN)) >= need:
        return TypeDecision("float")
    if decimal_comma and _decimal_comma_column(present, need):
        return TypeDecision(
            "float", "decimal comma: ';'-delimited, written like 1.234,5", None, True
        )
    if share(pc.is_valid(parse_bools(present))) >= need:
        return TypeDecision("bool")
    if date_ok >= need:
        return date
    if share(pc.is_valid(parse_timestamps(present))) >= need:
        return TypeDecision("timestamp")
    zoned = share(pc.match_substring_regex(present, ZONED_TIMESTAMP_PATTERN))
    if zoned >= need and share(pc.is_valid(parse_zoned_timestamps(present))) >= need:
        return TypeDecision("timestamptz", "ISO 8601 with UTC offsets: converted to UTC")
    if zoned and zoned + share(pc.is_valid(parse_timestamps(present))) >= need:
        return TypeDecision("string", "kept as text: timestamps with and without a UTC offset")
    return TypeDecision("string")


def _decimal_comma_column(present: pa.Array, need: float) -> bool:
    """Do ``need`` of the values read as decimal-comma numbers, at least one with a comma?"""
    ok = pc.sum(pc.cast(pc.match_substring_regex(present, DECIMAL_COMMA_PATTERN), pa.int64()))
    return (ok.as_py() or 0) >= need and pc.any(pc.match_substring(present, ",")).as_py()


def _case_rank(value: str) -> int:
    """Prefer Mixed or Title case, then lower case, then UPPER CASE (a shouting export)."""
    if value.isupper():
        return 2
    return 1 if value.islower() else 0


def canonical_spellings(text: pa.Array) -> dict[str, str]:
    """lower-cased value -> its most frequent spelling (ties: Title/Mixed, then lower, UPPER)."""
    counts = pc.value_counts(pc.drop_null(text)).to_pylist()
    best: dict[str, tuple[int, int, str]] = {}
    for item in counts:
        value, count = item["values"], item["counts"]
        rank = (-count, _case_rank(value), value)
        key = value.lower()
        if key not in best or rank < best[key]:
            best[key] = rank
    return {key: rank[2] for key, rank in best.items()}


def infer_plan(
    raw: pa.Array, name: str, source_header: str, *, decimal_comma: bool = False
) -> ColumnPlan:
    """Plan one column of a CSV with no contract, from its first batch of raw text."""
    text = normalise_missing(raw)
    decided = infer_kind(text, name, decimal_comma)
    plan = ColumnPlan(
        name=name,
        source_header=source_header,
        kind=decided.kind,
        date_order=decided.date_order,
        decimal_comma=decided.decimal_comma,
        decision=decided.reason,
    )
    if decided.kind == "string":
        present = pc.drop_null(text)
        distinct = pc.count_distinct(pc.utf8_lower(present)).as_py() if len(present) else 0
        if 0 < distinct <= LOW_CARDINALITY and distinct * 2 <= len(present):
            plan.canonical = canonical_spellings(present)
    return plan


def contract_plans(spec: TableSpec, names: list[str], headers: list[str]) -> list[ColumnPlan]:
    """Plans for the contract's columns, in the file's order; unknown columns are not planned."""
    by_name = dict(zip(names, headers, strict=True))
    plans = []
    for name in names:
        if name not in spec.column_names:
            continue
        col = spec.column(name)
        canonical = None
        if col.type == "string" and col.allowed is not None:
            canonical = {str(v).lower(): str(v) for v in col.allowed}
        plans.append(
            ColumnPlan(
                name=name,
                source_header=by_name[name],
                kind=col.type,
                nullable=col.nullable,
                min=col.min,
                max=col.max,
                allowed=col.allowed,
                canonical=canonical,
            )
        )
    return plans


def check_contract_header(spec: TableSpec, names: list[str], source: str) -> list[str]:
    """Refuse a file that lacks contract columns; return the extra columns it will ignore."""
    missing = [n for n in spec.column_names if n not in names]
    if missing:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise UserError(
            f"{source}: table '{spec.name}' needs column(s) {', '.join(missing)}, which the "
            f"header lacks (found: {shown}); is this the right file, delimiter and --table?"
        )
    return [n for n in names if n not in spec.column_names]


def plan_schema(plans: list[ColumnPlan]) -> pa.Schema:
    """The Parquet schema of the planned columns (every column nullable)."""
    return pa.schema([pa.field(p.name, p.arrow_type, nullable=True) for p in plans])
