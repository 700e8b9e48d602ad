"""The real-data export: a public credit data set, with its source and licence recorded."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from Module_1_Foundations.datasets.public_credit_data import DATASETS, export_public_dataset

from .conftest import run_module


def test_export_writes_the_data_and_its_provenance(tmp_path):
    record = export_public_dataset("credit_data", tmp_path)
    frame = pd.read_csv(tmp_path / "credit_data.csv")
    assert frame.shape == (4454, 14)
    assert set(frame["Status"]) == {"good", "bad"}
    assert frame.isna().any().any(), "the real data keeps its real missing values"
    source = json.loads((tmp_path / "credit_data.source.json").read_text())
    assert source == record
    assert source["licence"].startswith("MIT")
    assert source["rows"] == 4454
    digest = hashlib.sha256((tmp_path / "credit_data.csv").read_bytes()).hexdigest()
    assert source["sha256"] == digest


def test_every_listed_data_set_names_its_licence_and_target():
    for spec in DATASETS.values():
        assert spec.licence
        assert spec.origin
        assert spec.target


def test_unknown_data_set_is_one_line_and_exit_2(tmp_path):
    done = run_module(
        "Module_1_Foundations.datasets.public_credit_data", "--dataset", "titanic",
        "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "invalid choice: 'titanic'" in done.stderr


def test_list_shows_all_data_sets():
    done = run_module("Module_1_Foundations.datasets.public_credit_data", "--list")
    assert done.returncode == 0
    for name in DATASETS:
        assert name in done.stdout
