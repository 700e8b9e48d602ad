"""The converter, end to end on files: every row accounted for, every bad input handled."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import sha256_file
from Module_1_Foundations.datasets import loanbook_generator as gen
from Module_1_Foundations.datasets.loanbook_schema import TABLES
from Module_1_Foundations.project.csv_to_parquet_to_s3 import (
    ConversionResult,
    convert_csv,
    convert_loanbook,
)

from .conftest import run_module

CLI = "Module_1_Foundations.project.csv_to_parquet_to_s3"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small loan book with the generator's default fault rates, and its manifest."""
    out = tmp_path_factory.mktemp("book")
    manifest = gen.generate(gen.GeneratorConfig(loans=3_000, seed=11), out, show_progress=False)
    return out, manifest


@pytest.fixture(scope="module")
def converted(book, tmp_path_factory) -> tuple[Path, dict[str, ConversionResult]]:
    raw, _ = book
    processed = tmp_path_factory.mktemp("processed") / "loanbook"
    return processed, convert_loanbook(raw, processed)


def _rejects(result: ConversionResult) -> list[dict[str, str]]:
    with open(result.rejects_path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# ---------------------------------------------------------------------------------------------
# The generated loan book: counts reconcile with the generator's own fault counts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["borrowers", "loans", "repayments", "loan_truth"])
def test_counts_reconcile_with_the_generators_manifest(book, converted, table):
    _, manifest = book
    _, results = converted
    result = results[table]
    faults = manifest["faults"][table]
    assert result.rows_in == manifest["files"][table]["data_lines"]
    assert result.rows_in == result.rows_out + result.rows_rejected + result.duplicates_removed
    assert result.duplicates_removed == faults.get("duplicate", 0)
    assert result.reject_reasons.get("malformed", 0) == faults.get("malformed", 0)
    assert len(_rejects(result)) == result.rows_rejected
    assert pq.read_table(result.output_dir).num_rows == result.rows_out
    if table == "loan_truth":  # the clean table: nothing rejected, nothing removed
        assert (result.rows_rejected, result.duplicates_removed) == (0, 0)


@pytest.mark.parametrize("table", ["borrowers", "loans", "repayments"])
def test_every_reject_points_at_its_line_and_says_why(book, converted, table):
    raw, _ = book
    _, results = converted
    lines = (raw / f"{table}.csv").read_text().splitlines()
    rejects = _rejects(results[table])
    assert rejects, "the default fault rates always produce rejects"
    for row in rejects:
        assert lines[int(row["line_number"]) - 1] == row["raw"], row
        assert row["reason"]
    reasons = " ".join(r["reason"] for r in rejects)
    assert "is not a date" not in reasons, "every injected date format is understood"


@pytest.mark.parametrize("table", ["borrowers", "loans", "repayments"])
def test_nothing_is_lost_every_key_is_either_kept_or_rejected(book, converted, table):
    raw, _ = book
    _, results = converted
    spec = TABLES[table]
    width = len(spec.columns)
    key_positions = [spec.column_names.index(k) for k in spec.key]

    def key(fields: list[str]) -> tuple:
        return tuple(fields[i].strip() for i in key_positions)

    with open(raw / f"{table}.csv", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    well_formed = {key(r) for r in rows if len(r) == width}
    out = pq.read_table(results[table].output_dir).select(list(spec.key))
    kept = {tuple(str(v) for v in row.values()) for row in out.to_pylist()}
    rejected_rows = [next(csv.reader([r["raw"]])) for r in _rejects(results[table])]
    rejected = {key(r) for r in rejected_rows if len(r) == width}
    assert kept | rejected == well_formed
    assert not kept & rejected


@pytest.mark.parametrize("table", ["borrowers", "loans", "repayments", "loan_truth"])
def test_the_output_honours_the_contract(converted, table):
    _, results = converted
    spec = TABLES[table]
    frame = pq.read_table(results[table].output_dir).to_pandas()
    assert list(frame.columns) == spec.column_names
    assert not frame.duplicated(list(spec.key)).any()
    for col in spec.columns:
        values = frame[col.name]
        if not col.nullable:
            assert values.notna().all(), col.name
        present = values.dropna()
        if col.min is not None:
            assert (present >= col.min).all(), col.name
        if col.max is not None:
            assert (present <= col.max).all(), col.name
        if col.allowed is not None:
            assert set(present) <= set(col.allowed), (col.name, set(present) - set(col.allowed))
    types = {f.name: str(f.type) for f in pq.read_schema(results[table].output_files[0])}
    kinds = {"string": "string", "int": "int64", "float": "double", "date": "date32[day]"}
    assert types == {c.name: kinds[c.type] for c in spec.columns}


def test_the_manifest_records_input_outputs_counts_and_timings(book, converted):
    raw, _ = book
    processed, results = converted
    result = results["loans"]
    manifest = json.loads(result.manifest_path.read_text())
    assert result.manifest_path == processed / "loans" / "_manifest.json"
    assert manifest["input"]["sha256"] == sha256_file(raw / "loans.csv")
    assert manifest["input"]["delimiter"] == "," and manifest["input"]["header"] is True
    counts = manifest["counts"]
    assert (
        counts["rows_in"]
        == counts["rows_out"] + counts["rows_rejected"] + counts["duplicates_removed"]
    )
    assert counts["balanced"] is True
    for output in manifest["outputs"]:
        assert sha256_file(processed / "loans" / output["path"]) == output["sha256"]
    assert [c["name"] for c in manifest["columns"]] == TABLES["loans"].column_names
    assert manifest["timings"]["seconds"] > 0
    assert manifest["rejects"]["rows"] == result.rows_rejected


def test_the_loanbook_layout_is_what_the_dbt_sources_read(converted):
    processed, results = converted
    assert set(results) == set(TABLES)
    for table in TABLES:
        files = sorted((processed / table).glob("**/*.parquet"))
        assert files == results[table].output_files
        assert not list(processed.glob(f".{table}*")), "no temporary folder left behind"


# ---------------------------------------------------------------------------------------------
# Any CSV: sniffing, inference, and each bad input of the issue
# ---------------------------------------------------------------------------------------------


def test_any_csv_gets_snake_case_names_inferred_types_and_clean_values(tmp_path):
    src = _write(
        tmp_path / "Sales Export.csv",
        "Order ID,Order Date,Amount (USD),Paid?,Region,Note\n"
        "1,2024-01-05,10.50,yes,North, first \n"
        "2,2024/01/06,NA,no,NORTH,\n"
        "3,07 Jan 2024,7,Y, north ,-\n"
        "4,20240108,12.25,n,South,null\n"
        "4,20240108,12.25,n,South,null\n",
    )
    result = convert_csv(src, tmp_path / "out")
    table = pq.read_table(tmp_path / "out")
    assert table.column_names == ["order_id", "order_date", "amount_usd", "paid", "region", "note"]
    assert [str(t) for t in table.schema.types] == [
        "int64", "date32[day]", "double", "bool", "string", "string",
    ]  # fmt: skip
    rows = table.to_pylist()
    assert [r["region"] for r in rows] == ["North", "North", "North", "South"]
    assert [r["note"] for r in rows] == ["first", None, None, None]
    assert [r["amount_usd"] for r in rows] == [10.5, None, 7.0, 12.25]
    assert (result.rows_in, result.rows_out, result.duplicates_removed) == (5, 4, 1)


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(UserError, match=r"nope.csv: no such file"):
        convert_csv(tmp_path / "nope.csv", tmp_path / "out")


def test_empty_file_is_a_one_line_error(tmp_path):
    with pytest.raises(UserError, match=r"empty.csv is empty"):
        convert_csv(_write(tmp_path / "empty.csv", ""), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_header_only_file_is_a_one_line_error_and_writes_nothing(tmp_path):
    with pytest.raises(UserError, match=r"has a header but no data rows"):
        convert_csv(_write(tmp_path / "h.csv", "a,b,c\n"), tmp_path / "out")
    assert list(tmp_path.iterdir()) == [tmp_path / "h.csv"], "no output, no temporary folder"


def test_a_semicolon_file_is_detected(tmp_path):
    src = _write(tmp_path / "semi.csv", "id;name;score\n1;Ann;3,5\n2;Bob;4\n")
    convert_csv(src, tmp_path / "out")
    assert pq.read_table(tmp_path / "out").column_names == ["id", "name", "score"]


def test_a_wrong_delimiter_is_a_one_line_error(tmp_path):
    src = _write(tmp_path / "semi.csv", "id;name\n1;Ann\n2;Bob\n")
    with pytest.raises(UserError, match=r"delimiter ',' leaves each line in 1 field, but ';'"):
        convert_csv(src, tmp_path / "out", delimiter=",")


def test_a_file_without_the_contract_columns_is_refused(tmp_path):
    src = _write(tmp_path / "x.csv", "Loan Id;Borrower Id\nL1;B1\n")
    with pytest.raises(UserError, match=r"table 'loans' needs column\(s\) application_date"):
        convert_csv(src, tmp_path / "out", table="loans")


def test_latin1_text_is_read_as_such(tmp_path):
    src = _write(
        tmp_path / "latin.csv", "name,city\nJosé,Málaga\nFrançois,Besançon\n".encode("latin-1")
    )
    result = convert_csv(src, tmp_path / "out")
    assert pq.read_table(tmp_path / "out").column("city").to_pylist() == ["Málaga", "Besançon"]
    assert json.loads(result.manifest_path.read_text())["input"]["encoding"] == "cp1252"


def test_latin1_bytes_after_the_sniffed_sample_trigger_a_reread(tmp_path, caplog):
    body = "".join(f"{i},plain\n" for i in range(150_000))  # > 1 MiB of ASCII first
    src = _write(tmp_path / "late.csv", ("id,word\n" + body + "999999,Café\n").encode("latin-1"))
    with caplog.at_level(logging.WARNING):
        result = convert_csv(src, tmp_path / "out")
    assert "retrying as cp1252" in caplog.text
    assert pq.read_table(tmp_path / "out").column("word").to_pylist()[-1] == "Café"
    assert result.rows_out == 150_001


def test_a_byte_order_mark_does_not_leak_into_the_first_name(tmp_path):
    src = _write(tmp_path / "bom.csv", b"\xef\xbb\xbfid,name\n1,A\n")
    result = convert_csv(src, tmp_path / "out")
    assert pq.read_table(tmp_path / "out").column_names == ["id", "name"]
    assert json.loads(result.manifest_path.read_text())["input"]["bom"] is True


def test_ragged_rows_are_rejected_with_line_and_reason(tmp_path):
    src = _write(tmp_path / "r.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n### page break ###\n10,11,12\n")
    result = convert_csv(src, tmp_path / "out")
    assert (result.rows_in, result.rows_out, result.rows_rejected) == (5, 2, 3)
    assert [(r["line_number"], r["reason"], r["raw"]) for r in _rejects(result)] == [
        ("3", "malformed: expected 3 fields, found 2", "4,5"),
        ("4", "malformed: expected 3 fields, found 4", "6,7,8,9"),
        ("5", "malformed: expected 3 fields, found 1", "### page break ###"),
    ]


def test_quoted_newlines_stay_inside_their_field(tmp_path):
    src = _write(tmp_path / "q.csv", 'id,comment\n1,"two\nlines"\n2,"say ""hi"""\n3,plain\n')
    result = convert_csv(src, tmp_path / "out")
    assert result.rows_out == 3
    comments = pq.read_table(tmp_path / "out").column("comment").to_pylist()
    assert comments == ["two\nlines", 'say "hi"', "plain"]


def test_text_in_a_numeric_column_quarantines_the_row(tmp_path):
    rows = "".join(f"{i},{i * 10}\n" for i in range(1, 200))
    src = _write(tmp_path / "n.csv", "id,amount\n" + rows + "200,twelve\n201,#VALUE!\n")
    result = convert_csv(src, tmp_path / "out")
    assert pq.read_table(tmp_path / "out").schema.field("amount").type == pa.int64()
    assert [(r["line_number"], r["reason"]) for r in _rejects(result)] == [
        ("201", "amount: 'twelve' is not an integer"),
        ("202", "amount: '#VALUE!' is not an integer"),
    ]
    assert (result.rows_out, result.rows_rejected) == (199, 2)


def test_mixed_date_formats_become_one_date_type(tmp_path):
    src = _write(
        tmp_path / "d.csv",
        "id,due_date\n1,2024-03-05\n2,2024/03/06\n3,07 Mar 2024\n4,March 08 2024\n5,20240309\n",
    )
    convert_csv(src, tmp_path / "out")
    dates = pq.read_table(tmp_path / "out").column("due_date")
    assert dates.type == pa.date32()
    assert [d.day for d in dates.to_pylist()] == [5, 6, 7, 8, 9]


def test_duplicate_column_names_are_made_unique(tmp_path):
    src = _write(tmp_path / "dup.csv", "id,Id,ID,,amount\n1,2,3,4,5\n")
    convert_csv(src, tmp_path / "out")
    assert pq.read_table(tmp_path / "out").column_names == [
        "id",
        "id_2",
        "id_3",
        "column_4",
        "amount",
    ]


def test_a_10_mb_single_field_converts(tmp_path):
    big = "x" * (10 << 20)
    src = _write(tmp_path / "big.csv", f"id,blob\n1,{big}\n2,small\n")
    result = convert_csv(src, tmp_path / "out")
    blobs = pq.read_table(tmp_path / "out").column("blob").to_pylist()
    assert [len(b) for b in blobs] == [10 << 20, 5] and result.rows_out == 2


def test_a_field_longer_than_the_read_block_retries_with_larger_blocks(tmp_path, caplog):
    src = _write(tmp_path / "long.csv", f"id,blob\n1,{'y' * (3 << 20)}\n2,z\n")
    with caplog.at_level(logging.WARNING):
        result = convert_csv(src, tmp_path / "out", block_size=1 << 20)
    assert "retrying with 4 MiB blocks" in caplog.text
    assert result.rows_out == 2


def test_an_interrupted_run_leaves_the_previous_output_untouched(tmp_path, monkeypatch):
    src = _write(tmp_path / "a.csv", "id,v\n1,x\n2,y\n")
    convert_csv(src, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    _write(src, "id,v\n1,x\n2,y\n3,z\n")

    from Module_1_Foundations.common import io

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process were stopped mid-write

    monkeypatch.setattr(io, "swap_directory", killed)
    with pytest.raises(KeyboardInterrupt):
        convert_csv(src, tmp_path / "out")
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "out"], "no temporary left"


def _with_key_conflicts(raw: Path, tmp_path: Path) -> Path:
    """repayments.csv plus, at the end, rows that reuse an early and a late key with another
    amount (key conflicts) and exact copies of early and late rows (duplicates)."""
    lines = (raw / "repayments.csv").read_text().splitlines()
    valid = [i for i, line in enumerate(lines[1:], start=1) if line.endswith(",paid")]
    extra = []
    for i in (valid[0], valid[len(valid) // 2], valid[-1]):
        fields = lines[i].split(",")
        fields[5] = f"{float(fields[5]) + 0.01:.2f}"  # same key, another amount paid
        extra += [",".join(fields), lines[i]]
    return _write(tmp_path / "repayments.csv", "\n".join(lines + extra) + "\n")


def _outcome(result: ConversionResult) -> tuple:
    rows = pq.read_table(result.output_dir).to_pylist()  # in input order on both paths
    rejects = sorted((r["line_number"], r["reason"], r["raw"]) for r in _rejects(result))
    return (
        result.rows_in,
        result.rows_out,
        result.rows_rejected,
        result.duplicates_removed,
        result.reject_reasons,
        rows,
        rejects,
    )


@pytest.mark.parametrize("table", ["repayments", "loans", None])
def test_the_spill_path_gives_the_same_result_as_the_in_memory_path(book, tmp_path, table):
    raw, _ = book
    src = _with_key_conflicts(raw, tmp_path) if table == "repayments" else raw / "loans.csv"
    outcomes, spilled = {}, {}
    # A budget of one byte: only the first batch is checked in memory, every later row is
    # spilled to partition files and deduplicated there. Small blocks make many batches.
    for budget in (1 << 30, 1):
        result = convert_csv(
            src, tmp_path / f"out-{budget}", table=table, dedup_memory=budget, block_size=1 << 16
        )
        assert result.balanced
        outcomes[budget] = _outcome(result)
        manifest = json.loads(result.manifest_path.read_text())
        spilled[budget] = manifest["memory"]["spilled_rows"]
    assert spilled[1 << 30] == 0 and spilled[1] > result.rows_out // 2
    assert outcomes[1] == outcomes[1 << 30]
    if table == "repayments":  # both kinds of conflict: against the in-memory set and spilled
        conflicts = [r for r in outcomes[1][6] if r[1].startswith("duplicate key")]
        assert len(conflicts) == 3 and result.reject_reasons["duplicate_key"] == 3
    assert not list(tmp_path.glob(".*")), "no spill or temporary folder left"


def test_spill_files_are_removed_when_the_run_fails(book, tmp_path, monkeypatch):
    raw, _ = book
    from Module_1_Foundations.project import dedup

    seen: list[int] = []

    def broken(self, table):
        seen.append(len(list(self.spill_dir.glob("*.arrow"))))
        raise OSError("disk full")  # as if the disk filled while the spill was drained

    monkeypatch.setattr(dedup.BoundedDedup, "_losers", broken)
    with pytest.raises(OSError, match="disk full"):
        convert_csv(
            raw / "repayments.csv", tmp_path / "out", table="repayments", dedup_memory=1,
            block_size=1 << 16,
        )  # fmt: skip
    assert seen and seen[0] > 0, "the run had spilled to disk"
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no spill, temporary or output"


def test_partitioning_by_a_date_column_writes_hive_folders(book, tmp_path):
    raw, _ = book
    result = convert_csv(
        raw / "loans.csv", tmp_path / "loans", table="loans", partition_by="issue_date"
    )
    folders = {p.parent.name for p in result.output_files}
    assert all(f.startswith("issue_date_month=20") for f in folders) and len(folders) > 12
    dataset = ds.dataset(tmp_path / "loans", format="parquet", partitioning="hive")
    assert dataset.count_rows() == result.rows_out
    with pytest.raises(UserError, match="is a string column: partition by a date column"):
        convert_csv(raw / "loans.csv", tmp_path / "x", table="loans", partition_by="grade")


def test_rejects_can_go_to_their_own_folder(tmp_path):
    src = _write(tmp_path / "r.csv", "a,b\n1,2\n3\n")
    result = convert_csv(src, tmp_path / "out", rejects_dir=tmp_path / "quarantine")
    assert result.rejects_path == tmp_path / "quarantine" / "r_rejects.csv"
    assert len(_rejects(result)) == 1
    assert not list((tmp_path / "quarantine").glob(".*"))


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["convert"], ["loanbook"], ["upload"]])
def test_every_command_has_help(command):
    done = run_module(CLI, *command, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_cli_prints_the_identity_and_writes_the_dataset(tmp_path):
    src = _write(tmp_path / "in.csv", "id,v\n1,a\n1,a\n2,b\n3\n")
    done = run_module(CLI, "convert", str(src), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "in.csv: rows_in 4 = rows_out 2 + rows_rejected 1 + duplicates_removed 1" in done.stdout
    assert (tmp_path / "out" / "part-00000.parquet").is_file()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "missing.csv: no such file"),
        ("", [], "is empty"),
        ("a,b\n", [], "has a header but no data rows"),
        ("a;b\n1;2\n", ["--delimiter", ","], "delimiter ',' leaves each line in 1 field"),
        ("a,b\n1,2\n", ["--table", "loans"], "table 'loans' needs column(s)"),
        ("a,b\n1,2\n", ["--partition-by", "a:week"], "the grain must be one of"),
        ("a,b\n1,2\n", ["--encoding", "klingon"], "--encoding 'klingon' is not a known"),
    ],
)
def test_bad_input_at_the_cli_is_one_line_and_exit_2(tmp_path, content, args, message):
    src = tmp_path / "missing.csv"
    if content is not None:
        _write(src, content)
    done = run_module(CLI, "convert", str(src), "--out", str(tmp_path / "out"), "--quiet", *args)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


def test_reconverting_the_snapshot_keeps_the_daily_load_partitions(tmp_path):
    """Module 2 lands each day as ``<table>/dt=DAY/`` inside the snapshot's table folder: a new
    conversion of the snapshot replaces the snapshot's own files and keeps those loads."""
    source = _write(tmp_path / "loans.csv", "id,amount\nA,1\nB,2\n")
    out = tmp_path / "loans"
    convert_csv(source, out)
    day = out / "dt=2024-01-05"
    day.mkdir()
    (day / "part-00000.parquet").write_bytes(b"a day's load")
    _write(source, "id,amount\nA,1\nB,2\nC,3\n")
    result = convert_csv(source, out, keep_load_partitions=True)
    assert result.rows_out == 3
    assert (day / "part-00000.parquet").read_bytes() == b"a day's load"
    assert not list(tmp_path.glob(".loans.*"))  # nothing staged or retired left behind
    convert_csv(source, out)  # without the option the folder is replaced whole
    assert not day.exists()


def test_converting_does_not_import_the_object_store_client():
    """boto3 is imported on first use of an upload name, not by a conversion (9 MB less
    resident memory in a converter-only process); the names stay importable from here."""
    code = (
        "import sys\n"
        "from Module_1_Foundations.project.csv_to_parquet_to_s3 import convert_csv\n"
        "assert 'boto3' not in sys.modules, 'boto3 imported by the converter'\n"
        "from Module_1_Foundations.project.csv_to_parquet_to_s3 import upload_directory\n"
        "assert 'boto3' in sys.modules and callable(upload_directory)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
