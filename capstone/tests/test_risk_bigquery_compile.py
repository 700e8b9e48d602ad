"""The champion's scoring SQL, rendered through dbt for BigQuery, is valid BigQuery SQL.

Compiles the risk models offline for target ``bigquery`` (Module 3's ``bigquery_offline``) with
a logistic spec in var ``risk_scoring``, then parses the output with sqlglot;
the tree's SQL (the same template) is parsed directly.
"""

from __future__ import annotations

import json

import pytest
import sqlglot

from capstone.risk_model_pipeline import training
from capstone.risk_model_pipeline.scoring import ScoringSpec, render_sql
from capstone.tests.risk_book import synthetic_features
from Module_3_Analytics_Eng.tests.bigquery_offline import (
    bigquery_parse_problems,
    compile_for_bigquery,
)

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
    target = compile_for_bigquery(
        tmp_path,
        "--select",
        "rsk_loan_scores",
        "rpt_expected_loss",
        "--vars",
        json.dumps(variables),
    )
    risk = target / "compiled" / "loanbook" / "models" / "marts" / "risk"
    scores = (risk / "rsk_loan_scores.sql").read_text()
    assert "`hdp-offline-check`.`loanbook_ml`.`ml_loan_features`" in scores
    assert "float64" in scores and "__FLOAT__" not in scores and "__FEATURES__" not in scores
    assert "exp(" in scores
    paths = (risk / "rsk_loan_scores.sql", risk / "rpt_expected_loss.sql")
    assert bigquery_parse_problems(paths, target) == []
