"""Files that are not quite CSV: each ends in a balanced count or a one-line error, never a crash.

One test per failure mode of issue 12 (the error each used to give is in ``../notes.md``).
"""

from __future__ import annotations

import csv
import json
import logging
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.project import conversion
from Module_1_Foundations.project.csv_sniffing import SAMPLE_BYTES
from Module_1_Foundations.project.csv_to_parquet_to_s3 import ConversionResult, convert_csv

from .conftest import run_module

CLI = "Module_1_Foundations.project.csv_to_parquet_to_s3"
#: ASCII rows filling more than the sniffed sample, so what follows is read but never sniffed.
PAST_THE_SAMPLE = b"".join(b"%d,plain\n" % i for i in range(SAMPLE_BYTES // 9 + 1000))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _rejects(result: ConversionResult) -> list[dict[str, str]]:
    with open(result.rejects_path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _manifest(result: ConversionResult) -> dict:
    return json.loads(result.manifest_path.read_text())


def _rows(result: ConversionResult) -> list[dict]:
    return pq.read_table(result.output_dir).to_pylist()


# ---------------------------------------------------------------------------------------------
# 1. Decoding past the sniffed sample
# ---------------------------------------------------------------------------------------------


def test_a_stray_byte_past_the_sample_rejects_its_line_with_the_bytes_shown(tmp_path):
    rows = len(PAST_THE_SAMPLE.splitlines())
    data = b"id,v\n" + PAST_THE_SAMPLE + "7,Zoë\n".encode() + b"8,x\xff\xfey\n9,z\n"
    result = convert_csv(_write(tmp_path / "a.csv", data), tmp_path / "out")
    assert result.balanced and result.rows_rejected == 1
    (reject,) = _rejects(result)
    assert reject["line_number"] == str(rows + 3)  # header, the rows, Zoë, then this line
    assert (
        reject["reason"] == "v: bytes \\xff\\xfe are not valid UTF-8, which the rest of the file is"
    )
    assert reject["raw"] == "8,x\\xff\\xfey"
    assert _rows(result)[-2:] == [{"id": 7, "v": "Zoë"}, {"id": 9, "v": "z"}], "still UTF-8"
    assert result.reject_reasons == {"encoding": 1}


def test_a_file_in_another_encoding_past_the_sample_is_re_decoded_with_a_warning(tmp_path, caplog):
    data = b"id,v\n" + PAST_THE_SAMPLE + b"7,caf\xe9\n8,na\xefve\n"
    with caplog.at_level(logging.WARNING):
        result = convert_csv(_write(tmp_path / "a.csv", data), tmp_path / "out")
    assert "is not valid utf-8 past the first MiB; retrying as cp1252" in caplog.text
    assert result.balanced and result.rows_rejected == 0
    assert [r["v"] for r in _rows(result)[-2:]] == ["café", "naïve"]
    assert _manifest(result)["input"]["encoding"] == "cp1252"


# ---------------------------------------------------------------------------------------------
# 2. Not a CSV at all: refused up front
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (random.Random(7).randbytes(4000), "are control characters"),
        (b"id,v\n" + b"\x00\x00\x01\x00" * 500, "are NUL bytes"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"x" * 100, "a ZIP archive (an .xlsx workbook?)"),
        (b"\x1f\x8b\x08\x00" + b"x" * 100, "gzip-compressed"),
        (bytes(range(0x80, 0x100)) * 8 + b"\n,,\n", "is not UTF-8 and 100% of its first"),
    ],
    ids=["random", "nul-dense", "xlsx", "gzip", "high-bytes"],
)
def test_binary_input_is_refused_up_front_and_nothing_is_written(tmp_path, data, why):
    src = _write(tmp_path / "b.csv", data)
    with pytest.raises(UserError, match=r"b\.csv is not a CSV: ") as caught:
        convert_csv(src, tmp_path / "out")
    assert why in str(caught.value) and "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"], "nothing written"


