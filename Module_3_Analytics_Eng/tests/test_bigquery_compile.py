"""The BigQuery target cannot silently rot: compile the whole project offline and parse it.

dbt compiles for target ``bigquery`` offline (``bigquery_offline``: dummy credentials, no
introspection); then every compiled model and test must parse as BigQuery SQL (sqlglot).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from Module_3_Analytics_Eng.tests.bigquery_offline import (
    bigquery_parse_problems,
    compile_for_bigquery,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bigquery")
    return compile_for_bigquery(work, "--vars", "{offline_compile_incremental: true}")


def test_every_compiled_node_parses_as_bigquery_sql(compiled: Path) -> None:
    files = sorted((compiled / "compiled" / "loanbook").rglob("*.sql"))
    layers = ("staging", "intermediate", "core", "reporting", "ml")
    models = [f for f in files if f.parent.name in layers]
    assert len(models) >= 14, [f.name for f in models]
    problems = bigquery_parse_problems(files, compiled)
    assert not problems, "\n".join(problems)


def test_compiled_sql_uses_bigquery_names_and_functions(compiled: Path) -> None:
    base = compiled / "compiled" / "loanbook" / "models"
    stg = (base / "staging" / "stg_loanbook__repayments.sql").read_text()
    assert "`hdp-offline-check`.`loanbook_raw`.`repayments`" in stg
    assert "_FILE_NAME as lake_file_name" in stg and "read_parquet(" not in stg
    spine = (base / "marts" / "reporting" / "rpt_portfolio_risk_daily.sql").read_text()
    assert "generate_date_array" in spine


def test_fct_repayments_is_partitioned_clustered_insert_overwrite(compiled: Path) -> None:
    manifest = json.loads((compiled / "manifest.json").read_text())
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    config = nodes["fct_repayments"]["config"]
    assert config["incremental_strategy"] == "insert_overwrite"
    assert config["partition_by"] == {
        "field": "due_date",
        "data_type": "date",
        "granularity": "day",
    }
    assert config["cluster_by"] == ["loan_id"]
    assert nodes["fct_loans"]["config"]["incremental_strategy"] == "merge"
    for name, node in nodes.items():
        if node["path"].startswith("marts/") and node["config"]["materialized"] != "view":
            assert node["config"]["contract"]["enforced"], name
