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
from Module_1_Foundations.common.settings import load_settings
from Module_1_Foundations.datasets.loanbook_schema import LOANS
from Module_2_Pipelines import etl
from Module_2_Pipelines.tests.conftest import BUCKET

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


def test_a_day_has_its_own_seed_id_prefix_and_partition_name():
    assert etl.seed_for(DAY) == 20240105
    assert etl.seed_for(date(2024, 1, 6)) != etl.seed_for(DAY)
    assert etl.id_prefix_for(DAY) == "20240105-"
    assert etl.partition(DAY) == "dt=2024-01-05"


def test_locations_follow_the_lake_layout(tmp_path):
    settings = load_settings(
        raw_dir=tmp_path / "raw", processed_dir=tmp_path / "p", s3_prefix="lake/loanbook"
    )
    assert etl.raw_partition(settings, DAY) == tmp_path / "raw/loanbook/daily/dt=2024-01-05"
    assert etl.processed_partition(settings, "loans", DAY) == (
        tmp_path / "p/loanbook/daily/loans/dt=2024-01-05"
    )
    assert etl.rejects_partition(settings, "loans", DAY) == (
        tmp_path / "p/loanbook/daily/_rejects/loans/dt=2024-01-05"
    )
    manifests = tmp_path / "p/loanbook/daily/_manifests"
    assert etl.manifest_file(settings, DAY) == manifests / "dt=2024-01-05.json"
    assert etl.object_prefix(settings, "loans", DAY) == "lake/loanbook/daily/loans/dt=2024-01-05"
    assert etl.manifest_key(settings, DAY) == (
        "lake/loanbook/daily/_manifests/dt=2024-01-05/manifest.json"
    )


def test_replace_dir_swaps_the_whole_folder_and_leaves_nothing_behind(tmp_path):
    final = tmp_path / "dt=2024-01-05"
    final.mkdir()
    (final / "old-part.parquet").write_text("old")
    staged = etl.staging_dir(final)
    (staged / "part-00000.parquet").write_text("new")

    assert staged.name.startswith(".dt=2024-01-05.tmp-")
    etl.replace_dir(staged, final)

    assert sorted(p.name for p in final.iterdir()) == ["part-00000.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["dt=2024-01-05"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Loan Id\n", False), ("Loan Id\n\n  \n", False), ("Loan Id\nL1\n", True), ("", False)],
)
def test_has_data_rows_ignores_the_header_and_blank_lines(tmp_path, text, expected):
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert etl.has_data_rows(path) is expected


# --- extract ----------------------------------------------------------------------------------


def test_extract_lands_a_drop_of_that_day_with_date_prefixed_ids(lake):
    result = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)

    folder = etl.raw_partition(lake.settings, DAY)
    assert result["landed"] is True and result["raw_dir"] == str(folder)
    assert {"borrowers.csv", "loans.csv", "repayments.csv", "manifest.json"} <= {
        p.name for p in folder.iterdir()
    }
    lines = (folder / "loans.csv").read_text().splitlines()
    assert lines[1].startswith("L20240105-")
    assert "2024-01-05" in lines[1]
    assert result["files"]["loans"]["rows"] == len(lines) - 1
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_extract_is_deterministic_per_day(lake, tmp_path):
    first = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    elsewhere = load_settings(raw_dir=tmp_path / "other-raw")
    second = etl.extract(DAY, loans=LOANS_PER_DROP, settings=elsewhere)
    other_day = etl.extract(date(2024, 1, 6), loans=LOANS_PER_DROP, settings=elsewhere)

    assert first["files"] == second["files"]
    assert other_day["files"]["loans"]["sha256"] != first["files"]["loans"]["sha256"]


def test_a_landed_drop_is_kept_as_delivered_unless_relanded(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    loans_csv = etl.raw_partition(lake.settings, DAY) / "loans.csv"
    loans_csv.write_text(loans_csv.read_text() + "tampered\n")

    kept = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    assert kept["landed"] is False
    assert loans_csv.read_text().endswith("tampered\n")

    relanded = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings, reland=True)
    assert relanded["landed"] is True
    assert not loans_csv.read_text().endswith("tampered\n")


# --- validate ---------------------------------------------------------------------------------


def _write_loans(tmp_path, rows: list[str], header: str | None = None):
    header = header or ",".join(c.source_header for c in LOANS.columns)
    path = tmp_path / "loans.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _good_row(n: int) -> str:
    return (
        f"L{n:08d},B{n:08d},2024-01-01,2024-01-05,10000,36,9.5,320.5,B,car,52000,"
        "3 years,18.2,120,0,Pacific"
    )


