"""Look at the first bytes of any CSV and decide how to read it: encoding, delimiter, header.

Pure functions over a byte sample (no file access except :func:`read_sample`), so every rule is
tested on literal bytes. The decisions are recorded in the run manifest.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from Module_1_Foundations.common.errors import UserError

SAMPLE_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_LINES = 200
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE_LIKE = re.compile(r"^\d{4}[-/]\d\d?[-/]\d\d?|^\d\d?[-/.]\d\d?[-/.]\d{4}|^\d{8}$")


@dataclass(frozen=True)
class CsvDialect:
    """How to read one file."""

    encoding: str  # a Python codec name: utf-8, utf-16, cp1252 or latin-1
    delimiter: str
    has_header: bool
    bom: bool = False


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    """The first ``size`` bytes of ``path``; one-line errors for what cannot be read at all."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file; check the path (or run 'make generate')")
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a CSV file; give the path of one .csv file")
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror})") from None


def detect_encoding(sample: bytes) -> tuple[str, bool]:
    """Return ``(codec, has_bom)``: UTF-8 (with or without BOM), UTF-16 with BOM, else 8-bit.

    Text that is not valid UTF-8 is read as Windows-1252 (Latin-1 plus printable characters in
    0x80-0x9F), or as Latin-1 when it uses bytes Windows-1252 leaves undefined.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8", True
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    if _is_utf8_prefix(sample):
        return "utf-8", False
    try:
        sample.decode("cp1252")
        return "cp1252", False
    except UnicodeDecodeError:
        return "latin-1", False


def decode_sample(sample: bytes, encoding: str) -> str:
    """Decode a sample that may end in the middle of a character or line: drop the tail."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    text = text.lstrip("\ufeff")
    if len(sample) >= SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line may be cut short
    return text


def _field_counts(text: str, delimiter: str) -> list[int]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    counts = []
    try:
        for row in reader:
            if row:
                counts.append(len(row))
            if len(counts) >= _SAMPLE_LINES:
                break
    except csv.Error:
        pass
    return counts


def _score(counts: list[int]) -> tuple[int, float, int]:
    """(splits into several fields?, share of rows with the most common width, that width)."""
    if not counts:
        return (0, 0.0, 0)
    width = max(set(counts), key=counts.count)
    share = counts.count(width) / len(counts)
    return (int(width > 1), share, width)


def detect_delimiter(text: str, given: str | None = None, *, source: str = "input") -> str:
    """The delimiter that splits the sample into the most consistent number of fields (> 1).

    With ``given``, check it instead: a delimiter that leaves every line in one field while
    another splits it cleanly is a wrong delimiter, reported with the one that fits.
    """
    scores = {d: _score(_field_counts(text, d)) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])
    if given is None:
        return best if scores[best][0] else ","
    if len(given) != 1:
        raise UserError(f"--delimiter {given!r} must be one character, e.g. ',' or ';' or '\\t'")
    mine = scores.get(given) or _score(_field_counts(text, given))
    if mine[2] <= 1 and scores[best][0] and best != given:
        raise UserError(
            f"{source}: delimiter {given!r} leaves each line in 1 field, but {best!r} splits "
            f"it into {scores[best][2]}: pass --delimiter {best!r} or leave it out to detect it"
        )
    return given


def _looks_like_data(value: str) -> bool:
    value = value.strip()
    return bool(_NUMBER.match(value) or _DATE_LIKE.match(value))


