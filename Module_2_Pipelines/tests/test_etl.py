"""The ETL steps as plain functions: each one's contract, without Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
import pytest

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.lake import PIPELINE_TABLES, LakeLayout
from Module_1_Foundations.common.settings import load_settings
from Module_1_Foundations.datasets.loanbook_schema import LOANS, REPAYMENTS
from Module_2_Pipelines import etl
from Module_2_Pipelines.contract import has_data_rows
from Module_2_Pipelines.tests.conftest import BUCKET, live_book_config

DAY = date(2024, 1, 5)
LOANS_PER_DROP = 200

# --- pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2024-01-05", date(2024, 1, 5), datetime(2024, 1, 5, 23, 59, tzinfo=UTC), "2024-01-05T00:00Z"],
)
def test_parse_day_accepts_text_dates_and_logical_datetimes(value):
    assert etl.parse_day(value) == DAY


def test_parse_day_refuses_non_dates_with_the_expected_format():
    with pytest.raises(UserError, match=r"'05/01/2024' is not a date: use YYYY-MM-DD"):
        etl.parse_day("05/01/2024")


def test_a_day_has_its_own_seed_and_id_prefix():
    assert etl.seed_for(DAY) == 20240105
    assert etl.seed_for(date(2024, 1, 6)) != etl.seed_for(DAY)
    assert etl.id_prefix_for(DAY) == "20240105-"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Loan Id\n", False), ("Loan Id\n\n  \n", False), ("Loan Id\nL1\n", True), ("", False)],
)
def test_has_data_rows_ignores_the_header_and_blank_lines(tmp_path, text, expected):
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert has_data_rows(path) is expected


def test_no_module_2_code_spells_a_lake_path_or_the_dag_id_itself():
    from Module_1_Foundations.common.paths import REPO_ROOT

    sources = {p: p.read_text() for p in (REPO_ROOT / "Module_2_Pipelines").glob("*.py")}
    assert sources
    assert [p.name for p, text in sources.items() if '"loanbook"' in text or "dt=" in text] == []
    assert [p.name for p, text in sources.items() if '"loanbook_daily_etl"' in text] == [
        "pipeline.py"
    ]
    assert max(len(text.splitlines()) for text in sources.values()) < 700


# --- extract ----------------------------------------------------------------------------------


def _raw(lake, day=DAY):
    return lake.layout.raw_daily(day)


def test_extract_lands_a_drop_of_that_day_with_date_prefixed_ids(lake):
    result = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)

    folder = _raw(lake)
    assert result["landed"] is True
    assert {"borrowers.csv", "loans.csv", "repayments.csv", "manifest.json"} <= {
        p.name for p in folder.iterdir()
    }
    lines = (folder / "loans.csv").read_text().splitlines()
    assert lines[1].startswith("L20240105-")
    assert "2024-01-05" in lines[1]
    assert result["files"]["loans"] == len(lines) - 1
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_a_drop_carries_the_live_books_repayment_events_of_that_day(lake):
    import pyarrow.csv as pacsv

    from Module_1_Foundations.datasets.loanbook_generator import repayments_due

    result = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    events = pacsv.read_csv(
        _raw(lake) / "repayments.csv",
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda _row: "skip"),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
    )
    expected = repayments_due(live_book_config(), DAY)

    assert expected.num_rows > 0 and result["files"]["repayments"] >= expected.num_rows
    assert result["live_book"]["loans"] == str(live_book_config().loans)
    ids = set(events.column(REPAYMENTS.columns[0].source_header).to_pylist())
    assert ids >= set(expected.column("loan_id").to_pylist())
    assert not [i for i in ids if i and i.startswith("L20240105-")]  # new loans owe nothing yet


def test_extract_is_deterministic_per_day(lake, tmp_path):
    first = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    elsewhere = load_settings(raw_dir=tmp_path / "other-raw")
    book = live_book_config()
    second = etl.extract(DAY, loans=LOANS_PER_DROP, settings=elsewhere, book=book)
    other_day = etl.extract(date(2024, 1, 6), loans=LOANS_PER_DROP, settings=elsewhere, book=book)

    here, there = _raw(lake), LakeLayout.from_settings(elsewhere).raw_daily(DAY)
    for name in ("borrowers", "loans", "repayments"):
        assert (here / f"{name}.csv").read_bytes() == (there / f"{name}.csv").read_bytes()
    assert first["files"] == second["files"]
    other = LakeLayout.from_settings(elsewhere).raw_daily(date(2024, 1, 6))
    assert (other / "loans.csv").read_bytes() != (here / "loans.csv").read_bytes()
    assert other_day["files"]["repayments"] != first["files"]["repayments"]


def test_a_landed_drop_is_kept_as_delivered_unless_relanded(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    loans_csv = _raw(lake) / "loans.csv"
    loans_csv.write_text(loans_csv.read_text() + "tampered\n")

    kept = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    assert kept["landed"] is False
    assert loans_csv.read_text().endswith("tampered\n")

    relanded = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings, reland=True)
    assert relanded["landed"] is True
    assert not loans_csv.read_text().endswith("tampered\n")


def test_a_broken_export_manifest_is_named_in_one_line(lake):
    lake.layout.raw_manifest().write_text("{}")
    with pytest.raises(UserError, match=r"manifest.json: not a generator manifest"):
        etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)


# --- validate: Module 1's converter is the contract gate ---------------------------------------


def _write_loans(folder, rows: list[str], header: str | None = None):
    header = header or ",".join(c.source_header for c in LOANS.columns)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "loans.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _good_row(n: int) -> str:
    return (
        f"L{n:08d},B{n:08d},2024-01-01,2024-01-05,10000,36,9.5,320.5,B,car,52000,"
        "3 years,18.2,120,0,Pacific"
    )


def test_stage_table_counts_the_rows_the_converter_refuses_and_keeps_what_it_repairs(lake):
    from Module_2_Pipelines.contract import stage_table

    rows = [_good_row(n) for n in range(1, 11)]
    rows[0] = "### export page break ###"  # stray text: wrong field count
    rows[1] = _good_row(2) + ",UNEXPECTED"  # an extra field
    rows[2] = _good_row(3).replace(",10000,", ",twelve,")  # text in a number column
    rows[3] = "," + _good_row(4).split(",", 1)[1]  # empty key
    rows[4] = _good_row(5).replace(",10000,", ",NA,")  # a required amount missing
    rows[5] = _good_row(6).replace(",B,", ", b ,")  # case/whitespace: repaired, kept
    _write_loans(_raw(lake), rows)

    counts = stage_table(lake.layout, "loans", DAY)

    assert (counts["rows_in"], counts["rows_out"], counts["rows_rejected"]) == (10, 5, 5)
    assert counts["reject_reasons"] == {"malformed": 2, "missing": 2, "type": 1}
    assert len(counts["sha256"]) == 64
    staged = pq.read_table(lake.layout.daily_staged("loans", DAY))
    assert staged.num_rows == 5 and "B" in staged.column("grade").to_pylist()
    assert not lake.layout.daily_table("loans", DAY).exists()  # nothing in the lake yet


def test_stage_table_refuses_a_header_without_contract_columns(lake):
    from Module_2_Pipelines.contract import stage_table

    header = ",".join(c.source_header for c in LOANS.columns if c.name != "loan_amount")
    _write_loans(_raw(lake), [_good_row(1)], header=header)
    with pytest.raises(etl.ContractError, match=r"loans.csv.*needs column\(s\) loan_amount"):
        stage_table(lake.layout, "loans", DAY)


def test_stage_table_refuses_an_empty_file(lake):
    from Module_2_Pipelines.contract import stage_table

    _raw(lake).mkdir(parents=True)
    (_raw(lake) / "loans.csv").write_text("")
    with pytest.raises(etl.ContractError, match=r"loans\.csv is empty"):
        stage_table(lake.layout, "loans", DAY)


def test_validate_passes_a_generated_drop_and_reports_the_counts(lake):
    extracted = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    result = etl.validate(DAY, settings=lake.settings)

    assert set(result["tables"]) == {"borrowers", "loans", "repayments", "loan_truth"}
    for name, counts in result["tables"].items():
        assert counts["rows_in"] == extracted["files"][name]
        assert counts["rows_rejected"] < 0.05 * counts["rows_in"]
        assert lake.layout.daily_staged(name, DAY).is_dir()
    assert result["tables"]["loans"]["rows_out"] >= LOANS_PER_DROP * 0.95


def test_validate_fails_fast_with_the_rejects_count_over_the_threshold(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    loans_csv = _raw(lake) / "loans.csv"
    rows = loans_csv.read_text().splitlines()
    loans_csv.write_text("\n".join([*rows[:-1], "### export page break ###"]) + "\n")
    passed = etl.validate(DAY, settings=lake.settings, max_reject_rate=0.05)["tables"]["loans"]

    with pytest.raises(
        etl.ContractError,
        match=rf"loans.csv: {passed['rows_rejected']} of {passed['rows_in']} rows break the "
        r"contract \(.*% > 0.0% allowed, at most 0 rows; \{.*'malformed'",
    ):
        etl.validate(DAY, settings=lake.settings, max_reject_rate=0.0)
    assert not [t for t in ("borrowers", "loans") if lake.layout.daily_staged(t, DAY).exists()]


@pytest.mark.parametrize(
    ("rows", "rate", "allowed"), [(11, 0.05, 1), (20, 0.05, 1), (21, 0.05, 2), (1000, 0.0, 0)]
)
def test_the_reject_allowance_is_the_share_rounded_up_to_whole_rows(rows, rate, allowed):
    from Module_2_Pipelines.contract import allowed_rejects

    assert allowed_rejects(rows, rate) == allowed


def test_validate_names_a_missing_file(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    (_raw(lake) / "borrowers.csv").unlink()
    with pytest.raises(etl.ContractError, match=r"borrowers\.csv: missing from the drop"):
        etl.validate(DAY, settings=lake.settings)


def test_a_drop_without_the_ground_truth_still_passes_and_publishes_no_truth_that_day(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    etl.validate(DAY, settings=lake.settings)
    etl.transform(DAY, settings=lake.settings)  # an earlier run of the day published a truth
    assert lake.layout.daily_table("loan_truth", DAY).is_dir()
    (_raw(lake) / "loan_truth.csv").unlink()  # a real vendor delivers no ground truth

    validated = etl.validate(DAY, settings=lake.settings)
    transformed = etl.transform(DAY, settings=lake.settings)

    assert set(validated["tables"]) == {"borrowers", "loans", "repayments"}
    assert transformed["tables"]["loan_truth"] == {"partition": None, "files": []}
    assert not lake.layout.daily_table("loan_truth", DAY).exists()


def test_validate_refuses_a_drop_without_loans(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    loans_csv = _raw(lake) / "loans.csv"
    loans_csv.write_text(loans_csv.read_text().splitlines()[0] + "\n")
    with pytest.raises(etl.ContractError, match="the drop holds no loans"):
        etl.validate(DAY, settings=lake.settings)


# --- transform: the staged partitions swapped into the tables ----------------------------------


def _validated(lake, day=DAY):
    extracted = etl.extract(day, loans=LOANS_PER_DROP, settings=lake.settings)
    return extracted, etl.validate(day, settings=lake.settings)


def test_transform_swaps_one_clean_partition_per_table_into_the_table_folder(lake):
    _, validated = _validated(lake)
    result = etl.transform(DAY, settings=lake.settings)

    loans = result["tables"]["loans"]
    folder = lake.layout.daily_table("loans", DAY)
    assert loans == {"partition": str(folder), "files": ["_manifest.json", "part-00000.parquet"]}
    assert folder.parent == lake.layout.snapshot_table("loans")  # one lake: inside the table
    table = pq.read_table(folder / "part-00000.parquet")
    assert table.num_rows == validated["tables"]["loans"]["rows_out"]
    assert table.schema.field("issue_date").type == "date32[day]"
    assert set(table.column("issue_date").to_pylist()) == {DAY}
    assert (lake.layout.daily_rejects("loans", DAY) / "loans_rejects.csv").is_file()
    assert not lake.layout.daily_staged("loans", DAY).exists()
    repayments = pq.read_table(lake.layout.daily_table("repayments", DAY))
    assert set(repayments.column("due_date").to_pylist()) == {DAY}
    # the day's new loans carry their ground truth, so a model scored on them can be judged
    # (the truth is clean: it also holds the loans whose messy row the contract refused)
    truth = pq.read_table(lake.layout.daily_table("loan_truth", DAY))
    assert set(table.column("loan_id").to_pylist()) <= set(truth.column("loan_id").to_pylist())


def test_transform_replaces_the_days_partition_on_a_rerun(lake):
    _validated(lake)
    etl.transform(DAY, settings=lake.settings)
    folder = lake.layout.daily_table("loans", DAY)
    (folder / "part-00001.parquet").write_bytes(b"left by an older run")
    before = (folder / "part-00000.parquet").read_bytes()

    etl.validate(DAY, settings=lake.settings)
    etl.transform(DAY, settings=lake.settings)

    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", "part-00000.parquet"]
    assert (folder / "part-00000.parquet").read_bytes() == before
    assert etl.transform(DAY, settings=lake.settings)["tables"]["loans"]["files"] == [
        "_manifest.json",
        "part-00000.parquet",
    ]  # a rerun of transform alone keeps what is in place


def test_transform_removes_an_old_partition_of_a_table_that_has_no_rows_today(lake):
    _validated(lake)
    repayments_csv = _raw(lake) / "repayments.csv"
    repayments_csv.write_text(repayments_csv.read_text().splitlines()[0] + "\n")
    stale = lake.layout.daily_table("repayments", DAY)
    stale.mkdir(parents=True)
    (stale / "part-00000.parquet").write_bytes(b"stale")
    etl.validate(DAY, settings=lake.settings)

    result = etl.transform(DAY, settings=lake.settings)

    assert result["tables"]["repayments"] == {"partition": None, "files": []}
    assert not stale.exists()


def test_transform_without_validate_names_the_missing_step(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    with pytest.raises(UserError, match=r"borrowers of 2024-01-05: nothing staged .* validate"):
        etl.transform(DAY, settings=lake.settings)


# --- load, verify, publish --------------------------------------------------------------------


def _prepare(lake):
    extracted, validated = _validated(lake)
    return extracted, validated, etl.transform(DAY, settings=lake.settings)


def _day_keys(table: str) -> list[str]:
    return [f"loanbook/{table}/dt=2024-01-05/{f}" for f in ("_manifest.json", "part-00000.parquet")]


def test_load_uploads_the_partitions_returns_their_checksums_and_a_rerun_uploads_nothing(lake):
    from Module_1_Foundations.common.io import sha256_file

    _prepare(lake)
    first = etl.load(DAY, settings=lake.settings)
    second = etl.load(DAY, settings=lake.settings)

    assert first["uploaded"] == 8 and first["skipped"] == 0  # 4 tables x (part + manifest)
    assert second["uploaded"] == 0 and second["skipped"] == 8
    assert sorted(first["objects"]) == lake.object_keys()
    assert lake.object_keys() == sorted(key for t in PIPELINE_TABLES for key in _day_keys(t))
    part = lake.layout.daily_table("loans", DAY) / "part-00000.parquet"
    assert first["objects"][_day_keys("loans")[1]] == sha256_file(part)
    assert second["objects"] == first["objects"]


def test_load_deletes_objects_of_the_day_that_the_partition_no_longer_has(lake):
    _prepare(lake)
    client = lake.client()
    etl.load(DAY, settings=lake.settings)
    stale = "loanbook/loans/dt=2024-01-05/part-00007.parquet"
    client.put_object(Bucket=BUCKET, Key=stale, Body=b"from an older run")
    other_day = "loanbook/loans/dt=2024-01-04/part-00000.parquet"
    client.put_object(Bucket=BUCKET, Key=other_day, Body=b"another day")

    result = etl.load(DAY, settings=lake.settings)

    assert result["deleted"] == 1
    assert stale not in lake.object_keys()
    assert other_day in lake.object_keys()  # only the day's own prefix is touched


def test_load_reports_an_unreachable_store_in_one_line(lake, monkeypatch):
    from Module_2_Pipelines.tests.conftest import free_port, point_settings_at

    _prepare(lake)
    settings = point_settings_at(monkeypatch, lake.root, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UserError, match=r"object store at http://127.0.0.1:\d+ is unreachable"):
        etl.load(DAY, settings=settings)


def test_verify_checks_the_store_against_loads_checksums_without_reading_the_files(lake):
    _prepare(lake)
    objects = etl.load(DAY, settings=lake.settings)["objects"]
    part = lake.layout.daily_table("loans", DAY) / "part-00000.parquet"
    part.write_bytes(bytes(part.stat().st_size))  # same size, other bytes: never read again

    assert etl.verify(DAY, objects, settings=lake.settings) == {
        "date": "2024-01-05",
        "verified": 8,
        "objects": objects,
    }


def test_verify_catches_a_changed_an_extra_and_an_unloaded_object(lake):
    _prepare(lake)
    objects = etl.load(DAY, settings=lake.settings)["objects"]
    client = lake.client()
    key = _day_keys("loans")[1]
    client.put_object(Bucket=BUCKET, Key=key, Body=b"corrupted", Metadata={"sha256": "0" * 64})
    with pytest.raises(UserError, match=r"part-00000.parquet: size 9 != local"):
        etl.verify(DAY, objects, settings=lake.settings)

    objects = etl.load(DAY, settings=lake.settings)["objects"]
    extra = "loanbook/loans/dt=2024-01-05/extra.parquet"
    client.put_object(Bucket=BUCKET, Key=extra, Body=b"x")
    with pytest.raises(UserError, match=r"holds .*extra\.parquet.* but the local partition has"):
        etl.verify(DAY, objects, settings=lake.settings)

    client.delete_object(Bucket=BUCKET, Key=extra)
    with pytest.raises(UserError, match=r"not among the objects load reported"):
        etl.verify(DAY, {k: v for k, v in objects.items() if k != key}, settings=lake.settings)


def test_a_stored_object_must_match_size_metadata_and_its_whole_object_checksum():
    import base64
    import hashlib

    from Module_2_Pipelines.object_store_steps import stored_object_problem

    sha = hashlib.sha256(b"data").hexdigest()
    whole = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    good = {"ContentLength": 4, "Metadata": {"sha256": sha}, "ChecksumSHA256": whole}
    check = {"size": 4, "sha256": sha, "multipart_threshold": 100}

    assert stored_object_problem(good, **check) is None
    assert stored_object_problem({**good, "ChecksumSHA256": None}, **check) is None
    assert "size 5 != local 4" in stored_object_problem({**good, "ContentLength": 5}, **check)
    assert "sha256 metadata" in stored_object_problem({**good, "Metadata": {}}, **check)
    bad = {**good, "ChecksumSHA256": "AAAA"}
    assert "stored checksum AAAA" in stored_object_problem(bad, **check)
    # a multipart object's composite checksum was checked against its parts by the upload
    assert stored_object_problem(bad, **{**check, "multipart_threshold": 4}) is None


def test_the_manifest_lists_every_file_with_the_checksums_load_computed(lake):
    extracted, validated, transformed = _prepare(lake)
    verified = etl.verify(
        DAY, etl.load(DAY, settings=lake.settings)["objects"], settings=lake.settings
    )
    manifest = etl.build_manifest(
        DAY,
        extracted=extracted,
        validated=validated,
        transformed=transformed,
        verified=verified,
        layout=lake.layout,
        run_id="run-1",
    )

    part = manifest["tables"]["loans"]["files"]["part-00000.parquet"]
    path = lake.layout.daily_table("loans", DAY) / "part-00000.parquet"
    assert manifest["pipeline"] == "loanbook_daily_etl"
    assert part["object"] == _day_keys("loans")[1]
    assert part["sha256"] == verified["objects"][part["object"]]
    assert part["bytes"] == path.stat().st_size
    loans = manifest["tables"]["loans"]
    assert loans["rows_out"] == validated["tables"]["loans"]["rows_out"]
    assert (
        loans["rows_in"] == loans["rows_out"] + loans["rows_rejected"] + loans["duplicates_removed"]
    )
    assert manifest["raw"]["files"]["repayments"]["rows"] == extracted["files"]["repayments"]
    assert manifest["raw"]["files"]["loans"]["sha256"] == validated["tables"]["loans"]["sha256"]
    assert manifest["object_store"] == {
        "bucket": BUCKET,
        "prefix": "loanbook",
        "verified_objects": 8,  # 4 tables, a Parquet part and a manifest each
    }
    assert manifest["run"]["run_id"] == "run-1"


def test_write_manifest_puts_it_locally_and_next_to_the_data(lake):
    result = etl.write_manifest(DAY, {"date": DAY.isoformat()}, settings=lake.settings)

    assert json.loads(lake.layout.daily_manifest(DAY).read_text()) == {"date": "2024-01-05"}
    assert result["key"] == "loanbook/daily/_manifests/dt=2024-01-05/manifest.json"
    assert lake.object_keys("loanbook/daily/_manifests/") == [result["key"]]


def test_pipeline_log_records_each_steps_status_and_failure_cause(lake):
    with etl.pipeline_log("run-ok", "extract"):
        pass
    with pytest.raises(ValueError, match="boom"), etl.pipeline_log("run-bad", "load"):
        raise ValueError("boom")

    lines = (lake.root / "logs" / "etl.log").read_text().splitlines()
    assert lines[0].endswith("Module_2_Pipelines.etl: extract: started")
    assert "run=run-ok" in lines[1] and "extract: succeeded in" in lines[1]
    assert "run=run-bad" in lines[3] and "load: FAILED after" in lines[3]
    assert lines[3].endswith("ValueError: boom")
    assert lines[0][:4].isdigit() and "+00:00" in lines[0].split(" ")[0]


# --- the command line -------------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HDP_", "AIRFLOW"))}
    return subprocess.run(
        [sys.executable, "-m", "Module_2_Pipelines.etl", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        check=False,
        timeout=300,
    )


def test_cli_help_describes_the_run():
    done = _cli("--help")
    assert done.returncode == 0
    assert "--date" in done.stdout and "--skip-load" in done.stdout


def test_cli_reports_a_bad_date_in_one_line_with_exit_2():
    done = _cli("--date", "yesterday")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: python -m Module_2_Pipelines.etl: argument --date: 'yesterday' is not a date: "
        "use YYYY-MM-DD, e.g. 2024-01-05 (see --help)"
    ]


def test_cli_runs_a_day_end_to_end_against_the_object_store(lake):
    env = {k: v for k, v in os.environ.items() if k.startswith("HDP_")}
    done = _cli("--date", "2024-01-05", "--loans", str(LOANS_PER_DROP), env=env)

    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert set(summary["seconds"]) == {
        "extract",
        "validate",
        "transform",
        "load",
        "verify",
        "publish",
    }
    assert len(lake.object_keys()) == 9  # 4 tables x (Parquet + _manifest.json) + the manifest


def test_cli_without_the_object_store_hashes_the_files_in_publish(lake):
    env = {k: v for k, v in os.environ.items() if k.startswith("HDP_")}
    done = _cli("--date", "2024-01-05", "--loans", str(LOANS_PER_DROP), "--skip-load", env=env)

    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads(lake.layout.daily_manifest(DAY).read_text())
    part = manifest["tables"]["loans"]["files"]["part-00000.parquet"]
    assert len(part["sha256"]) == 64 and part["object"] is None
    assert manifest["object_store"] is None and lake.object_keys() == []
