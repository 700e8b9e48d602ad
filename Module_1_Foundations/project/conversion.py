"""Stream any CSV into a clean, typed Parquet dataset, with every row accounted for.

The shape of a run (see :func:`convert_csv`):

1. sniff encoding, delimiter and header from the first MiB (``csv_sniffing``);
2. plan each column: from the loan-book contract when ``table`` is given, else inferred from
   the first batch (``cleaning.infer_plan``);
3. stream the file through pyarrow's CSV reader in blocks (a reader thread parses while the
   main thread cleans and writes), every cell read as text; rows with the wrong number of fields
   come back through ``invalid_row_handler`` with their row number and text;
4. per batch, vectorised: missing markers, trimming, case, types, contract rules; exact
   duplicate rows (by 64-bit fingerprint over the whole file) and duplicate keys;
5. write Parquet (zstd) into a hidden temporary folder, with the rejects CSV and the manifest,
   then move the folder into place: a reader sees the old dataset or the new one, never half.

``rows_in = rows_out + rows_rejected + duplicates_removed`` holds for every run, and is recorded.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import hashlib
import io
import logging
import os
import queue
import re
import secrets
import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import sha256_file, write_json_atomic
from Module_1_Foundations.common.logs import progress_bar
from Module_1_Foundations.datasets.loanbook_schema import TABLES, TableSpec
from Module_1_Foundations.project.cleaning import (
    ColumnPlan,
    clean_batch,
    combine_hashes,
    hash_column,
    hash_strings,
    infer_plan,
)
from Module_1_Foundations.project.csv_sniffing import (
    CsvDialect,
    decode_sample,
    first_row,
    read_sample,
    sniff,
    unique_column_names,
)
from Module_1_Foundations.project.dedup import (
    LINE,
    MEMORY_BUDGET,
    BoundedDedup,
    SpillLog,
    spill_partitions,
)

log = logging.getLogger(__name__)

CONVERTER_VERSION = "1.0"
#: Bytes of CSV text per batch. A record longer than this triggers a retry with a larger block.
BLOCK_SIZE = 4 << 20
MAX_BLOCK_SIZE = 1 << 30
#: Blocks the CSV reader may read ahead of the batch being cleaned (bounds memory).
READ_AHEAD_BLOCKS = 4
#: Batches between two ``malloc_trim`` calls.
TRIM_EVERY = 4
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc (macOS, musl): nothing to trim
    _LIBC = None
#: Rows per Parquet row group (buffered across batches, per partition).
ROW_GROUP_ROWS = 256 * 1024
#: Buffered rows over all partitions before the largest buffer is flushed early.
MAX_BUFFERED_ROWS = 1 << 20
MAX_PARTITIONS = 2_000
PARTITION_GRAINS = ("day", "month", "year")
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
MANIFEST_NAME = "_manifest.json"
REJECT_COLUMNS = ("line_number", "reason", "raw")


@dataclass
class ConversionResult:
    """What one conversion did. ``rows_in == rows_out + rows_rejected + duplicates_removed``."""

    input_path: Path
    output_dir: Path
    table: str | None
    rows_in: int
    rows_out: int
    rows_rejected: int
    duplicates_removed: int
    output_files: list[Path]
    manifest_path: Path
    rejects_path: Path
    reject_reasons: dict[str, int] = field(default_factory=dict)
    input_sha256: str = ""
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_rejected + self.duplicates_removed

    def summary(self) -> str:
        """One line: the identity with this run's numbers."""
        return (
            f"{self.input_path.name}: rows_in {self.rows_in:,} = rows_out {self.rows_out:,}"
            f" + rows_rejected {self.rows_rejected:,}"
            f" + duplicates_removed {self.duplicates_removed:,}"
            f" ({'balanced' if self.balanced else 'NOT BALANCED'}, {self.seconds:.1f} s)"
        )


# ---------------------------------------------------------------------------------------------
# Plans: from the contract, or inferred
# ---------------------------------------------------------------------------------------------


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


def parse_partition(partition_by: str | None) -> tuple[str, str] | None:
    """``"issue_date"`` -> (issue_date, month); ``"issue_date:day"`` -> (issue_date, day)."""
    if not partition_by:
        return None
    column, _, grain = partition_by.partition(":")
    grain = grain or "month"
    if grain not in PARTITION_GRAINS:
        raise UserError(
            f"--partition-by {partition_by!r}: the grain must be one of "
            f"{', '.join(PARTITION_GRAINS)}, e.g. 'issue_date:month'"
        )
    return column, grain


