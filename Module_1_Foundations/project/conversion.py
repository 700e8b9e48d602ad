"""Stream any CSV into a clean, typed Parquet dataset, with every row accounted for.

The shape of a run (see :func:`convert_csv`); each step lives in the file named for it:

1. sniff encoding, delimiter and header from the first MiB (``csv_sniffing.py``);
2. plan each column: from the loan-book contract when ``table`` is given, else inferred from
   the first batch (``column_plans.py``);
3. stream the file in blocks, every cell read as text, in a parser thread
   (``csv_reading.py``); rows with the wrong number of fields come back with their line number;
4. per batch, vectorised: missing markers, trimming, case, types, contract rules
   (``cleaning.py``, ``value_parsing.py``); exact duplicate rows by 64-bit fingerprint over the
   whole file and duplicate keys (``duplicates.py``, ``fingerprints.py``, ``dedup.py``);
5. write Parquet (zstd) in a writer thread (``dataset_writing.py``) into a staged folder, with
   the rejects CSV (``rejects.py``) and the manifest (``run_manifest.py``), then swap the folder
   into place (``common/io.atomic_directory``): a reader sees the old dataset or the new one.

``rows_in = rows_out + rows_rejected + duplicates_removed`` holds for every run, and is recorded.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import itertools
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import atomic_directory, atomic_path, write_json_atomic
from Module_1_Foundations.common.lake import PARTITION_KEY, TABLE_MANIFEST
from Module_1_Foundations.common.logs import progress_bar
from Module_1_Foundations.datasets.loanbook_schema import TABLES, TableSpec
from Module_1_Foundations.project.cleaning import CellScreen, CleanBatch, Problem, clean_batch
from Module_1_Foundations.project.column_plans import (
    ColumnPlan,
    check_contract_header,
    contract_plans,
    infer_plan,
    plan_schema,
)
from Module_1_Foundations.project.csv_reading import (
    BLOCK_SIZE,
    CsvBatches,
    RetryWith,
    RowBatch,
    header_and_names,
    leading_blank_lines,
)
from Module_1_Foundations.project.csv_sniffing import CsvDialect, decode_sample, read_sample, sniff
from Module_1_Foundations.project.dataset_writing import (
    DatasetWriter,
    WriterThread,
    check_partition,
    parse_partition,
)
from Module_1_Foundations.project.dedup import MEMORY_BUDGET
from Module_1_Foundations.project.duplicates import DuplicateCheck
from Module_1_Foundations.project.rejects import RejectWriter, reject_reasons
from Module_1_Foundations.project.run_manifest import ConversionResult, build_manifest

__all__ = [
    "BLOCK_SIZE",
    "MANIFEST_NAME",
    "ConversionOptions",
    "ConversionResult",
    "check_contract_header",
    "convert_csv",
]

log = logging.getLogger(__name__)

MANIFEST_NAME = TABLE_MANIFEST
#: Batches between two ``malloc_trim`` calls.
TRIM_EVERY = 4
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc (macOS, musl): nothing to trim
    _LIBC = None


@dataclass(frozen=True)
class ConversionOptions:
    """Everything one conversion is asked to do (the arguments of :func:`convert_csv`)."""

    input_csv: Path
    output_dir: Path
    table: str | None = None
    partition_by: str | None = None
    rejects_dir: Path | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header: bool | None = None
    block_size: int = BLOCK_SIZE
    show_progress: bool = False
    dedup_memory: int = MEMORY_BUDGET
    #: What to do with a C0 control character (NUL, ESC, ...) in a cell: reject its row, or
    #: remove the character and keep the row.
    control_chars: Literal["reject", "remove"] = "reject"
    #: Keep the load partitions (``PARTITION_KEY`` folders) already inside ``output_dir``: the daily
    #: loads Module 2 adds to a snapshot table survive a re-conversion of the snapshot.
    keep_load_partitions: bool = False

    @property
    def source(self) -> str:
        """How messages name the input."""
        return str(self.input_csv)

    @property
    def spec(self) -> TableSpec | None:
        if self.table is None:
            return None
        if self.table not in TABLES:
            raise UserError(f"--table {self.table!r} is unknown: use one of {', '.join(TABLES)}")
        return TABLES[self.table]

    @property
    def partition(self) -> tuple[str, str] | None:
        return parse_partition(self.partition_by)

    @property
    def stem(self) -> str:
        """The name of the rejects file: ``<stem>_rejects.csv``."""
        return self.table or self.input_csv.stem

    @property
    def rejects_path(self) -> Path:
        folder = self.rejects_dir or self.output_dir / "_rejects"
        return folder / f"{self.stem}_rejects.csv"


@dataclass(frozen=True)
class Tally:
    """Rows counted so far: in, written, duplicates (rejects are counted by the writer)."""

    rows_in: int = 0
    rows_out: int = 0
    duplicates: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.rows_in + other.rows_in,
            self.rows_out + other.rows_out,
            self.duplicates + other.duplicates,
        )


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
    control_chars: Literal["reject", "remove"] = "reject",
    keep_load_partitions: bool = False,
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
        control_chars: ``"reject"`` (default) rejects a row with a C0 control character (NUL,
            ESC, ...; not tab or line breaks) in a cell, ``"remove"`` deletes the characters.
        keep_load_partitions: carry the load partitions (``PARTITION_KEY`` folders) of
            ``output_dir`` into the new dataset (hard links, in the same atomic swap).

    Raises:
        UserError: one line, for a missing, empty, header-only, binary or unreadable file, a
            header that lacks contract columns, a wrong delimiter or an unknown table.
    """
    options = ConversionOptions(
        input_csv=Path(input_csv),
        output_dir=Path(output_dir),
        table=table,
        partition_by=partition_by,
        rejects_dir=None if rejects_dir is None else Path(rejects_dir),
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        block_size=block_size,
        show_progress=show_progress,
        dedup_memory=dedup_memory,
        control_chars=control_chars,
        keep_load_partitions=keep_load_partitions,
    )
    return run_conversion(options)


