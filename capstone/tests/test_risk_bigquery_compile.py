"""The champion's scoring SQL, rendered through dbt for BigQuery, is valid BigQuery SQL.

Compiles the risk models offline for target ``bigquery`` (Module 3's dummy-credential
approach: ``oauth-secrets``, ``--no-introspect --no-populate-cache``, inside ``timeout``) with
a logistic spec in var ``risk_scoring``, then parses the output with sqlglot;
the tree's SQL (the same template) is parsed directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlglot

from capstone.risk_model_pipeline import training
from capstone.risk_model_pipeline.scoring import ScoringSpec, render_sql
from capstone.tests.risk_book import synthetic_features
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_3_Analytics_Eng.tests.test_bigquery_compile import OFFLINE_BIGQUERY

pytestmark = pytest.mark.slow


def test_tree_scoring_sql_parses_as_bigquery():
    split = training.out_of_time_split(synthetic_features(600))
    _, (model,) = training.train_candidates(split, ("sklearn_tree",))
    sql = render_sql(ScoringSpec.from_dict(model.spec).compile_sql(), "`p`.`d`.`f`", "float64")
    assert "case" in sql and "exp(" not in sql
    sqlglot.parse(sql, read="bigquery")


def test_logistic_scoring_sql_rendered_through_dbt_compiles_for_bigquery(tmp_path):
    """One offline dbt compile (minutes on a loaded machine): the logistic spec, both models."""
    candidate = "sklearn_logistic"
    split = training.out_of_time_split(synthetic_features(600))
    _, (model,) = training.train_candidates(split, (candidate,))
    variables = {
        "risk_scoring": {
            "model_name": "loanbook_pd",
            "model_version": "7",
            "as_of_date": "2025-01-06",
            "scored_at": "2025-01-06 03:00:00",
            "sql": ScoringSpec.from_dict(model.spec).compile_sql(),
        },
        "lgd": 0.45,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDP_", "DBT_", "GOOGLE_"))}
    env.update(
        OFFLINE_BIGQUERY, DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path)
    )
    cmd = [
        "timeout",
        "300",
        sys.executable,
        "-m",
        "Module_3_Analytics_Eng.dbt_runner",
        "--target",
        "bigquery",
        "--duckdb-path",
        str(tmp_path / "unused.duckdb"),
        "--",
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--select",
        "rsk_loan_scores",
        "rpt_expected_loss",
        "--vars",
        json.dumps(variables),
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=930, check=False
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    risk = tmp_path / "target" / "compiled" / "loanbook" / "models" / "marts" / "risk"
    scores = (risk / "rsk_loan_scores.sql").read_text()
    assert "`hdp-offline-check`.`loanbook_ml`.`ml_loan_features`" in scores
    assert "float64" in scores and "__FLOAT__" not in scores and "__FEATURES__" not in scores
    assert "exp(" in scores
    for path in (risk / "rsk_loan_scores.sql", risk / "rpt_expected_loss.sql"):
        sqlglot.parse(path.read_text(), read="bigquery")