def test_binary_input_at_the_cli_is_one_line_and_exit_2(tmp_path):
    src = _write(tmp_path / "b.csv", random.Random(3).randbytes(999))
    done = run_module(CLI, "convert", str(src), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {src} is not a CSV: ") and done.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# 3. The accounting never loses a row
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "rows_in", "rows_out", "rejected"),
    [
        (b"a,b\n1,2\n3,4", 2, 2, 0),  # the last line has no newline
        (b"a,b\r1,2\r3,4\r", 2, 2, 0),  # lone carriage returns (old Mac)
        (b"a,b\r\n1,2\r3,4\n", 2, 2, 0),  # all three line ends in one file
        (b'a,b\n1,2\n3,"4\n5,6\n', 2, 1, 1),  # a quote left open at the end of the file
        (b"a,b\n1,2\n,\n", 2, 2, 0),  # an empty trailing record: a row of missing values
        (b"\n\na,b\n1,2\n", 1, 1, 0),  # blank lines before the header
        (b"a,b\n1,2\n\n\n", 1, 1, 0),  # blank lines at the end are not records
    ],
    ids=["no-final-newline", "lone-cr", "mixed-line-ends", "open-quote", "empty-record",
         "leading-blank-lines", "trailing-blank-lines"],
)  # fmt: skip
def test_every_record_is_counted_once(tmp_path, data, rows_in, rows_out, rejected):
    result = convert_csv(_write(tmp_path / "a.csv", data), tmp_path / "out")
    assert (result.rows_in, result.rows_out, result.rows_rejected) == (rows_in, rows_out, rejected)
    assert result.balanced
    assert pq.read_schema(result.output_files[0]).names == ["a", "b"]


def test_an_open_quote_at_the_end_rejects_the_record_it_swallowed(tmp_path):
    src = _write(tmp_path / "a.csv", b'a,b\n1,2\n3,"4\n5,6\n')
    (reject,) = _rejects(convert_csv(src, tmp_path / "out"))
    assert reject["line_number"] == "3"
    assert "is never closed: the rest of the file became a field" in reject["reason"]


def test_a_first_line_without_fields_is_a_one_line_error(tmp_path):
    src = _write(tmp_path / "a.csv", b'"' + b"x" * 200_000 + b"\n1,2\n")  # past csv's field limit
    with pytest.raises(UserError, match="first line has no fields"):
        convert_csv(src, tmp_path / "out")