def run_conversion(options: ConversionOptions) -> ConversionResult:
    """Convert as ``options`` say; restart with a bigger block or another encoding if needed."""
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    spec = options.spec
    sample = read_sample(options.input_csv)
    dialect, text = sniff(
        sample,
        source=options.source,
        encoding=options.encoding,
        delimiter=options.delimiter,
        header=True if (spec is not None and options.header is None) else options.header,
    )
    options.partition  # noqa: B018 - a bad --partition-by is refused before any work
    while True:
        try:
            return _attempt(options, dialect, text, started, started_at)
        except RetryWith as retry:
            if retry.block_size:
                log.warning(
                    "%s: a record is longer than %d MiB; retrying with %d MiB blocks",
                    options.source,
                    options.block_size >> 20,
                    retry.block_size >> 20,
                )
                options = dataclasses.replace(options, block_size=retry.block_size)
            if retry.encoding:
                log.warning(
                    "%s is not valid %s past the first MiB; retrying as %s",
                    options.source,
                    dialect.encoding,
                    retry.encoding,
                )
                dialect = dataclasses.replace(dialect, encoding=retry.encoding)
                text = decode_sample(sample, retry.encoding)


def _attempt(
    options: ConversionOptions,
    dialect: CsvDialect,
    sample_text: str,
    started: float,
    started_at: str,
) -> ConversionResult:
    """One pass over the file: read, clean, deduplicate, write; publish only if it balances."""
    spec, partition, source = options.spec, options.partition, options.source
    headers, names = header_and_names(sample_text, dialect, source)
    ignored = check_contract_header(spec, names, source) if spec is not None else []
    columns = [n for n in names if n not in ignored]
    plans = contract_plans(spec, names, headers) if spec is not None else None
    if plans is not None:
        check_partition(plans, partition)
    output_dir = options.output_dir
    with contextlib.ExitStack() as stack:
        staged = stack.enter_context(atomic_directory(output_dir))
        final_rejects = options.rejects_path
        if options.rejects_dir is None:
            staged_rejects = staged / final_rejects.relative_to(output_dir)
        else:
            staged_rejects = stack.enter_context(atomic_path(final_rejects))
        rejects = RejectWriter(staged_rejects, dialect.delimiter)
        stack.callback(rejects.close)
        # Spill files: beside the output (same filesystem, never inside the folder that is
        # published), created only if a budget is exceeded, deleted whatever happens.
        spill_dir = staged.with_name(staged.name.replace(".tmp-", ".spill-"))
        stack.callback(shutil.rmtree, spill_dir, ignore_errors=True)
        key_positions = None
        if spec is not None and spec.key:
            key_positions = [i for i, name in enumerate(columns) if name in spec.key]
        size = options.input_csv.stat().st_size
        duplicates = stack.enter_context(
            DuplicateCheck(key_positions, options.dedup_memory, spill_dir, size)
        )
        reader = stack.enter_context(
            CsvBatches(
                options.input_csv,
                dialect,
                names,
                columns,
                options.block_size,
                source,
                blank_lines=leading_blank_lines(sample_text),
            )
        )
        batches = iter(reader)
        stack.callback(batches.close)  # stops the parser thread whatever happens
        first = next(batches, None)
        if first is not None:  # rows in the file, about: the first block's, scaled by size
            duplicates.expect_rows(int(first.rows.num_rows * max(1.0, size / options.block_size)))
        if plans is None:
            plans = _inferred_plans(first, names, headers, dialect.delimiter)
            check_partition(plans, partition)
        writer = WriterThread(DatasetWriter(staged, plan_schema(plans), partition))
        stack.callback(writer.abandon)
        bar = (
            progress_bar(size, desc=options.input_csv.name, unit="B")
            if options.show_progress
            else None
        )
        if bar is not None:
            stack.callback(bar.close)
        tally, read_bytes = Tally(), 0
        everything = itertools.chain([] if first is None else [first], batches)

        def screen() -> CellScreen:
            return CellScreen(
                controls=reader.may_hold_controls,
                undecodable=reader.may_hold_undecodable,
                remove_controls=options.control_chars == "remove",
            )

        # closed with the stack: an error on this thread waits for the batch being cleaned
        cleaning = stack.enter_context(
            contextlib.closing(_cleaned_ahead(everything, plans, screen))
        )
        for count, (batch, raw, (cleaned, hashes)) in enumerate(cleaning, start=1):
            tally += _process_batch(batch, raw, cleaned, hashes, spec, writer, rejects, duplicates)
            if count % TRIM_EVERY == 0:
                _return_free_memory()
            if bar is not None:
                bar.update(reader.position - read_bytes)
                read_bytes = reader.position
        tally += _drain_deferred(plans, spec, writer, rejects, duplicates)
        input_sha = reader.finish()
        if tally.rows_in == 0:
            raise UserError(
                f"{source} has a header but no data rows: nothing to convert"
                if dialect.has_header
                else f"{source} has no data rows: nothing to convert"
            )
        files = writer.finish()
        rejects.close()
        result = ConversionResult(
            input_path=options.input_csv,
            output_dir=output_dir,
            table=spec.name if spec else None,
            rows_in=tally.rows_in,
            rows_out=tally.rows_out,
            rows_rejected=rejects.rows,
            duplicates_removed=tally.duplicates,
            output_files=[output_dir / f.relative_to(staged) for f in files],
            manifest_path=output_dir / MANIFEST_NAME,
            rejects_path=final_rejects,
            reject_reasons=dict(sorted(rejects.kinds.items())),
            input_sha256=input_sha,
            seconds=round(time.perf_counter() - started, 3),
        )
        if not result.balanced:  # a bug, never the user's: refuse to publish, say what is off
            raise AccountingError(result)
        manifest = build_manifest(
            result,
            dialect,
            plans,
            writer.writer,
            staged,
            staged_rejects,
            ignored,
            partition,
            duplicates.memory_report(),
            started_at,
        )
        write_json_atomic(staged / MANIFEST_NAME, manifest)
        if options.keep_load_partitions:
            carry_load_partitions(output_dir, staged)
    log.info("%s -> %s", result.summary(), output_dir)
    return result


