"""A week of daily incremental runs gives the same marts as one full refresh (issue 10, item 2).

The lake starts as the snapshot of a small fault-free book without its last seven days; each
day's load (the loans issued, the borrowers created and the instalments due that day, with
their ground truth) then lands as that day's ``dt=`` partition (Module 3's ``split_day`` /
``append_held_back``), and the warehouse is built incrementally after each landing, as the
DAG's dbt group does. A second warehouse is built once with ``--full-refresh`` over the same
final lake. Every table of every mart schema (core, reporting, ml, risk and the scores table)
must hold the same rows, compared order-independently. The risk marts are built in both with
the same scoring spec and as-of date (a scikit-learn logistic regression fitted on the full
refresh's features), since scoring needs a model.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from capstone.risk_model_pipeline import training
from capstone.risk_model_pipeline.pipeline import FEATURES_SQL, RISK_MODELS
from capstone.risk_model_pipeline.scoring import ScoringSpec
from Module_3_Analytics_Eng import dbt_runner
from Module_3_Analytics_Eng.sample_lake import append_held_back, split_day
from Module_3_Analytics_Eng.tests.conftest import (  # noqa: F401 (fixtures)
    LAST_DAY,
    assert_ok,
    base_lake,
    lake_copy,
    raw_book,
)
from Module_3_Analytics_Eng.warehouse import connect_warehouse

pytestmark = pytest.mark.slow

#: The week that lands day by day: the generator's instalments fall due up to the 28th.
WEEK = [date(2025, 6, 22) + timedelta(days=i) for i in range(7)]
#: Every schema a mart materialises into (``loanbook_scores`` holds ``ml_loan_scores``).
MART_SCHEMAS = (
    "loanbook_core",
    "loanbook_reporting",
    "loanbook_ml",
    "loanbook_risk",
    "loanbook_scores",
)
AS_OF = LAST_DAY.isoformat()


class Warehouse:
    """One DuckDB file built from one lake with the project's runner (``dbt_runner``)."""

    def __init__(self, path: Path, lake_root: Path, work: Path) -> None:
        self.env = dbt_runner.dbt_env(duckdb_path=path, root=lake_root, target="dev")
        self.work = work

    def dbt(self, *args: str) -> None:
        # one target folder per warehouse: dbt parses the project once, then partially
        result = dbt_runner.run_dbt(
            list(args), self.env, target_path=self.work / "target", log_path=self.work / "logs"
        )
        assert_ok(result)

    def build_marts(self, *flags: str) -> None:
        """What the DAG builds before training: every model but the risk marts."""
        self.dbt("run", "--exclude", "path:models/marts/risk", *flags)

    def build_risk(self, variables: dict[str, Any]) -> None:
        self.dbt("run", "--select", *RISK_MODELS, "--vars", json.dumps(variables))

    def query(self, sql: str) -> Any:
        with connect_warehouse(self.env) as con:
            return con.execute(sql).df()

    def marts(self) -> dict[str, list[tuple]]:
        """Every row of every mart relation, sorted (the comparison ignores row order)."""
        with connect_warehouse(self.env) as con:
            names = con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema in ? order by 1",
                [list(MART_SCHEMAS)],
            ).fetchall()
            return {
                # B608 is safe: the names come from the warehouse's own information_schema
                name: con.execute(f"select * from {name} order by all").fetchall()  # nosec B608
                for (name,) in names
            }


def scoring_vars(features: Any) -> dict[str, Any]:
    split = training.out_of_time_split(features)
    _, [candidate] = training.train_candidates(split, names=("sklearn_logistic",))
    return {
        "risk_scoring": {
            "model_name": "loanbook_pd",
            "model_version": "1",
            "as_of_date": AS_OF,
            "scored_at": f"{AS_OF} 06:00:00",
            "sql": ScoringSpec.from_dict(candidate.spec).compile_sql(),
        },
        "lgd": 0.45,
    }


def test_a_week_of_daily_runs_equals_one_full_refresh(
    lake_copy: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    held = {day: tmp_path / "held" / day.isoformat() for day in WEEK}
    for day in reversed(WEEK):  # newest first: each split takes [day, next day) off the base
        moved = split_day(lake_copy, day, hold_back=held[day])
        assert moved["repayments"] > 0 or moved["loans"] > 0, day

    daily = Warehouse(tmp_path / "daily.duckdb", lake_copy, tmp_path / "daily")
    daily.build_marts()  # the snapshot, before the week
    for day in WEEK:
        append_held_back(held[day], lake_copy)
        daily.build_marts()
    full = Warehouse(tmp_path / "full.duckdb", lake_copy, tmp_path / "full")
    full.build_marts("--full-refresh")

    variables = scoring_vars(full.query(FEATURES_SQL))
    daily.build_risk(variables)
    full.build_risk(variables)

    got, want = daily.marts(), full.marts()
    assert sorted(got) == sorted(want)
    assert "loanbook_ml.ml_loan_features" in want, sorted(want)
    assert {f"loanbook_risk.{m}" for m in RISK_MODELS} <= set(want)
    assert len(want["loanbook_core.fct_loans"]) > 0
    assert len(want["loanbook_scores.ml_loan_scores"]) == len(want["loanbook_ml.ml_loan_features"])
    for name in want:
        assert len(got[name]) == len(want[name]), name
        for got_row, want_row in zip(got[name], want[name], strict=True):
            assert same_row(got_row, want_row), (name, got_row, want_row)


def same_row(got: tuple, want: tuple) -> bool:
    """Equal values; doubles to 1e-12 relative: a sum or mean of doubles depends on the order
    DuckDB's threads meet the rows in (seen: a mean PD 0.6881983271740814 against ...815)."""
    return len(got) == len(want) and all(
        math.isclose(a, b, rel_tol=1e-12)
        if isinstance(a, float) and isinstance(b, float)
        else a == b
        for a, b in zip(got, want, strict=True)
    )
