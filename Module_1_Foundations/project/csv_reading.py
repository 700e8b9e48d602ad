"""Reading a CSV in batches: one hashing pass over the bytes, a parser thread, line numbers.

Every cell is read as text (types are decided in ``cleaning.py``); rows with the wrong number of
fields come back from pyarrow's ``invalid_row_handler`` as :class:`MalformedRow`, and every
parsed row gets its line number. :class:`CsvBatches` yields :class:`RowBatch` objects: the rows,
their line numbers and the malformed rows the parser set aside since the previous batch.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import hashlib
import io
import queue
import re
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
    #: The file's last batch, and the file ends inside a quoted field (an odd number of '"').
    open_quote_at_end: bool = False

    def open_quote_row(self) -> np.ndarray:
        """Mask of the row a quote left open swallowed: the last one, if a field of it spans a
        line break (pyarrow accepts the unterminated field; the row is not what was meant)."""
        mask = np.zeros(self.rows.num_rows, dtype=bool)
        if self.open_quote_at_end and self.rows.num_rows:
            last = self.rows.slice(self.rows.num_rows - 1).to_pylist()[0]
            mask[-1] = any(v is not None and ("\n" in v or "\r" in v) for v in last.values())
        return mask


def header_and_names(
    sample_text: str, dialect: CsvDialect, source: str
) -> tuple[list[str], list[str]]:
    """The file's headers (``column_<n>`` without a header line) and their snake_case names."""
    headers = first_row(sample_text.lstrip("\r\n"), dialect.delimiter)
    if not headers:
        raise UserError(
            f"{source}: its first line has no fields the CSV reader can make out; is it a CSV?"
        )
    if not dialect.has_header:
        headers = [f"column_{i}" for i in range(1, len(headers) + 1)]
    return headers, unique_column_names(headers)


def leading_blank_lines(sample_text: str) -> int:
    """Blank lines before the first record (pyarrow's ``skip_rows`` counts them as rows)."""
    head = sample_text[: len(sample_text) - len(sample_text.lstrip("\r\n"))]
    return head.count("\n") + head.replace("\r\n", "").count("\r")


#: An undecodable byte sequence is replaced in the stream by its bytes written as ``\xNN``
#: between these two noncharacters (never in real text): its row is then rejected, with the
#: bytes shown, instead of the whole file failing to decode.
UNDECODABLE_OPEN, UNDECODABLE_CLOSE = "\ufdd0", "\ufdd1"
_SURROGATES = re.compile("[\udc80-\udcff]+")
#: C0 control bytes that have no business inside a CSV field (tab, LF, CR are structure).
#: Bytes that are accented letters in Latin-1/Windows-1252 (0xFF, 'ÿ', is the classic junk).
_LETTER_BYTES = frozenset(range(0xC0, 0xFF)) - {0xD7, 0xF7}
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_IS_CONTROL = np.zeros(256, dtype=bool)
_IS_CONTROL[list(CONTROL_BYTES)] = True


def escape_bytes(data: bytes) -> str:
    """``b"\\xff\\xfe"`` -> the text ``\\xff\\xfe``."""
    return "".join(f"\\x{b:02x}" for b in data)


class ByteScreen:
    """Watches the raw bytes of a file on their way to the parser (pure, chunk by chunk).

    * (UTF-8 only) a byte sequence that is not UTF-8 is replaced by its escaped form between
      :data:`UNDECODABLE_OPEN` and :data:`UNDECODABLE_CLOSE`, so the parser sees valid text and
      the row holding it is rejected with the bytes shown; ``undecodable`` counts them and
      ``multibyte`` counts the bytes of valid multi-byte characters (evidence of real UTF-8).
    * ``controls`` counts C0 control bytes (cells are checked for them only once one is seen).
    * ``quotes`` counts ``"`` bytes: odd at the end means a quote was left open.
    """

    def __init__(self, utf8: bool) -> None:
        self.utf8 = utf8
        self.undecodable = 0
        #: undecodable sequences that look like a one-byte encoding's letter: one byte
        #: 0xC0-0xFE (not x or /) next to an ASCII letter, as the é of "Caf\xe9"
        self.letter_like = 0
        self.multibyte = 0
        self.controls = 0
        self.quotes = 0
        self._carry = b""

    def feed(self, data: bytes, final: bool = False) -> bytes:
        # NumPy, not bytes.count / bytes.translate: half the time, and without the GIL, so the
        # cleaning and the duplicate check go on while a 16 MiB chunk is screened
        view = np.frombuffer(data, dtype=np.uint8)
        self.quotes += int(np.count_nonzero(view == ord('"')))
        structure = view[view < 0x20]  # few: the line breaks and tabs, and any controls
        self.controls += int(np.count_nonzero(_IS_CONTROL[structure]))
        if not self.utf8:
            return data
        data, self._carry = self._carry + data, b""
        if data.isascii():
            return data
        text, consumed = codecs.utf_8_decode(data, "surrogateescape", final)
        self._carry = data[consumed:]  # a character cut by the chunk's end: decoded next time
        self.multibyte += consumed - len(text)
        found = 0

        def escaped(match: re.Match) -> str:
            nonlocal found
            found += 1
            raw = match.group().encode("utf-8", "surrogateescape")
            if len(raw) == 1 and raw[0] in _LETTER_BYTES:
                around = text[max(match.start() - 1, 0) : match.end() + 1]
                self.letter_like += any(c.isascii() and c.isalpha() for c in around)
            return UNDECODABLE_OPEN + escape_bytes(raw) + UNDECODABLE_CLOSE

        fixed = _SURROGATES.sub(escaped, text)
        if not found:
            return data[:consumed]
        self.undecodable += found
        return fixed.encode("utf-8")

    @property
    def evidently_not_utf8(self) -> bool:
        """The file is in a one-byte encoding past its first MiB (re-decode it), not UTF-8 with
        stray bytes: not one valid multi-byte character, and every undecodable byte reads as a
        letter in Windows-1252 (``Caf\xe9``; a lone ``\xff`` or a run of bytes does not)."""
        return 0 < self.undecodable == self.letter_like and self.multibyte == 0