def carry_load_partitions(old: Path, staged: Path) -> list[Path]:
    """Hard-link ``old``'s load partitions (``PARTITION_KEY`` folders) into ``staged``.

    Links, not copies: no data is duplicated, and the old folder the swap retires only loses
    its own names for the files. Returns the partitions carried over.
    """
    carried = []
    if old.is_dir():
        for folder in sorted(old.glob(f"{PARTITION_KEY}=*")):
            if folder.is_dir() and not (staged / folder.name).exists():
                shutil.copytree(folder, staged / folder.name, copy_function=os.link)
                carried.append(staged / folder.name)
    return carried


class AccountingError(UserError):
    """The counts do not balance: some record was not counted exactly once. Nothing is
    published; the message says by how much and where to look."""

    def __init__(self, result: ConversionResult) -> None:
        gap = result.rows_in - (result.rows_out + result.rows_rejected + result.duplicates_removed)
        what = "went uncounted" if gap > 0 else "were counted twice"
        super().__init__(
            f"{result.summary()}: {abs(gap):,} record(s) {what}, so nothing was published; "
            "this is a converter bug, please report it with the input file"
        )
        self.result = result


def _inferred_plans(
    first: RowBatch | None, names: list[str], headers: list[str], delimiter: str
) -> list[ColumnPlan]:
    """Plans inferred from the first batch (all text when the file has no parsed row)."""
    pairs = zip(names, headers, strict=True)
    if first is None:
        return [ColumnPlan(n, h, "string") for n, h in pairs]
    comma = delimiter == ";"  # only there can ',' be the decimal mark
    return [infer_plan(first.rows.column(n), n, h, decimal_comma=comma) for n, h in pairs]