def detect_header(text: str, delimiter: str) -> bool:
    """Is the first line a header? Yes when none of its fields looks like a number or a date,
    and either all of them are filled in or the second line does hold numbers or dates."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        first = next(reader)
        second = next(reader, [])
    except (StopIteration, csv.Error):
        return True
    if any(_looks_like_data(field) for field in first):
        return False
    return all(field.strip() for field in first) or any(_looks_like_data(f) for f in second)


#: File signatures of formats people mistake for CSV, with what to do instead.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?): save the sheet as CSV, or unzip it"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file (.xls): save the sheet as CSV"),
    (b"\x1f\x8b", "gzip-compressed: decompress it first (gunzip)"),
    (b"PAR1", "already a Parquet file: read it with pyarrow or DuckDB"),
    (b"%PDF", "a PDF document, not a CSV"),
    (b"\x89PNG", "a PNG image, not a CSV"),
    (b"\xff\xd8\xff", "a JPEG image, not a CSV"),
    (b"\x7fELF", "a program (ELF binary), not a CSV"),
    (b"SQLite format 3\x00", "an SQLite database, not a CSV"),
)
#: C0 control bytes other than tab, line feed, vertical tab, form feed and carriage return.
_BINARY_CONTROLS = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20))
#: Above these shares of the sample, the bytes are not text (a few stray ones are a row's
#: problem, rejected with that row; this many mean the file is not a CSV at all).
MAX_NUL_SHARE = 0.01
MAX_CONTROL_SHARE = 0.05
#: Share of bytes >= 0x80 in a sample that is not UTF-8: Latin-1 prose stays far below.
MAX_HIGH_SHARE = 0.30


def refuse_binary(sample: bytes, source: str = "input") -> None:
    """Refuse, in one line, a file whose first bytes are evidently not text.

    Known file signatures (ZIP/xlsx, gzip, Parquet, PDF, ...) are named; otherwise a sample
    dense in NUL or other control bytes, or one that is not UTF-8 and is mostly bytes >= 0x80,
    is binary. UTF-16 (which is half NUL bytes) is recognised by its BOM before this check.
    """
    for magic, what in _SIGNATURES:
        if sample.startswith(magic):
            raise UserError(f"{source} is not a CSV: it is {what}")
    n = len(sample)
    nul = sample.count(0)
    if nul > max(1, n * MAX_NUL_SHARE):
        raise UserError(
            f"{source} is not a CSV: {nul / n:.0%} of its first {n:,} bytes are NUL bytes "
            "(a binary file; or UTF-16 without a BOM: pass --encoding utf-16)"
        )
    controls = n - len(sample.translate(None, _BINARY_CONTROLS))
    if controls > max(2, n * MAX_CONTROL_SHARE):
        raise UserError(
            f"{source} is not a CSV: {controls / n:.0%} of its first {n:,} bytes are control "
            "characters (a binary file)"
        )
    if not _is_utf8_prefix(sample):
        high = n - len(sample.translate(None, bytes(range(0x80, 0x100))))
        if high > n * MAX_HIGH_SHARE:
            raise UserError(
                f"{source} is not a CSV: it is not UTF-8 and {high / n:.0%} of its first {n:,} "
                "bytes are outside ASCII, far more than any text in a one-byte encoding "
                "(a binary or compressed file?)"
            )


def _is_utf8_prefix(sample: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff(
    sample: bytes,
    *,
    source: str = "input",
    encoding: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
) -> tuple[CsvDialect, str]:
    """Decide encoding, delimiter and header from a sample; return them and the decoded sample."""
    if not sample.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise UserError(f"{source} is empty: there is no header and no data to convert")
    found, bom = detect_encoding(sample)
    if found != "utf-16" and not (encoding or "").lower().replace("_", "-").startswith("utf-16"):
        refuse_binary(sample, source)
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise UserError(f"--encoding {encoding!r} is not a known text encoding") from None
    encoding = encoding or found
    text = decode_sample(sample, encoding)
    sep = detect_delimiter(text, delimiter, source=source)
    has_header = detect_header(text, sep) if header is None else header
    return CsvDialect(encoding=encoding, delimiter=sep, has_header=has_header, bom=bom), text


def first_row(text: str, delimiter: str) -> list[str]:
    """The fields of the first record of a decoded sample."""
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except (StopIteration, csv.Error):
        return []


def snake_case(name: str) -> str:
    """A header as a snake_case name: ``"Loan Id"`` -> ``loan_id``, ``"Größe"`` -> ``grosse``.

    ``"InterestRate (%)"`` -> ``interest_rate``.
    Accents are folded to ASCII; a leading digit gets a ``c_`` prefix (``"2020"`` -> ``c_2020``).
    """
    text = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    text = text.encode("ascii", "ignore").decode()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if text and text[0].isdigit():
        text = f"c_{text}"
    return text


def unique_column_names(headers: list[str]) -> list[str]:
    """Snake-case every header; blanks become ``column_<n>``, repeats get ``_2``, ``_3``, ..."""
    out: list[str] = []
    used: set[str] = set()
    for position, header in enumerate(headers, start=1):
        base = snake_case(header) or f"column_{position}"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        out.append(name)
    return out