class HashingFile(io.RawIOBase):
    """A read-only file that feeds every byte it reads into SHA-256 (one pass for both).

    It also bounds memory: pyarrow's CSV reader reads ahead as far as it can, which for a big
    file means hundreds of MiB of buffered blocks. ``read`` waits while more than ``max_ahead``
    bytes have been handed out beyond what the consumer has :meth:`release`-d (with a timeout,
    so a reader that needs more bytes for one huge record is only slowed, never deadlocked).
    With a :class:`ByteScreen`, the bytes pass through it on their way out.
    """

    def __init__(
        self, path: Path, max_ahead: int | None = None, screen: ByteScreen | None = None
    ) -> None:
        super().__init__()
        self._handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.digest = hashlib.sha256()
        self.position = 0
        self.max_ahead = max_ahead
        self.screen = screen
        self._released = 0
        self._cond = threading.Condition()
        self._out = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def release(self, nbytes: int) -> None:
        """The consumer is done with about ``nbytes`` more of the input."""
        with self._cond:
            self._released += nbytes
            self._cond.notify_all()

    def _read_raw(self, size: int) -> bytes:
        if self.max_ahead is not None:
            with self._cond:
                self._cond.wait_for(
                    lambda: self.position - self._released <= self.max_ahead, timeout=0.5
                )
        data = self._handle.read(size)
        self.digest.update(data)
        self.position += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        if self.screen is None:
            return self._read_raw(size)
        size = size if size >= 0 else 1 << 62
        if not self._out and not self._eof:  # the common case: no copy through the buffer
            raw = self._read_raw(min(size, 1 << 24))
            self._eof = not raw
            data = self.screen.feed(raw, final=self._eof)
            if len(data) == size or self._eof:
                return data
            self._out += data
        # The screen may hold bytes back (a cut character) or add some (escapes): never hand
        # out more than asked for.
        while len(self._out) < size and not self._eof:
            raw = self._read_raw(min(size, 1 << 24))
            self._eof = not raw
            self._out += self.screen.feed(raw, final=self._eof)
        data = bytes(self._out[:size])
        del self._out[:size]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def finish(self) -> str:
        """Hash whatever the reader did not consume; return the hex digest of the whole file."""
        self.max_ahead = None
        while self._read_raw(1 << 20):
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
        blank_lines: int = 0,
    ) -> None:
        self.path = path
        self.dialect = dialect
        self.names = names
        self.columns = columns
        self.block_size = block_size
        self.source = source
        self.blank_lines = blank_lines
        encoding = codecs.lookup(dialect.encoding).name
        self._utf16 = encoding.startswith("utf-16")
        self.screen = ByteScreen(utf8=encoding == "utf-8")
        self._input = HashingFile(
            path,
            max_ahead=READ_AHEAD_BLOCKS * block_size,
            screen=None if self._utf16 else self.screen,
        )
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
            skip_rows=self.blank_lines + (1 if self.dialect.has_header else 0),
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

    @property
    def may_hold_controls(self) -> bool:
        """Has a control byte been seen so far (UTF-16 is not screened: always maybe)?"""
        return self._utf16 or self.screen.controls > 0

    @property
    def may_hold_undecodable(self) -> bool:
        return self.screen.undecodable > 0

    def __iter__(self) -> Iterator[RowBatch]:
        """The batches, one behind the parser; the last one (possibly empty) is marked and
        carries the malformed rows left over."""
        next_line = self.blank_lines + (2 if self.dialect.has_header else 1)
        pending: RowBatch | None = None
        try:
            for rows in _parsed_batches(self._open()):
                lines = assign_line_numbers(next_line, rows.num_rows, self._skipped)
                if rows.num_rows:
                    next_line = int(lines[-1]) + 1
                batch = RowBatch(rows, lines, self._take_malformed())
                if pending is not None:
                    yield pending
                    self._input.release(self.block_size)
                pending = batch
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise classify_read_error(
                exc, self.block_size, self.dialect.encoding, self.source
            ) from None
        if self.screen.evidently_not_utf8:
            raise RetryWith(encoding="cp1252")
        if pending is None:
            empty = pa.RecordBatch.from_pylist([], schema=_text_schema(self.columns))
            pending = RowBatch(empty, np.empty(0, np.int64))
        yield dataclasses.replace(
            pending,
            malformed=pending.malformed + self._take_malformed(),
            open_quote_at_end=not self._utf16 and self.screen.quotes % 2 == 1,
        )

    def finish(self) -> str:
        """Hash the rest of the input; the hex SHA-256 of the whole file."""
        return self._input.finish()

    def __enter__(self) -> CsvBatches:
        return self

    def __exit__(self, *exc: object) -> None:
        self._input.close()


def _text_schema(columns: list[str]) -> pa.Schema:
    return pa.schema([pa.field(c, pa.string()) for c in columns])
