"""The rejects file: every refused row with its line number, all its reasons and its raw text.

``<name>_rejects.csv`` has the columns ``line_number, reason, raw``; a row that breaks several
rules lists every reason, ``; ``-joined. :attr:`RejectWriter.kinds` counts the rows per kind of
reason (``type``, ``range``, ``malformed``, ...) for the manifest.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from Module_1_Foundations.project.cleaning import CONTROL_PATTERN, Problem
from Module_1_Foundations.project.csv_reading import (
    CONTROL_BYTES,
    UNDECODABLE_CLOSE,
    UNDECODABLE_OPEN,
)
from Module_1_Foundations.project.value_parsing import scatter

REJECT_COLUMNS = ("line_number", "reason", "raw")
_UNPRINTABLE = f"{CONTROL_PATTERN[:-1]}{UNDECODABLE_OPEN}{UNDECODABLE_CLOSE}]"
#: The same class for Python's ``re``: one row's text is searched without building Arrow arrays.
_UNPRINTABLE_RE = re.compile(_UNPRINTABLE)


class RejectWriter:
    """Rejected rows as CSV: line number, reason, and the raw text of the row."""

    def __init__(self, path: Path, delimiter: str) -> None:
        self.path = path
        self.delimiter = delimiter
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._handle)
        self._csv.writerow(REJECT_COLUMNS)
        self.rows = 0
        self.kinds: Counter[str] = Counter()

    def write(self, line: int | None, reason: str, raw: str, kinds: set[str]) -> None:
        if _UNPRINTABLE_RE.search(raw):  # rare: the common row skips three Arrow kernels
            raw = escape_unprintable(pa.array([raw], pa.string()))[0].as_py()
        self._csv.writerow((line if line is not None else "", reason, raw))
        self.rows += 1
        self.kinds.update(kinds)

    def raw_text(self, values: tuple | list) -> str:
        """The row as CSV text (quoted only where a field needs it)."""
        fields = ["" if v is None else v for v in values]
        joined = self.delimiter.join(fields)
        if joined.count(self.delimiter) == len(fields) - 1 and not any(
            c in joined for c in ('"', "\n", "\r")
        ):
            return joined
        sink = io.StringIO()
        csv.writer(sink, delimiter=self.delimiter, lineterminator="").writerow(
            ["" if v is None else v for v in values]
        )
        return sink.getvalue()

    def write_table(self, lines: np.ndarray, reasons: pa.Array, raws: pa.Array) -> None:
        """Many rejects at once (vectorised): line numbers, reasons, raw rows."""
        if not len(lines):
            return
        table = pa.table({"line_number": pa.array(lines), "reason": reasons, "raw": raws})
        sink = io.BytesIO()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
        self._handle.flush()
        self._handle.write(sink.getvalue().decode("utf-8"))
        self.rows += len(lines)

    def raw_texts(self, columns: list[pa.Array]) -> pa.Array:
        """Rows as CSV text, vectorised (a field is quoted only when it needs to be)."""
        special = r'["\r\n' + re.escape(self.delimiter) + "]"
        fields = []
        for column in columns:
            text = pc.fill_null(column, "")
            needs = pc.match_substring_regex(text, special)
            if pc.any(needs).as_py():
                quoted = pc.binary_join_element_wise(
                    '"', pc.replace_substring(text, '"', '""'), '"', ""
                )
                text = pc.if_else(needs, quoted, text)
            fields.append(text)
        return escape_unprintable(pc.binary_join_element_wise(*fields, self.delimiter))

    def write_conflicts(self, lines: np.ndarray, rows: pa.Table, key: tuple[str, ...]) -> None:
        """Reject rows whose key an earlier, different row has; ``rows`` are their raw values."""
        keys = rows.select(list(key)).to_pylist()
        for line, key_values, values in zip(lines, keys, rows.to_pylist(), strict=True):
            shown = ", ".join(f"{k}={v!r}" for k, v in key_values.items())
            self.write(
                int(line),
                f"duplicate key {shown}: an earlier row has the same key",
                self.raw_text(tuple(values.values())),
                {"duplicate_key"},
            )

    def close(self) -> None:
        self._handle.close()


def reject_reasons(
    problems: list[Problem], batch: pa.RecordBatch, where: np.ndarray
) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """One reason string per rejected row (all its problems, '; '-joined), and kind masks."""
    k = len(where)
    position = np.full(batch.num_rows, -1, dtype=np.int64)
    position[where] = np.arange(k)
    parts: list[pa.Array] = []
    kinds: dict[str, np.ndarray] = {}
    for problem in problems:
        hit = np.flatnonzero(problem.mask)
        before, _, after = problem.message.partition("{value}")
        if "{value}" in problem.message:
            values = problem.shown
            if values is None:
                values = pc.fill_null(batch.column(problem.column).take(pa.array(hit)), "")
            values = escape_unprintable(values)
            long = pc.greater(pc.utf8_length(values), 60)
            if pc.any(long).as_py():
                cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(values, 0, 57), "...", "")
                values = pc.if_else(long, cut, values)
            text = pc.binary_join_element_wise(f"{problem.column}: {before}", values, after, "")
        else:
            text = pa.array([f"{problem.column}: {problem.message}"] * len(hit), pa.string())
        parts.append(scatter(text, pa.array(position[hit]), k))
        mask = kinds.setdefault(problem.kind, np.zeros(k, dtype=bool))
        mask[position[hit]] = True
    reasons = pc.binary_join_element_wise(*parts, "; ", null_handling="skip")
    return reasons, kinds


def escape_unprintable(text: pa.Array) -> pa.Array:
    """Control characters as ``\\xNN``, undecodable bytes as the reader escaped them: the
    rejects file stays plain text that any tool opens, and shows exactly what was there."""
    if not pc.any(pc.match_substring_regex(text, _UNPRINTABLE)).as_py():
        return text
    for marker in (UNDECODABLE_OPEN, UNDECODABLE_CLOSE):
        text = pc.replace_substring(text, marker, "")
    for code in CONTROL_BYTES:
        text = pc.replace_substring(text, chr(code), f"\\x{code:02x}")
    return text