# ---------------------------------------------------------------------------------------------
# Reading: a hashing input stream and a reader thread
# ---------------------------------------------------------------------------------------------


class HashingFile(io.RawIOBase):
    """A read-only file that feeds every byte it returns into SHA-256 (one pass for both).

    It also bounds memory: pyarrow's CSV reader reads ahead as far as it can, which for a big
    file means hundreds of MiB of buffered blocks. ``read`` waits while more than ``max_ahead``
    bytes have been handed out beyond what the consumer has :meth:`release`-d (with a timeout,
    so a reader that needs more bytes for one huge record is only slowed, never deadlocked).
    """

    def __init__(self, path: Path, max_ahead: int | None = None) -> None:
        super().__init__()
        self._handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.digest = hashlib.sha256()
        self.position = 0
        self.max_ahead = max_ahead
        self._released = 0
        self._cond = threading.Condition()

    def readable(self) -> bool:
        return True

    def release(self, nbytes: int) -> None:
        """The consumer is done with about ``nbytes`` more of the input."""
        with self._cond:
            self._released += nbytes
            self._cond.notify_all()

    def read(self, size: int = -1) -> bytes:
        if self.max_ahead is not None:
            with self._cond:
                self._cond.wait_for(
                    lambda: self.position - self._released <= self.max_ahead, timeout=0.5
                )
        data = self._handle.read(size)
        self.digest.update(data)
        self.position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def finish(self) -> str:
        """Hash whatever the reader did not consume; return the hex digest of the whole file."""
        self.max_ahead = None
        while self.read(1 << 20):
            pass
        return self.digest.hexdigest()

    def close(self) -> None:
        self._handle.close()
        super().close()


@dataclass
class _BadRow:
    number: int | None
    text: str
    expected: int
    actual: int


class _RetryError(Exception):
    """The attempt must restart with other reader options (a bigger block, another encoding)."""

    def __init__(self, block_size: int | None = None, encoding: str | None = None) -> None:
        super().__init__(block_size, encoding)
        self.block_size = block_size
        self.encoding = encoding


_DONE = object()


def _read_in_thread(reader: pacsv.CSVStreamingReader, out: queue.Queue, stop: threading.Event):
    """Producer: parse batches (pyarrow releases the GIL) while the consumer cleans and writes."""
    try:
        while not stop.is_set():
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            while not stop.is_set():
                try:
                    out.put(batch, timeout=0.2)
                    break
                except queue.Full:
                    continue
        out.put(_DONE)
    except BaseException as exc:  # forwarded to the consumer, re-raised there
        out.put(exc)


