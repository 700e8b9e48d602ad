"""Fixtures for the capstone's pipeline tests: Airflow as Module 2's tests set it up, a small
fault-free loan book in a temporary lake, and every ``HDP_*`` path under pytest's tmp folder.

Airflow reads its configuration once per process, so this conftest imports Module 2's, which
sets the ``AIRFLOW_*`` variables at import time (guarded, so both agree in one session), and
reuses its session fixtures (``dags_folder``, ``airflow_db``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from Module_1_Foundations.common.settings import Settings, get_settings, load_settings
from Module_2_Pipelines.tests.conftest import airflow_db, dags_folder  # noqa: F401

BOOK_LOANS = 2500


@dataclass
class RiskBook:
    root: Path
    settings: Settings

    def query(self, sql: str) -> list[tuple]:
        import duckdb

        with duckdb.connect(str(self.settings.duckdb_path), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="session")
def book_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated fault-free book converted to a Parquet lake (shared, read-only)."""
    from Module_1_Foundations.datasets.loanbook_generator import (
        FaultRates,
        GeneratorConfig,
        generate,
    )
    from Module_3_Analytics_Eng.sample_lake import build_lake

    root = tmp_path_factory.mktemp("risk-book")
    config = GeneratorConfig(loans=BOOK_LOANS, seed=11, faults=FaultRates.none())
    generate(config, root / "raw", show_progress=False)
    build_lake(root / "raw", root / "lake")
    return root / "lake"


@pytest.fixture
def risk_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, book_lake: Path
) -> Iterator[RiskBook]:
    """Settings pointing every path at ``tmp_path``; the lake is a copy-free symlink."""
    for name in list(os.environ):
        if name.startswith("HDP_"):
            monkeypatch.delenv(name)
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "loanbook").symlink_to(book_lake, target_is_directory=True)
    env = {
        "HDP_STATE_DIR": str(tmp_path / "state"),
        "HDP_RAW_DIR": str(tmp_path / "raw"),
        "HDP_PROCESSED_DIR": str(tmp_path / "processed"),
        "HDP_MLFLOW_ARTIFACT_LOCATION": str(tmp_path / "artifacts"),
        "HDP_S3_BUCKET": "loanbook-risk-test",
        "HDP_S3_ACCESS_KEY_ID": "testing",
        "HDP_S3_SECRET_ACCESS_KEY": "testing-secret",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield RiskBook(tmp_path, load_settings())
    get_settings.cache_clear()


@pytest.fixture
def risk_dag(airflow_db: Path, dags_folder: Path, risk_book: RiskBook) -> Any:  # noqa: F811
    """The risk DAG as the DAG processor parses it (manifest built first, pool created)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.pool import Pool

    from capstone.risk_model_pipeline.dbt_manifest import build_manifest
    from capstone.risk_model_pipeline.pipeline import DAG_ID, WAREHOUSE_POOL

    Pool.create_or_update_pool(
        WAREHOUSE_POOL, slots=1, description="DuckDB: one writer", include_deferred=False
    )
    build_manifest()
    bag = DagBag(dag_folder=str(dags_folder))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def logical_day(day: date) -> Any:
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, tzinfo=UTC)