def test_count_rejects_passes_a_clean_file(tmp_path):
    path = _write_loans(tmp_path, [_good_row(n) for n in range(1, 6)])
    assert etl.count_rejects(path, LOANS) == {"rows": 5, "rejects": 0}


def test_count_rejects_counts_broken_rows_and_keeps_what_transform_can_repair(tmp_path):
    rows = [_good_row(n) for n in range(1, 11)]
    rows[0] = "### export page break ###"  # stray text: wrong field count
    rows[1] = _good_row(2) + ",UNEXPECTED"  # an extra field
    rows[2] = _good_row(3).replace(",10000,", ",twelve,")  # text in a number column
    rows[3] = "," + _good_row(4).split(",", 1)[1]  # empty key
    rows[4] = _good_row(5).replace(",10000,", ",NA,")  # a missing marker: not a reject here
    rows[5] = _good_row(6).replace(",B,", ", b ,")  # case/whitespace: transform repairs it
    path = _write_loans(tmp_path, rows)

    assert etl.count_rejects(path, LOANS) == {"rows": 10, "rejects": 4}


def test_count_rejects_refuses_a_header_without_contract_columns(tmp_path):
    header = ",".join(c.source_header for c in LOANS.columns if c.name != "loan_amount")
    path = _write_loans(tmp_path, [], header=header)
    with pytest.raises(etl.ContractError, match=r"loans.csv.*needs column\(s\) loan_amount"):
        etl.count_rejects(path, LOANS)