def _return_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc keeps them otherwise; RSS only grows)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
    # Arrow's own allocator (mimalloc) keeps freed pages too, above all when one thread frees
    # what another allocated (the writer thread frees the batches the main thread read).
    pa.default_memory_pool().release_unused()


def _clean_and_hash(
    columns: list[pa.Array], plans: list[ColumnPlan], screen: CellScreen
) -> tuple[CleanBatch, list[np.ndarray]]:
    """Clean one batch's columns and hash the cleaned values (for the duplicate check)."""
    cleaned = clean_batch(columns, plans, screen)
    return cleaned, DuplicateCheck.column_hashes(cleaned.columns)


def _cleaned_ahead(
    batches: Iterable[RowBatch], plans: list[ColumnPlan], screen: Callable[[], CellScreen]
) -> Iterator[tuple[RowBatch, pa.RecordBatch, tuple[CleanBatch, list[np.ndarray]]]]:
    """Yield each batch, its planned raw columns and their cleaned values and hashes, in
    order, while the next one is cleaned.

    Cleaning and hashing (Arrow and NumPy kernels, which release the GIL) run on one worker
    thread, one batch ahead of the duplicate check and the rejects on the calling thread, so
    both cores work (the hashing moved there: the calling thread was the busier one). One
    worker keeps the batches in file order and each column plan's updates (a new spelling, a
    column found dirty) sequential; one batch ahead bounds the extra memory.
    """
    names = [p.name for p in plans]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-clean") as pool:
        pending = None
        for batch in batches:
            raw = batch.rows.select(names)
            # the screen is read when the batch is submitted: the reader has seen its bytes
            ahead = (batch, raw, pool.submit(_clean_and_hash, raw.columns, plans, screen()))
            if pending is not None:
                yield pending[0], pending[1], pending[2].result()
            pending = ahead
        if pending is not None:
            yield pending[0], pending[1], pending[2].result()