def test_counts_that_do_not_balance_say_by_how_much_and_publish_nothing(tmp_path, monkeypatch):
    process = conversion._process_batch

    def loses_a_row(*args, **kwargs):
        tally = process(*args, **kwargs)
        return conversion.Tally(tally.rows_in + 1, tally.rows_out, tally.duplicates)

    monkeypatch.setattr(conversion, "_process_batch", loses_a_row)
    src = _write(tmp_path / "a.csv", b"a,b\n1,2\n")
    with pytest.raises(UserError, match=r"1 record\(s\) went uncounted, so nothing was published"):
        convert_csv(src, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


# ---------------------------------------------------------------------------------------------
# 4. Control characters
# ---------------------------------------------------------------------------------------------


def test_a_nul_or_other_control_character_rejects_its_row_with_the_character_shown(tmp_path):
    src = _write(tmp_path / "a.csv", b"a,b\n1,x\x00y\n2,z\n3,esc\x1b[0m\n")
    result = convert_csv(src, tmp_path / "out")
    assert (result.rows_out, result.rows_rejected) == (1, 2) and result.balanced
    rejects = _rejects(result)
    assert [r["reason"].split(" (")[0] for r in rejects] == [
        "b: control character \\x00 in the text",
        "b: control character \\x1b in the text",
    ]
    assert [r["raw"] for r in rejects] == ["1,x\\x00y", "3,esc\\x1b[0m"]
    assert "\x00" not in result.rejects_path.read_text(encoding="utf-8")
    assert result.reject_reasons == {"control": 2}


def test_control_characters_can_be_removed_instead(tmp_path):
    src = _write(tmp_path / "a.csv", b"a,b\n1,x\x00y\n2,z\t!\n")
    result = convert_csv(src, tmp_path / "out", control_chars="remove")
    assert result.rows_rejected == 0
    assert [r["b"] for r in _rows(result)] == ["xy", "z\t!"], "a tab is text, not a control"


def test_the_cli_removes_control_characters_when_asked(tmp_path):
    src = _write(tmp_path / "a.csv", b"a,b\n1,x\x07y\n")
    out = tmp_path / "out"
    done = run_module(
        CLI, "convert", str(src), "--out", str(out), "--quiet", "--remove-control-chars"
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(out).column("b").to_pylist() == ["xy"]


# ---------------------------------------------------------------------------------------------
# 5. Types a person expects, each decision in the manifest
# ---------------------------------------------------------------------------------------------


def _column(result: ConversionResult, name: str) -> dict:
    return next(c for c in _manifest(result)["columns"] if c["name"] == name)


def test_mixed_date_formats_are_dates_read_day_first_when_the_values_say_so(tmp_path):
    src = _write(tmp_path / "a.csv", b"d\n2020-01-01\n14/01/2020\nJan 03 2020\n02/03/2020\n")
    result = convert_csv(src, tmp_path / "out")
    assert pq.read_schema(result.output_files[0]).field("d").type == pa.date32()
    assert [str(r["d"]) for r in _rows(result)] == [
        "2020-01-01", "2020-01-14", "2020-01-03", "2020-03-02",
    ]  # fmt: skip
    column = _column(result, "d")
    assert column["date_order"] == "day_first"
    assert "'14/01/2020' has a first number above 12" in column["decision"]


def test_month_first_dates_are_read_month_first(tmp_path):
    src = _write(tmp_path / "a.csv", b"d\n01/14/2020\n02/03/2020\n")
    result = convert_csv(src, tmp_path / "out")
    assert [str(r["d"]) for r in _rows(result)] == ["2020-01-14", "2020-02-03"]
    assert _column(result, "d")["date_order"] == "month_first"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"d\n01/02/2020\n03/04/2020\n", "day/month order unknown: no NN/NN/YYYY value"),
        (b"d\n13/02/2020\n03/14/2020\n", "'13/02/2020' puts the day first but '03/14/2020'"),
    ],
    ids=["no-value-tells", "values-disagree"],
)
def test_a_column_whose_day_month_order_is_unclear_stays_text_with_the_reason(tmp_path, data, why):
    result = convert_csv(_write(tmp_path / "a.csv", data), tmp_path / "out")
    assert pq.read_schema(result.output_files[0]).field("d").type == pa.string()
    assert result.rows_rejected == 0
    column = _column(result, "d")
    assert column["type"] == "string" and why in column["decision"]


def test_iso_timestamps_with_offsets_become_utc_timestamps(tmp_path):
    src = _write(
        tmp_path / "a.csv",
        b"t\n2020-01-01T10:00:00+02:00\n2020-01-02T10:00:00Z\n2020-01-03 09:30:00-0530\n",
    )
    result = convert_csv(src, tmp_path / "out")
    column = pq.read_table(result.output_dir).column("t")
    assert column.type == pa.timestamp("us", tz="UTC")
    assert [v.isoformat() for v in column.to_pylist()] == [
        "2020-01-01T08:00:00+00:00", "2020-01-02T10:00:00+00:00", "2020-01-03T15:00:00+00:00",
    ]  # fmt: skip
    assert "converted to UTC" in _column(result, "t")["decision"]


def test_decimal_comma_numbers_in_a_semicolon_file_are_numbers(tmp_path):
    rows = "".join(f"{i},5;n{i}\n" for i in range(60))
    src = _write(tmp_path / "a.csv", f"amount;name\n{rows}1.234,25;b\n-3;c\n2.5;d\n".encode())
    result = convert_csv(src, tmp_path / "out")
    assert pq.read_schema(result.output_files[0]).field("amount").type == pa.float64()
    assert [r["amount"] for r in _rows(result)][-3:] == [59.5, 1234.25, -3.0]
    (reject,) = _rejects(result)  # a decimal point where commas are the rule is ambiguous
    assert "'2.5' is not a number written with a decimal comma" in reject["reason"]
    column = _column(result, "amount")
    assert column["decimal_comma"] is True and "decimal comma" in column["decision"]


def test_a_comma_file_never_reads_commas_as_decimal_marks(tmp_path):
    src = _write(tmp_path / "a.csv", b'amount,name\n"1,5",a\n"2,5",b\n')
    result = convert_csv(src, tmp_path / "out")
    assert pq.read_schema(result.output_files[0]).field("amount").type == pa.string()