def test_count_rejects_refuses_an_empty_file(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text("")
    with pytest.raises(etl.ContractError, match="the file is empty"):
        etl.count_rejects(path, LOANS)


def test_validate_passes_a_generated_drop_and_reports_the_counts(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    result = etl.validate(DAY, settings=lake.settings)

    assert set(result["tables"]) == {"borrowers", "loans", "repayments"}
    assert result["tables"]["repayments"] == {"rows": 0, "rejects": 0}
    assert result["tables"]["loans"]["rows"] >= LOANS_PER_DROP
    assert result["tables"]["loans"]["rejects"] < 0.05 * result["tables"]["loans"]["rows"]


def test_validate_fails_fast_with_the_rejects_count_over_the_threshold(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    loans_csv = etl.raw_partition(lake.settings, DAY) / "loans.csv"
    rows = loans_csv.read_text().splitlines()
    loans_csv.write_text("\n".join([*rows[:-1], "### export page break ###"]) + "\n")
    counted = etl.count_rejects(loans_csv, LOANS)

    with pytest.raises(
        etl.ContractError,
        match=rf"loans.csv: {counted['rejects']} of {counted['rows']} rows break the contract",
    ):
        etl.validate(DAY, settings=lake.settings, max_reject_rate=0.0)
    etl.validate(DAY, settings=lake.settings, max_reject_rate=0.05)  # under the default: passes


def test_validate_names_a_missing_file(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    (etl.raw_partition(lake.settings, DAY) / "borrowers.csv").unlink()
    with pytest.raises(etl.ContractError, match=r"borrowers\.csv: missing from the drop"):
        etl.validate(DAY, settings=lake.settings)


def test_validate_refuses_a_drop_without_loans(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    loans_csv = etl.raw_partition(lake.settings, DAY) / "loans.csv"
    loans_csv.write_text(loans_csv.read_text().splitlines()[0] + "\n")
    with pytest.raises(etl.ContractError, match="the drop holds no loans"):
        etl.validate(DAY, settings=lake.settings)


# --- transform --------------------------------------------------------------------------------


def test_transform_writes_one_clean_partition_per_table_and_keeps_the_rejects(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    result = etl.transform(DAY, settings=lake.settings)

    loans = result["tables"]["loans"]
    assert loans["files"] == ["_manifest.json", "part-00000.parquet"]
    assert (
        loans["rows_in"] == loans["rows_out"] + loans["rows_rejected"] + loans["duplicates_removed"]
    )
    table = pq.read_table(
        etl.processed_partition(lake.settings, "loans", DAY) / "part-00000.parquet"
    )
    assert table.num_rows == loans["rows_out"]
    assert table.schema.field("issue_date").type == "date32[day]"
    assert set(table.column("issue_date").to_pylist()) == {DAY}
    rejects = etl.rejects_partition(lake.settings, "loans", DAY) / "loans_rejects.csv"
    assert rejects.is_file()
    assert result["tables"]["repayments"]["partition"] is None


def test_transform_replaces_the_days_partition_on_a_rerun(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    etl.transform(DAY, settings=lake.settings)
    folder = etl.processed_partition(lake.settings, "loans", DAY)
    (folder / "part-00001.parquet").write_bytes(b"left by an older run")
    before = (folder / "part-00000.parquet").read_bytes()

    etl.transform(DAY, settings=lake.settings)

    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", "part-00000.parquet"]
    assert (folder / "part-00000.parquet").read_bytes() == before


def test_transform_removes_an_old_partition_of_a_table_that_has_no_rows_today(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    stale = etl.processed_partition(lake.settings, "repayments", DAY)
    stale.mkdir(parents=True)
    (stale / "part-00000.parquet").write_bytes(b"stale")

    result = etl.transform(DAY, settings=lake.settings)

    assert result["tables"]["repayments"]["rows_out"] == 0
    assert not stale.exists()


# --- load, verify, publish --------------------------------------------------------------------


def _prepare(lake):
    etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    etl.validate(DAY, settings=lake.settings)
    return etl.transform(DAY, settings=lake.settings)


def test_load_uploads_the_partitions_and_a_second_load_uploads_nothing(lake):
    _prepare(lake)
    first = etl.load(DAY, settings=lake.settings)
    second = etl.load(DAY, settings=lake.settings)

    assert first["uploaded"] == 4 and first["skipped"] == 0
    assert second["uploaded"] == 0 and second["skipped"] == 4
    assert sorted(first["objects"]) == lake.object_keys()
    assert lake.object_keys() == [
        "loanbook/daily/borrowers/dt=2024-01-05/_manifest.json",
        "loanbook/daily/borrowers/dt=2024-01-05/part-00000.parquet",
        "loanbook/daily/loans/dt=2024-01-05/_manifest.json",
        "loanbook/daily/loans/dt=2024-01-05/part-00000.parquet",
    ]


def test_load_deletes_objects_of_the_day_that_the_partition_no_longer_has(lake):
    _prepare(lake)
    client = lake.client()
    etl.load(DAY, settings=lake.settings)
    stale = "loanbook/daily/loans/dt=2024-01-05/part-00007.parquet"
    client.put_object(Bucket=BUCKET, Key=stale, Body=b"from an older run")
    other_day = "loanbook/daily/loans/dt=2024-01-04/part-00000.parquet"
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


def test_verify_accepts_the_loaded_day_and_catches_a_changed_or_extra_object(lake):
    _prepare(lake)
    etl.load(DAY, settings=lake.settings)
    assert etl.verify(DAY, settings=lake.settings)["verified"] == 4

    client = lake.client()
    key = "loanbook/daily/loans/dt=2024-01-05/part-00000.parquet"
    client.put_object(Bucket=BUCKET, Key=key, Body=b"corrupted", Metadata={"sha256": "0" * 64})
    with pytest.raises(UserError, match=r"part-00000.parquet: size 9 != local"):
        etl.verify(DAY, settings=lake.settings)

    etl.load(DAY, settings=lake.settings)
    extra = "loanbook/daily/loans/dt=2024-01-05/extra.parquet"
    client.put_object(Bucket=BUCKET, Key=extra, Body=b"x")
    with pytest.raises(UserError, match=r"holds .*extra\.parquet.* but the local partition has"):
        etl.verify(DAY, settings=lake.settings)


def test_the_manifest_lists_every_file_with_checksum_and_object_key(lake):
    extracted = etl.extract(DAY, loans=LOANS_PER_DROP, settings=lake.settings)
    validated = etl.validate(DAY, settings=lake.settings)
    transformed = etl.transform(DAY, settings=lake.settings)
    manifest = etl.build_manifest(
        DAY,
        extracted=extracted,
        validated=validated,
        transformed=transformed,
        verified={"verified": 4},
        settings=lake.settings,
        run_id="run-1",
    )

    part = manifest["tables"]["loans"]["files"]["part-00000.parquet"]
    path = etl.processed_partition(lake.settings, "loans", DAY) / "part-00000.parquet"
    assert part["object"] == "loanbook/daily/loans/dt=2024-01-05/part-00000.parquet"
    assert part["bytes"] == path.stat().st_size and len(part["sha256"]) == 64
    assert manifest["tables"]["loans"]["rows_out"] == transformed["tables"]["loans"]["rows_out"]
    assert (
        manifest["tables"]["loans"]["contract_rejects"] == (validated["tables"]["loans"]["rejects"])
    )
    assert manifest["tables"]["repayments"]["files"] == {}
    assert manifest["object_store"] == {
        "bucket": BUCKET,
        "prefix": "loanbook",
        "verified_objects": 4,
    }
    assert manifest["run"]["run_id"] == "run-1"


def test_publish_writes_the_manifest_locally_and_next_to_the_data(lake):
    result = etl.publish(DAY, {"date": DAY.isoformat()}, settings=lake.settings)

    assert json.loads(etl.manifest_file(lake.settings, DAY).read_text()) == {"date": "2024-01-05"}
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
    assert len(lake.object_keys()) == 5