def _process_batch(
    batch: RowBatch,
    raw: pa.RecordBatch,
    cleaned: CleanBatch,
    hashes: list[np.ndarray],
    spec: TableSpec | None,
    writer: WriterThread,
    rejects: RejectWriter,
    duplicates: DuplicateCheck,
) -> Tally:
    """Clean, check and write one batch; return what it adds to the counts."""
    for row in batch.malformed:  # never deduplicated: each is a line lost to report
        rejects.write(row.number, row.reason, row.text, {"malformed"})
    n = batch.rows.num_rows
    tally = Tally(rows_in=len(batch.malformed) + n)
    if n == 0:
        return tally
    lines = batch.lines
    swallowed = batch.open_quote_row()
    if swallowed.any():
        message = (
            "a '\"' opened in this record is never closed: the rest of the file became a field"
        )
        cleaned.problems.append(
            Problem(raw.schema.names[-1], swallowed, message, "unterminated_quote")
        )
    bad = cleaned.bad_mask(n)
    keep = ~bad
    if keep.any():
        good = np.flatnonzero(keep)
        verdict = duplicates.check_valid(cleaned.columns, hashes, good, writer.schema, raw, lines)
        tally += Tally(duplicates=int(verdict.duplicate.sum()))
        keep[good[verdict.duplicate | verdict.conflict | verdict.deferred]] = False
        if verdict.conflict.any():
            assert spec is not None  # only a keyed contract has conflicts
            where = good[verdict.conflict]
            rejects.write_conflicts(lines[where], raw.take(pa.array(where)), spec.key)
    if bad.any():
        tally += _reject_rows(raw, cleaned.problems, bad, lines, rejects, duplicates)
    if keep.any():
        columns = cleaned.columns
        if not keep.all():  # one copy of the batch's columns, by the final verdict
            keep_arrow = pa.array(keep)
            columns = [c.filter(keep_arrow) for c in columns]
        table = pa.Table.from_arrays(columns, schema=writer.schema)
        writer.write(table)
        tally += Tally(rows_out=table.num_rows)
    return tally


def _reject_rows(
    raw: pa.RecordBatch,
    problems: list,
    bad: np.ndarray,
    lines: np.ndarray,
    rejects: RejectWriter,
    duplicates: DuplicateCheck,
) -> Tally:
    """Write the rows that broke a rule, with every reason; exact repeats count as duplicates."""
    where = np.flatnonzero(bad)
    take = pa.array(where)
    raws = rejects.raw_texts([column.take(take) for column in raw.columns])
    reasons, kinds = reject_reasons(problems, raw, where)
    verdict = duplicates.check_rejected(raws, lines[where], reasons, kinds)
    now = ~verdict.duplicate & ~verdict.deferred
    keep = pa.array(now)
    rejects.write_table(lines[where][now], reasons.filter(keep), raws.filter(keep))
    for kind, mask in kinds.items():
        rejects.kinds[kind] += int((mask & now).sum())
    return Tally(duplicates=int(verdict.duplicate.sum()))


def _drain_deferred(
    plans: list[ColumnPlan],
    spec: TableSpec | None,
    writer: WriterThread,
    rejects: RejectWriter,
    duplicates: DuplicateCheck,
) -> Tally:
    """Decide the rows set aside past the memory budget; write survivors and rejects in order."""
    rows_out = 0
    for count, kept in enumerate(duplicates.drain_valid(), start=1):
        if kept.num_rows:
            writer.write(pa.Table.from_arrays(kept.columns, schema=writer.schema))
            rows_out += kept.num_rows
        if count % TRIM_EVERY == 0:
            _return_free_memory()
    names = [p.name for p in plans]
    for lines, rows in duplicates.conflicts_found_at_the_end(names):
        assert spec is not None  # only a keyed contract has conflicts
        rejects.write_conflicts(lines, rows, spec.key)
    for kept in duplicates.drain_rejected():
        if kept.num_rows:
            rejects.write_table(
                kept.column("line").to_numpy(),
                kept.column("reason").combine_chunks(),
                kept.column("raw").combine_chunks(),
            )
            for names_of_row in kept.column("kinds").to_pylist():
                rejects.kinds.update(k for k in names_of_row.split(",") if k)
    return Tally(rows_out=rows_out, duplicates=duplicates.duplicates_found_at_the_end)
