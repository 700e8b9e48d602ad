"""Shared fixtures for Module 3: a small fault-free loan book, lakes and temp warehouses.

Every warehouse is a DuckDB file under pytest's tmp_path (DuckDB allows one writer: never the
developer's .state warehouse), every dbt run writes its target/ and logs/ into tmp too.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from Module_1_Foundations.common.lake import DATASET
from Module_1_Foundations.datasets.loanbook_generator import (
    FaultRates,
    GeneratorConfig,
    generate,
)
from Module_3_Analytics_Eng import dbt_runner
from Module_3_Analytics_Eng.sample_lake import build_lake
from Module_3_Analytics_Eng.warehouse import connect_warehouse

#: The book's last day: loans are issued up to it (instalments fall due up to the 28th).
LAST_DAY = date(2025, 6, 30)
#: The last daily load: the instalments due on it and the loans issued from it on.
NEW_DAY = date(2025, 6, 28)
BOOK = GeneratorConfig(
    loans=1500,
    seed=7,
    start_date=date(2024, 1, 1),
    end_date=LAST_DAY,
    as_of=LAST_DAY,
    faults=FaultRates.none(),
)
MARTS = (
    "loanbook_core.dim_borrowers",
    "loanbook_core.fct_loans",
    "loanbook_core.fct_repayments",
    "loanbook_reporting.rpt_portfolio_risk_daily",
    "loanbook_reporting.rpt_default_rates_by_segment",
    "loanbook_reporting.rpt_vintage_default_curves",
    "loanbook_ml.ml_loan_features",
)


@dataclass
class Warehouse:
    """One DuckDB warehouse file, the lake its sources read, and a place for dbt's files."""

    path: Path
    lake_root: Path
    work: Path
    runs: int = field(default=0)

    def env(self) -> dict[str, str]:
        return dbt_runner.dbt_env(duckdb_path=self.path, root=self.lake_root, target="dev")

    def dbt(self, *args: str) -> Any:
        self.runs += 1
        env = self.env()
        run_dir = self.work / f"run{self.runs}"
        return dbt_runner.run_dbt(
            list(args), env, target_path=run_dir / "target", log_path=run_dir / "logs"
        )

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with connect_warehouse(self.env()) as con:
            return con.execute(sql, parameters).fetchall()

    def snapshot(self, relations: tuple[str, ...] = MARTS) -> dict[str, list[tuple]]:
        """Every row of each relation, in a deterministic order."""
        with connect_warehouse(self.env()) as con:
            return {r: con.execute(f"select * from {r} order by all").fetchall() for r in relations}


def failures(result: Any) -> list[tuple[str, str, str]]:
    """(node name, status, message) of every node that did not succeed."""
    rows = []
    for res in getattr(result.result, "results", None) or []:
        status = str(res.status)
        if status not in ("success", "pass", "no-op", "warn"):
            rows.append((res.node.name, status, res.message or ""))
    return rows


def assert_ok(result: Any) -> None:
    assert result.exception is None, result.exception
    assert result.success, failures(result)


@pytest.fixture(scope="session")
def raw_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("raw") / DATASET
    generate(BOOK, out, show_progress=False)
    return out


@pytest.fixture(scope="session")
def base_lake(raw_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The processed lake of the whole book (read-only: copy it before changing it)."""
    return build_lake(raw_book, tmp_path_factory.mktemp("processed") / DATASET)


@pytest.fixture
def lake_copy(base_lake: Path, tmp_path: Path) -> Path:
    target = tmp_path / "processed" / DATASET
    shutil.copytree(base_lake, target)
    return target


@pytest.fixture(scope="session")
def built(base_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A warehouse built once from the whole book (tests copy it before writing to it)."""
    work = tmp_path_factory.mktemp("built")
    wh = Warehouse(work / "warehouse.duckdb", base_lake, work)
    assert_ok(wh.dbt("build"))
    return wh


def copy_warehouse(wh: Warehouse, tmp_path: Path, lake_root: Path | None = None) -> Warehouse:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(wh.path, path)
    return Warehouse(path, lake_root or wh.lake_root, tmp_path)
