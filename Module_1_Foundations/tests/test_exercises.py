"""Each exercise runs from the shell, prints what it claims to show, and fails clearly."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from Module_1_Foundations.datasets import loanbook_generator as gen

from .conftest import run_module

PKG = "Module_1_Foundations.exercises"
EXERCISES = (
    "ex01_load_csv",
    "ex02_missing_values",
    "ex03_group_aggregate",
    "ex04_parquet_vs_csv",
    "ex05_upload_s3",
)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("book")
    faults = gen.FaultRates(malformed=0.01)  # enough ragged lines to show in a small book
    gen.generate(gen.GeneratorConfig(loans=2_000, seed=5, faults=faults), out, show_progress=False)
    return out


def _run(name: str, *args: str, env: dict[str, str] | None = None):
    done = run_module(f"{PKG}.{name}", *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("name", EXERCISES)
def test_every_exercise_has_help(name):
    assert "usage:" in _run(name, "--help")


@pytest.mark.parametrize("name", EXERCISES[:4])
def test_a_missing_loan_book_is_a_one_line_error(name, tmp_path):
    done = run_module(f"{PKG}.{name}", "--raw-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("generate the loan book with 'make generate'")


def test_ex01_shows_shape_types_and_what_ragged_lines_do(book):
    out = _run("ex01_load_csv", "--raw-dir", str(book), "--rows", "3")
    assert re.search(r"loaded .*loans\.csv: [\d,]+ rows x 16 columns", out)
    assert "pandas refused a ragged line at first: Error tokenizing data" in out
    assert "lines by number of fields (16 expected)" in out
    assert "numeric columns read as text because of a few bad values" in out
    assert "== first 3 rows" in out


def test_ex02_reports_markers_per_column_and_the_three_policies(book):
    out = _run("ex02_missing_values", "--raw-dir", str(book))
    assert "== missing values per column, by marker" in out
    header = next(line for line in out.splitlines() if "'NA'" in line)
    assert all(f"'{m}'" in header for m in ("NA", "N/A", "null", "?", "-"))
    table = out.split("== what each policy costs")[1]
    rows = {line.split()[0]: line.split() for line in table.strip().splitlines()[1:5]}
    loaded, dropped = int(rows["as"][2]), int(rows["drop"][2])
    assert dropped < loaded, "dropping rows with a missing value loses loans"
    assert rows["fill"][-2] == "0", "filling leaves no missing cell"
    assert int(rows["flag"][-1]) > 16, "flagging adds indicator columns"


def test_ex03_default_rate_rises_from_grade_a_to_g(book):
    out = _run("ex03_group_aggregate", "--raw-dir", str(book))
    by_grade = out.split("== by grade")[1].split("==")[0].strip().splitlines()[2:]
    rates = {line.split()[0]: float(line.split()[3]) for line in by_grade}
    assert list(rates) == list("ABCDEFG")
    assert rates["A"] < rates["D"] < rates["G"]
    assert "== by region" in out and "== default rate, grade x region" in out
    assert "PACIFIC" not in out and " pacific" not in out, "spellings are normalised"


def test_ex04_parquet_is_smaller_than_the_csv(book):
    out = _run("ex04_parquet_vs_csv", "--raw-dir", str(book))
    assert "rows_in" in out and "balanced" in out
    sizes = {}
    for line in out.splitlines():
        match = re.match(r"^(CSV \(raw\)|Parquet \((\w+)\))\s+([\d.]+)", line)
        if match:
            sizes[match.group(2) or "csv"] = float(match.group(3))
    assert set(sizes) == {"csv", "none", "snappy", "zstd"}
    assert sizes["zstd"] < sizes["snappy"] < sizes["csv"]


def test_ex05_uploads_and_reads_back_the_same_bytes(book, moto_endpoint, tmp_path):
    env = {
        "HDP_S3_ENDPOINT_URL": moto_endpoint,
        "HDP_S3_ACCESS_KEY_ID": "testing",
        "HDP_S3_SECRET_ACCESS_KEY": "testing",
        "HDP_S3_BUCKET": f"ex-{secrets.token_hex(5)}",
        "HDP_STATE_DIR": str(tmp_path / "state"),
    }
    out = _run("ex05_upload_s3", "--raw-dir", str(book), "--create-bucket", env=env)
    assert "put_object: ETag" in out and "head_object:" in out and "encryption AES256" in out
    assert "list_objects_v2: 1 object(s) under the prefix" in out
    assert "identical to the file: True" in out
    missing = run_module(
        f"{PKG}.ex05_upload_s3", "--raw-dir", str(book), "--bucket", "nope-x1", env=env
    )
    assert missing.returncode == 2
    assert "bucket 'nope-x1' does not exist" in missing.stderr.splitlines()[-1]
