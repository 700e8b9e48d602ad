"""The lake layout: every path and key into the loan-book lake comes from one place."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from Module_1_Foundations.common.lake import (
    DATASET,
    OPTIONAL_TABLES,
    PIPELINE_TABLES,
    TABLES,
    LakeLayout,
    partition_date,
    partition_name,
)
from Module_1_Foundations.common.settings import load_settings
from Module_1_Foundations.datasets.loanbook_schema import TABLES as SCHEMA_TABLES

DAY = date(2024, 1, 5)


@pytest.fixture
def lake(tmp_path: Path) -> LakeLayout:
    settings = load_settings(raw_dir=tmp_path / "raw", processed_dir=tmp_path / "processed")
    return LakeLayout.from_settings(settings)


def test_partition_names_round_trip():
    assert partition_name(DAY) == "dt=2024-01-05"
    assert partition_date("s3://b/loanbook/daily/loans/dt=2024-01-05/part-0.parquet") == DAY
    assert partition_date(Path("/lake/loans/dt=2024-01-05")) == DAY


def test_a_path_outside_a_partition_has_no_load_date():
    assert partition_date("/lake/loans/part-0.parquet") is None
    assert partition_date("/lake/loans/xdt=2024-01-05/part-0.parquet") is None


def test_the_table_lists_match_the_contracts():
    assert set(TABLES) == set(SCHEMA_TABLES)
    assert PIPELINE_TABLES == TABLES  # the daily drops carry the ground truth too
    # ... but only the ground truth may be missing from a drop: the vendor's tables may not
    assert OPTIONAL_TABLES == ("loan_truth",)


def test_local_paths(lake: LakeLayout, tmp_path: Path):
    assert lake.raw_csv("loans") == tmp_path / "raw" / DATASET / "loans.csv"
    assert lake.raw_manifest() == tmp_path / "raw" / DATASET / "manifest.json"
    assert lake.snapshot_table("loans") == tmp_path / "processed" / DATASET / "loans"
    assert lake.raw_daily(DAY) == tmp_path / "raw" / DATASET / "daily" / "dt=2024-01-05"
    daily = tmp_path / "processed" / DATASET / "daily"
    assert lake.daily_table("loans", DAY) == daily.parent / "loans" / "dt=2024-01-05"
    assert lake.daily_staged("loans", DAY) == daily / "_staged" / "loans" / "dt=2024-01-05"
    assert lake.daily_rejects("loans", DAY) == daily / "_rejects" / "loans" / "dt=2024-01-05"
    assert lake.daily_manifest(DAY) == daily / "_manifests" / "dt=2024-01-05.json"


def test_object_keys_mirror_the_local_tree(lake: LakeLayout):
    assert lake.key("loans") == "loanbook/loans"
    assert lake.daily_table_key("loans", DAY) == "loanbook/loans/dt=2024-01-05"
    assert lake.daily_manifest_key(DAY) == "loanbook/daily/_manifests/dt=2024-01-05/manifest.json"
    assert lake.s3_root() == "s3://loanbook-lake/loanbook"
    assert lake.daily_asset_uri() == "s3://loanbook-lake/loanbook/daily"


def test_an_empty_prefix_puts_the_lake_at_the_bucket_root(tmp_path: Path):
    lake = LakeLayout.from_settings(load_settings(s3_prefix="", raw_dir=tmp_path))
    assert lake.key("loans") == "loans"
    assert lake.s3_root() == "s3://loanbook-lake"