def _batches(reader: pacsv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
    out: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    thread = threading.Thread(target=_read_in_thread, args=(reader, out, stop), daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                out.get(timeout=0.1)
        thread.join()


def _classify_arrow_error(exc: Exception, block_size: int, encoding: str, source: str):
    message = str(exc)
    if "straddl" in message:
        if block_size >= MAX_BLOCK_SIZE:
            raise UserError(
                f"{source}: a record is longer than {MAX_BLOCK_SIZE >> 20} MiB; is a quote left "
                "open? (an unmatched '\"' makes the rest of the file one field)"
            ) from None
        raise _RetryError(block_size=min(block_size * 4, MAX_BLOCK_SIZE)) from None
    utf8_error = "invalid UTF8" in message or "invalid UTF-8" in message
    if utf8_error and encoding in ("utf-8", "utf_8"):
        raise _RetryError(encoding="cp1252") from None
    codec_error = "UnicodeDecodeError" in message or "codec can't decode" in message
    if codec_error and encoding == "cp1252":
        raise _RetryError(encoding="latin-1") from None
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    raise UserError(f"{source}: cannot be read as CSV: {first}") from None


# ---------------------------------------------------------------------------------------------
# Writing: buffered row groups per partition, rejects as CSV
# ---------------------------------------------------------------------------------------------


class _DatasetWriter:
    """Parquet files under one folder, optionally Hive-partitioned; row groups of a sane size."""

    def __init__(self, folder: Path, schema: pa.Schema, partition: tuple[str, str] | None):
        self.folder = folder
        self.schema = schema
        self.partition = partition
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.paths: dict[str, Path] = {}
        self.rows: Counter[str] = Counter()
        self.buffers: dict[str, list[pa.Table]] = {}
        self.buffered: Counter[str] = Counter()

    def _relative(self, key: str) -> Path:
        if self.partition is None:
            return Path("part-00000.parquet")
        column, grain = self.partition
        return Path(f"{column}_{grain}={key}") / "part-00000.parquet"

    def _flush(self, key: str) -> None:
        parts = self.buffers.pop(key, [])
        self.buffered.pop(key, None)
        if not parts:
            return
        table = pa.concat_tables(parts)
        if key not in self.writers:
            if len(self.writers) >= MAX_PARTITIONS:
                raise UserError(
                    f"--partition-by makes more than {MAX_PARTITIONS} partitions: use a "
                    "coarser grain, e.g. ':month' or ':year'"
                )
            path = self.folder / self._relative(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.paths[key] = path
            self.writers[key] = pq.ParquetWriter(
                path, self.schema, compression="zstd", write_statistics=True
            )
        self.writers[key].write_table(table, row_group_size=len(table))
        self.rows[key] += len(table)

    def write(self, table: pa.Table) -> None:
        if not len(table):
            return
        if self.partition is None:
            self._add("", table)
        else:
            column, grain = self.partition
            fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[grain]
            keys = pc.fill_null(pc.strftime(table[column], format=fmt), NULL_PARTITION)
            for key in pc.unique(keys).to_pylist():
                self._add(key, table.filter(pc.equal(keys, key)))
        while sum(self.buffered.values()) > MAX_BUFFERED_ROWS:
            self._flush(max(self.buffered, key=self.buffered.__getitem__))

    def _add(self, key: str, table: pa.Table) -> None:
        self.buffers.setdefault(key, []).append(table)
        self.buffered[key] += len(table)
        if self.buffered[key] >= ROW_GROUP_ROWS:
            self._flush(key)

    def close(self) -> list[Path]:
        for key in list(self.buffers):
            self._flush(key)
        if not self.writers and self.partition is None:  # an empty, typed file beats no file
            path = self.folder / self._relative("")
            self.paths[""] = path
            self.writers[""] = pq.ParquetWriter(path, self.schema, compression="zstd")
        for writer in self.writers.values():
            writer.close()
        return sorted(self.paths.values())


class _WriterThread:
    """Runs a :class:`_DatasetWriter` in its own thread: Parquet encoding overlaps cleaning."""

    def __init__(self, writer: _DatasetWriter) -> None:
        self.writer = writer
        self.schema = writer.schema
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self.writer.write(item)
                except BaseException as exc:
                    self._error = exc

    def write(self, table: pa.Table) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(table)

    def finish(self) -> list[Path]:
        """Wait for the queued tables, then close the files; re-raise a writer error."""
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.writer.close()

    def abandon(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
        for parquet in self.writer.writers.values():
            parquet.close()


class _RejectWriter:
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
        return pc.binary_join_element_wise(*fields, self.delimiter)

    def close(self) -> None:
        self._handle.close()


# ---------------------------------------------------------------------------------------------
# Line numbers of parsed rows, given the numbers of the rows the parser rejected
# ---------------------------------------------------------------------------------------------


def assign_line_numbers(start: int, count: int, skipped: deque[int]) -> np.ndarray:
    """Row numbers of ``count`` parsed rows from ``start``, stepping over ``skipped`` numbers.

    ``skipped`` holds, in increasing order, the numbers of rows the parser set aside; the ones
    that fall inside this batch are consumed.
    """
    numbers = np.arange(start, start + count, dtype=np.int64)
    while count and skipped and skipped[0] <= numbers[-1]:
        number = skipped.popleft()
        at = int(np.searchsorted(numbers, number))
        numbers[at:] += 1
    return numbers


# ---------------------------------------------------------------------------------------------
# The conversion
# ---------------------------------------------------------------------------------------------


@dataclass
class _Run:
    """Mutable state of one attempt."""

    plans: list[ColumnPlan] | None = None
    rows_in: int = 0
    rows_out: int = 0
    duplicates: int = 0
    next_row: int = 1
    bad_rows: list[_BadRow] = field(default_factory=list)
    skipped: deque[int] = field(default_factory=deque)
    # Valid rows (by cleaned values, or by key for a keyed contract) and rejected rows (by raw
    # text): in memory up to a budget each, then spilled to disk (see dedup.BoundedDedup).
    rows_dedup: BoundedDedup | None = None
    rejects_dedup: BoundedDedup | None = None
    #: Raw text of the batches whose rows were spilled (keyed tables: for key-conflict rejects).
    raw_log: SpillLog | None = None

    def dedups(self) -> list[BoundedDedup]:
        return [d for d in (self.rows_dedup, self.rejects_dedup) if d is not None]


def _source_name(path: Path) -> str:
    return str(path)


def convert_csv(
    input_csv: Path,
    output_dir: Path,
    *,
    table: str | None = None,
    partition_by: str | None = None,
    rejects_dir: Path | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    block_size: int = BLOCK_SIZE,
    show_progress: bool = False,
    dedup_memory: int = MEMORY_BUDGET,
) -> ConversionResult:
    """Convert one CSV into a Parquet dataset folder ``output_dir`` (zstd), with a manifest.

    Args:
        input_csv: any CSV file (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252 or
            Latin-1; delimiter ``, ; TAB |``; with or without a header).
        output_dir: the dataset folder; replaced atomically as a whole.
        table: a loan-book table name (``loanbook_schema.TABLES``) to enforce its contract;
            ``None`` infers the types from the first batch.
        partition_by: a date column, optionally with a grain: ``"issue_date"`` (monthly),
            ``"issue_date:day"``, ``"issue_date:year"``; files go under
            ``<column>_<grain>=<value>/``.
        rejects_dir: where ``<name>_rejects.csv`` goes (default ``output_dir/_rejects``).
        encoding, delimiter, header: override what is sniffed.
        block_size: bytes per read batch (memory scales with it; long records raise it).
        dedup_memory: bytes of fingerprints the duplicate check keeps in memory; past it, rows
            are spilled to hash-partitioned files beside the output and deduplicated one
            partition at a time, so memory stays bounded whatever the input size.

    Raises:
        UserError: one line, for a missing, empty, header-only or unreadable file, a header that
            lacks contract columns, a wrong delimiter or an unknown table.
    """
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    input_csv = Path(input_csv)
    output_dir = Path(output_dir)
    source = _source_name(input_csv)
    if table is not None and table not in TABLES:
        raise UserError(f"--table {table!r} is unknown: use one of {', '.join(TABLES)}")
    spec = TABLES[table] if table else None
    sample = read_sample(input_csv)
    dialect, text = sniff(
        sample,
        source=source,
        encoding=encoding,
        delimiter=delimiter,
        header=True if (spec is not None and header is None) else header,
    )
    partition = parse_partition(partition_by)
    attempt_encoding, attempt_block = dialect.encoding, block_size
    while True:
        if attempt_encoding != dialect.encoding:
            dialect = CsvDialect(
                attempt_encoding, dialect.delimiter, dialect.has_header, dialect.bom
            )
            text = decode_sample(sample, attempt_encoding)
        try:
            return _attempt(
                input_csv,
                output_dir,
                spec=spec,
                dialect=dialect,
                sample_text=text,
                partition=partition,
                rejects_dir=rejects_dir,
                block_size=attempt_block,
                show_progress=show_progress,
                dedup_memory=dedup_memory,
                started=started,
                started_at=started_at,
            )
        except _RetryError as retry:
            if retry.block_size:
                log.warning(
                    "%s: a record is longer than %d MiB; retrying with %d MiB blocks",
                    source,
                    attempt_block >> 20,
                    retry.block_size >> 20,
                )
                attempt_block = retry.block_size
            if retry.encoding:
                log.warning(
                    "%s is not valid %s past the first MiB; retrying as %s",
                    source,
                    attempt_encoding,
                    retry.encoding,
                )
                attempt_encoding = retry.encoding


def _attempt(
    input_csv: Path,
    output_dir: Path,
    *,
    spec: TableSpec | None,
    dialect: CsvDialect,
    sample_text: str,
    partition: tuple[str, str] | None,
    rejects_dir: Path | None,
    block_size: int,
    show_progress: bool,
    dedup_memory: int,
    started: float,
    started_at: str,
) -> ConversionResult:
    source = _source_name(input_csv)
    headers = first_row(sample_text, dialect.delimiter)
    if not dialect.has_header:
        headers = [f"column_{i}" for i in range(1, len(headers) + 1)]
    names = unique_column_names(headers)
    ignored: list[str] = []
    if spec is not None:
        ignored = check_contract_header(spec, names, source)
    planned_names = [n for n in names if n not in ignored]
    run = _Run()
    if spec is not None:
        run.plans = contract_plans(spec, names, headers)
        _check_partition(run.plans, partition)

    stem = spec.name if spec is not None else input_csv.stem
    tmp_dir = output_dir.parent / f".{output_dir.name}.tmp-{secrets.token_hex(4)}"
    final_rejects = (rejects_dir or output_dir / "_rejects") / f"{stem}_rejects.csv"
    tmp_rejects = (
        tmp_dir / "_rejects" / final_rejects.name
        if rejects_dir is None
        else final_rejects.parent / f".{final_rejects.name}.tmp-{secrets.token_hex(4)}"
    )
    tmp_dir.mkdir(parents=True, exist_ok=False)
    # Spill files: beside the output (same filesystem, never inside the folder that is
    # published), created only if a budget is exceeded, deleted in ``finally`` whatever happens.
    spill_dir = output_dir.parent / f".{output_dir.name}.spill-{secrets.token_hex(4)}"
    partitions = spill_partitions(input_csv.stat().st_size)
    keyed = spec is not None and bool(spec.key)
    run.rows_dedup = BoundedDedup(keyed, dedup_memory, spill_dir / "rows", partitions)
    run.rejects_dedup = BoundedDedup(False, dedup_memory, spill_dir / "rejects", partitions)
    run.raw_log = SpillLog(spill_dir / "raw.arrow")
    rejects = _RejectWriter(tmp_rejects, dialect.delimiter)
    hashing = HashingFile(input_csv, max_ahead=READ_AHEAD_BLOCKS * block_size)
    writer: _WriterThread | None = None
    moved = False

    def on_invalid(row: Any) -> str:
        run.bad_rows.append(_BadRow(row.number, row.text, row.expected_columns, row.actual_columns))
        if row.number is not None:
            run.skipped.append(row.number)
        return "skip"

    try:
        read_options = pacsv.ReadOptions(
            use_threads=False,
            block_size=block_size,
            skip_rows=1 if dialect.has_header else 0,
            column_names=names,
            encoding=dialect.encoding,
        )
        parse_options = pacsv.ParseOptions(
            delimiter=dialect.delimiter,
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        )
        convert_options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(planned_names, pa.string()),
            include_columns=planned_names,
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        run.next_row = 2 if dialect.has_header else 1
        size = input_csv.stat().st_size
        bar = progress_bar(size, desc=input_csv.name, unit="B") if show_progress else None
        try:
            reader = pacsv.open_csv(
                hashing,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            read_bytes = 0
            for batches, batch in enumerate(_batches(reader), start=1):
                if run.plans is None:
                    run.plans = [
                        infer_plan(batch.column(n), n, h)
                        for n, h in zip(names, headers, strict=True)
                    ]
                    _check_partition(run.plans, partition)
                if writer is None:
                    writer = _WriterThread(_DatasetWriter(tmp_dir, _schema(run.plans), partition))
                _process_batch(batch, run, spec, writer, rejects)
                hashing.release(block_size)
                if batches % TRIM_EVERY == 0:
                    _return_free_memory()
                if bar is not None:
                    bar.update(hashing.position - read_bytes)
                    read_bytes = hashing.position
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            _classify_arrow_error(exc, block_size, dialect.encoding, source)
        finally:
            if bar is not None:
                bar.close()
        _drain_bad_rows(run, rejects)
        if writer is not None:
            _drain_spilled(run, spec, writer, rejects)
        input_sha = hashing.finish()
        if run.rows_in == 0:
            raise UserError(
                f"{source} has a header but no data rows: nothing to convert"
                if dialect.has_header
                else f"{source} has no data rows: nothing to convert"
            )
        if writer is None:  # every row was malformed: still write a typed, empty dataset
            if run.plans is None:
                run.plans = [
                    ColumnPlan(n, h, "string") for n, h in zip(names, headers, strict=True)
                ]
            writer = _WriterThread(_DatasetWriter(tmp_dir, _schema(run.plans), partition))
        files = writer.finish()
        rejects.close()
        result = ConversionResult(
            input_path=input_csv,
            output_dir=output_dir,
            table=spec.name if spec else None,
            rows_in=run.rows_in,
            rows_out=run.rows_out,
            rows_rejected=rejects.rows,
            duplicates_removed=run.duplicates,
            output_files=[output_dir / f.relative_to(tmp_dir) for f in files],
            manifest_path=output_dir / MANIFEST_NAME,
            rejects_path=final_rejects,
            reject_reasons=dict(sorted(rejects.kinds.items())),
            input_sha256=input_sha,
            seconds=round(time.perf_counter() - started, 3),
        )
        if not result.balanced:  # a bug, never a user error: refuse to publish
            raise AssertionError(f"row accounting does not balance: {result.summary()}")
        manifest = _manifest(
            result,
            dialect,
            run,
            writer.writer,
            tmp_dir,
            tmp_rejects,
            ignored,
            partition,
            started_at,
        )
        write_json_atomic(tmp_dir / MANIFEST_NAME, manifest)
        if rejects_dir is not None:
            os.replace(tmp_rejects, final_rejects)
        _swap_into_place(tmp_dir, output_dir)
        moved = True
        log.info("%s -> %s", result.summary(), output_dir)
        return result
    finally:
        hashing.close()
        for dedup in run.dedups():
            dedup.close()
        if run.raw_log is not None:
            run.raw_log.close()
        shutil.rmtree(spill_dir, ignore_errors=True)
        if not moved:
            rejects.close()
            if writer is not None:
                writer.abandon()
            shutil.rmtree(tmp_dir, ignore_errors=True)
            if rejects_dir is not None:
                tmp_rejects.unlink(missing_ok=True)


def _return_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc keeps them otherwise; RSS only grows)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
    # Arrow's own allocator (mimalloc) keeps freed pages too, above all when one thread frees
    # what another allocated (the writer thread frees the batches the main thread read).
    pa.default_memory_pool().release_unused()


def _check_partition(plans: list[ColumnPlan], partition: tuple[str, str] | None) -> None:
    if partition is None:
        return
    kinds = {p.name: p.kind for p in plans}
    column = partition[0]
    if column not in kinds:
        raise UserError(f"--partition-by {column!r} is not a column; columns: {', '.join(kinds)}")
    if kinds[column] not in ("date", "timestamp"):
        raise UserError(
            f"--partition-by {column!r} is a {kinds[column]} column: partition by a date column"
        )


def _schema(plans: list[ColumnPlan]) -> pa.Schema:
    return pa.schema([pa.field(p.name, p.arrow_type, nullable=True) for p in plans])


def _drain_bad_rows(run: _Run, rejects: _RejectWriter) -> None:
    """Record the rows the parser set aside (wrong number of fields)."""
    while run.bad_rows:
        bad = run.bad_rows.pop(0)
        run.rows_in += 1
        reason = f"malformed: expected {bad.expected} fields, found {bad.actual}"
        rejects.write(bad.number, reason, bad.text, {"malformed"})


def _process_batch(
    batch: pa.RecordBatch,
    run: _Run,
    spec: TableSpec | None,
    writer: _WriterThread,
    rejects: _RejectWriter,
) -> None:
    assert run.plans is not None
    n = batch.num_rows
    lines = assign_line_numbers(run.next_row, n, run.skipped)
    if n:
        run.next_row = int(lines[-1]) + 1
    _drain_bad_rows(run, rejects)
    run.rows_in += n
    if n == 0:
        return
    raw = [batch.column(p.name) for p in run.plans]
    cleaned = clean_batch(raw, run.plans)
    bad = cleaned.bad_mask(n)
    keep = ~bad
    if keep.any():
        keep_arrow = pa.array(keep)
        good_cols = [c.filter(keep_arrow) for c in cleaned.columns]
        good_index = np.flatnonzero(keep)
        hashes = [hash_column(c) for c in good_cols]
        row_fp = combine_hashes(hashes, len(good_index))
        key_fp = None
        if spec is not None and spec.key:
            positions = [i for i, p in enumerate(run.plans) if p.name in spec.key]
            key_fp = combine_hashes([hashes[i] for i in positions], len(good_index))
        assert run.rows_dedup is not None
        duplicate, conflict, spill = run.rows_dedup.check(row_fp, key_fp)
        run.duplicates += int(duplicate.sum())
        keep[good_index[duplicate]] = False
        if conflict.any():
            assert spec is not None
            where = good_index[conflict]
            keep[where] = False
            rows = batch.select([p.name for p in run.plans]).take(pa.array(where))
            _write_conflicts(lines[where], rows, spec, rejects)
        if spill.any():
            where = good_index[spill]
            keep[where] = False
            spill_arrow = pa.array(spill)
            columns = good_cols if spill.all() else [c.filter(spill_arrow) for c in good_cols]
            payload = pa.Table.from_arrays(columns, schema=writer.schema)
            if key_fp is not None:  # a key conflict found later is rejected with its raw text
                assert run.raw_log is not None
                raw_batch = batch.select([p.name for p in run.plans])
                run.raw_log.append(raw_batch.append_column(LINE, pa.array(lines, pa.int64())))
            run.rows_dedup.spill(
                lines[where], row_fp[spill], None if key_fp is None else key_fp[spill], payload
            )
    if bad.any():
        _reject_rows(batch, run, cleaned.problems, bad, lines, rejects)
    if keep.any():
        keep_arrow = pa.array(keep)
        table = pa.Table.from_arrays(
            [c.filter(keep_arrow) for c in cleaned.columns], schema=writer.schema
        )
        writer.write(table)
        run.rows_out += table.num_rows


def _reasons(problems: list, batch: pa.RecordBatch, where: np.ndarray) -> tuple[pa.Array, dict]:
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
            values = pc.fill_null(batch.column(problem.column).take(pa.array(hit)), "")
            long = pc.greater(pc.utf8_length(values), 60)
            if pc.any(long).as_py():
                cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(values, 0, 57), "...", "")
                values = pc.if_else(long, cut, values)
            text = pc.binary_join_element_wise(f"{problem.column}: {before}", values, after, "")
        else:
            text = pa.array([f"{problem.column}: {problem.message}"] * len(hit), pa.string())
        parts.append(_place(text, position[hit], k))
        mask = kinds.setdefault(problem.kind, np.zeros(k, dtype=bool))
        mask[position[hit]] = True
    reasons = pc.binary_join_element_wise(*parts, "; ", null_handling="skip")
    return reasons, kinds


def _place(values: pa.Array, index: np.ndarray, length: int) -> pa.Array:
    positions = np.full(length, -1, dtype=np.int64)
    positions[index] = np.arange(len(index))
    return values.take(pa.array(positions, mask=positions < 0))


def _reject_rows(
    batch: pa.RecordBatch,
    run: _Run,
    problems: list,
    bad: np.ndarray,
    lines: np.ndarray,
    rejects: _RejectWriter,
) -> None:
    """Write the rows that broke a rule, with every reason; exact repeats count as duplicates."""
    assert run.plans is not None
    where = np.flatnonzero(bad)
    take = pa.array(where)
    raws = rejects.raw_texts([batch.column(p.name).take(take) for p in run.plans])
    assert run.rejects_dedup is not None
    fingerprints = hash_strings(raws)
    repeat, _, spill = run.rejects_dedup.check(fingerprints)
    run.duplicates += int(repeat.sum())
    reasons, kinds = _reasons(problems, batch, where)
    now = ~repeat & ~spill
    keep = pa.array(now)
    rejects.write_table(lines[where][now], reasons.filter(keep), raws.filter(keep))
    for kind, mask in kinds.items():
        rejects.kinds[kind] += int((mask & now).sum())
    if spill.any():  # first seen past the memory budget: decided when the spill is drained
        at = np.flatnonzero(spill)
        kind_names = [",".join(sorted(kind for kind, mask in kinds.items() if mask[i])) for i in at]
        spill_arrow = pa.array(spill)
        payload = pa.table(
            {
                "line": pa.array(lines[where][spill], pa.int64()),
                "reason": reasons.filter(spill_arrow),
                "raw": raws.filter(spill_arrow),
                "kinds": pa.array(kind_names, pa.string()),
            }
        )
        run.rejects_dedup.spill(lines[where][spill], fingerprints[spill], None, payload)


def _write_conflicts(
    lines: np.ndarray, rows: pa.Table, spec: TableSpec, rejects: _RejectWriter
) -> None:
    """Reject rows whose key an earlier, different row has; ``rows`` are their raw values."""
    keys = rows.select(list(spec.key)).to_pylist()
    for line, key, values in zip(lines, keys, rows.to_pylist(), strict=True):
        shown = ", ".join(f"{k}={v!r}" for k, v in key.items())
        rejects.write(
            int(line),
            f"duplicate key {shown}: an earlier row has the same key",
            rejects.raw_text(tuple(values.values())),
            {"duplicate_key"},
        )


def _drain_spilled(
    run: _Run, spec: TableSpec | None, writer: _WriterThread, rejects: _RejectWriter
) -> None:
    """Deduplicate what was spilled and write its surviving rows and rejects (input order)."""
    assert run.plans is not None and run.rows_dedup is not None and run.rejects_dedup is not None
    for tables, kept in enumerate(run.rows_dedup.drain(), start=1):
        if kept.num_rows:
            writer.write(pa.Table.from_arrays(kept.columns, schema=writer.schema))
            run.rows_out += kept.num_rows
        if tables % TRIM_EVERY == 0:
            _return_free_memory()
    run.duplicates += run.rows_dedup.duplicates
    wanted = run.rows_dedup.conflict_lines
    if len(wanted):  # rare: one sequential read of the raw log for their text
        assert spec is not None and run.raw_log is not None
        names = [p.name for p in run.plans]
        for raw_batch in run.raw_log.scan():
            hit = np.isin(raw_batch.column(LINE).to_numpy(), wanted)
            if hit.any():
                rows = pa.Table.from_batches([raw_batch.filter(pa.array(hit))])
                _write_conflicts(rows.column(LINE).to_numpy(), rows.select(names), spec, rejects)
    for kept in run.rejects_dedup.drain():
        if kept.num_rows:
            rejects.write_table(
                kept.column("line").to_numpy(),
                kept.column("reason").combine_chunks(),
                kept.column("raw").combine_chunks(),
            )
            for names_of_row in kept.column("kinds").to_pylist():
                rejects.kinds.update(k for k in names_of_row.split(",") if k)
    run.duplicates += run.rejects_dedup.duplicates


def _swap_into_place(tmp_dir: Path, output_dir: Path) -> None:
    """Replace ``output_dir`` by ``tmp_dir``: rename the old one away, rename, delete the old."""
    old = None
    if output_dir.exists():
        old = output_dir.parent / f".{output_dir.name}.old-{secrets.token_hex(4)}"
        os.replace(output_dir, old)
    os.replace(tmp_dir, output_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _manifest(
    result: ConversionResult,
    dialect: CsvDialect,
    run: _Run,
    writer: _DatasetWriter,
    tmp_dir: Path,
    tmp_rejects: Path,
    ignored: list[str],
    partition: tuple[str, str] | None,
    started_at: str,
) -> dict[str, Any]:
    assert run.plans is not None
    outputs = []
    for key, path in sorted(writer.paths.items(), key=lambda kv: str(kv[1])):
        outputs.append(
            {
                "path": str(path.relative_to(tmp_dir)),
                "rows": writer.rows[key],
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
            }
        )
    input_stat = result.input_path.stat()
    return {
        "tool": "csv_to_parquet_to_s3",
        "version": CONVERTER_VERSION,
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {
            "path": str(result.input_path.resolve()),
            "bytes": input_stat.st_size,
            "sha256": result.input_sha256,
            "encoding": dialect.encoding,
            "bom": dialect.bom,
            "delimiter": dialect.delimiter,
            "header": dialect.has_header,
        },
        "table": result.table,
        "contract": "loanbook_schema" if result.table else None,
        "ignored_columns": ignored,
        "columns": [p.describe() for p in run.plans],
        "schema": [{"name": f.name, "type": str(f.type)} for f in writer.schema],
        "partitioning": (
            {"column": partition[0], "grain": partition[1], "style": "hive"} if partition else None
        ),
        "counts": {
            "rows_in": result.rows_in,
            "rows_out": result.rows_out,
            "rows_rejected": result.rows_rejected,
            "duplicates_removed": result.duplicates_removed,
            "identity": "rows_in = rows_out + rows_rejected + duplicates_removed",
            "balanced": result.balanced,
            "reject_reasons": result.reject_reasons,
        },
        "outputs": outputs,
        "rejects": {
            "path": str(result.rejects_path),
            "rows": result.rows_rejected,
            "sha256": sha256_file(tmp_rejects),
        },
        "parquet": {"compression": "zstd", "row_group_rows": ROW_GROUP_ROWS},
        "timings": {
            "seconds": result.seconds,
            "rows_per_second": round(result.rows_in / result.seconds) if result.seconds else None,
            "input_mb_per_second": (
                round(input_stat.st_size / 1e6 / result.seconds, 1) if result.seconds else None
            ),
        },
        "memory": {
            "duplicate_fingerprint_bytes": sum(d.nbytes for d in run.dedups()),
            "dedup_memory_budget_bytes": run.rows_dedup.budget if run.rows_dedup else None,
            "spilled_rows": sum(d.spilled_rows for d in run.dedups()),
            "spill_partitions": run.rows_dedup.partitions if run.rows_dedup else None,
        },
        "row_order": "input",
    }
