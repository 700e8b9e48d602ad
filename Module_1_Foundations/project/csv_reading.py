"""Reading a CSV in batches: one hashing pass over the bytes, a parser thread, line numbers.

Every cell is read as text (types are decided in ``cleaning.py``); rows with the wrong number of
fields come back from pyarrow's ``invalid_row_handler`` as :class:`MalformedRow`, and every
parsed row gets its line number. :class:`CsvBatches` yields :class:`RowBatch` objects: the rows,
their line numbers and the malformed rows the parser set aside since the previous batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import queue
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.project.csv_sniffing import CsvDialect, first_row, unique_column_names

#: Bytes of CSV text per batch. A record longer than this triggers a retry with a larger block.
BLOCK_SIZE = 4 << 20
MAX_BLOCK_SIZE = 1 << 30
#: Blocks the CSV reader may read ahead of the batch being cleaned (bounds memory).
READ_AHEAD_BLOCKS = 4


class RetryWith(Exception):  # noqa: N818 - a signal to the caller, not an error
    """The conversion must restart with other reader options (a bigger block, another encoding)."""

    def __init__(self, block_size: int | None = None, encoding: str | None = None) -> None:
        super().__init__(block_size, encoding)
        self.block_size = block_size
        self.encoding = encoding


@dataclass(frozen=True)
class MalformedRow:
    """A record the parser set aside: the wrong number of fields."""

    number: int | None
    text: str
    expected: int
    actual: int

    @property
    def reason(self) -> str:
        return f"malformed: expected {self.expected} fields, found {self.actual}"


@dataclass(frozen=True)
class RowBatch:
    """Parsed rows (all text), their line numbers, and the malformed rows set aside before."""

    rows: pa.RecordBatch
    lines: np.ndarray
    malformed: list[MalformedRow] = field(default_factory=list)


def header_and_names(sample_text: str, dialect: CsvDialect) -> tuple[list[str], list[str]]:
    """The file's headers (``column_<n>`` without a header line) and their snake_case names."""
    headers = first_row(sample_text, dialect.delimiter)
    if not dialect.has_header:
        headers = [f"column_{i}" for i in range(1, len(headers) + 1)]
    return headers, unique_column_names(headers)


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


def _parsed_batches(reader: pacsv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
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


def classify_read_error(exc: Exception, block_size: int, encoding: str, source: str) -> Exception:
    """What a parser error means: retry with other options, or a one-line :class:`UserError`."""
    message = str(exc)
    if "straddl" in message:
        if block_size >= MAX_BLOCK_SIZE:
            return UserError(
                f"{source}: a record is longer than {MAX_BLOCK_SIZE >> 20} MiB; is a quote left "
                "open? (an unmatched '\"' makes the rest of the file one field)"
            )
        return RetryWith(block_size=min(block_size * 4, MAX_BLOCK_SIZE))
    utf8_error = "invalid UTF8" in message or "invalid UTF-8" in message
    if utf8_error and encoding in ("utf-8", "utf_8"):
        return RetryWith(encoding="cp1252")
    codec_error = "UnicodeDecodeError" in message or "codec can't decode" in message
    if codec_error and encoding == "cp1252":
        return RetryWith(encoding="latin-1")
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return UserError(f"{source}: cannot be read as CSV: {first}")


class CsvBatches:
    """The rows of one CSV file, as :class:`RowBatch` objects, read in a background thread.

    Use as a context manager; after iterating, :meth:`finish` returns the SHA-256 of the whole
    file (hashed while it was read).
    """

    def __init__(
        self,
        path: Path,
        dialect: CsvDialect,
        names: list[str],
        columns: list[str],
        block_size: int,
        source: str,
    ) -> None:
        self.path = path
        self.dialect = dialect
        self.names = names
        self.columns = columns
        self.block_size = block_size
        self.source = source
        self._input = HashingFile(path, max_ahead=READ_AHEAD_BLOCKS * block_size)
        self._malformed: deque[MalformedRow] = deque()
        self._skipped: deque[int] = deque()

    @property
    def position(self) -> int:
        """Bytes of the input read so far."""
        return self._input.position

    def _on_invalid(self, row: Any) -> str:
        """pyarrow's handler for a row with the wrong number of fields (runs in its thread)."""
        self._malformed.append(
            MalformedRow(row.number, row.text, row.expected_columns, row.actual_columns)
        )
        if row.number is not None:
            self._skipped.append(row.number)
        return "skip"

    def _open(self) -> pacsv.CSVStreamingReader:
        read_options = pacsv.ReadOptions(
            use_threads=False,
            block_size=self.block_size,
            skip_rows=1 if self.dialect.has_header else 0,
            column_names=self.names,
            encoding=self.dialect.encoding,
        )
        parse_options = pacsv.ParseOptions(
            delimiter=self.dialect.delimiter,
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=self._on_invalid,
        )
        convert_options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(self.columns, pa.string()),
            include_columns=self.columns,
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        return pacsv.open_csv(
            self._input,
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )

    def _take_malformed(self) -> list[MalformedRow]:
        taken = []
        while self._malformed:
            taken.append(self._malformed.popleft())
        return taken

    def __iter__(self) -> Iterator[RowBatch]:
        """The batches; the last one (possibly empty) carries the malformed rows left over."""
        next_line = 2 if self.dialect.has_header else 1
        try:
            for rows in _parsed_batches(self._open()):
                lines = assign_line_numbers(next_line, rows.num_rows, self._skipped)
                if rows.num_rows:
                    next_line = int(lines[-1]) + 1
                yield RowBatch(rows, lines, self._take_malformed())
                self._input.release(self.block_size)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise classify_read_error(
                exc, self.block_size, self.dialect.encoding, self.source
            ) from None
        if self._malformed:
            empty = pa.RecordBatch.from_pylist([], schema=_text_schema(self.columns))
            yield RowBatch(empty, np.empty(0, np.int64), self._take_malformed())

    def finish(self) -> str:
        """Hash the rest of the input; the hex SHA-256 of the whole file."""
        return self._input.finish()

    def __enter__(self) -> CsvBatches:
        return self

    def __exit__(self, *exc: object) -> None:
        self._input.close()


def _text_schema(columns: list[str]) -> pa.Schema:
    return pa.schema([pa.field(c, pa.string()) for c in columns])
