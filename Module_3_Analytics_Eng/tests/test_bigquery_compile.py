"""The BigQuery target cannot silently rot: compile the whole project offline and parse it.

dbt compiles for target ``bigquery`` with dummy credentials (``oauth-secrets``, any token),
``--no-introspect --no-populate-cache`` (otherwise dbt tries to reach BigQuery for ~10 min),
inside ``timeout``; then every compiled model and test must parse as BigQuery SQL (sqlglot).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot

from Module_1_Foundations.common.paths import REPO_ROOT

pytestmark = pytest.mark.slow

OFFLINE_BIGQUERY = {
    "HDP_DBT_TARGET": "bigquery",
    "HDP_BIGQUERY_PROJECT": "hdp-offline-check",
    "HDP_DBT_BIGQUERY_METHOD": "oauth-secrets",
    "HDP_DBT_BIGQUERY_TOKEN": "not-a-real-token",
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bigquery")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDP_", "DBT_", "GOOGLE_"))}
    env.update(OFFLINE_BIGQUERY, DBT_TARGET_PATH=str(work / "target"), DBT_LOG_PATH=str(work))
    cmd = [
        "timeout",
        "300",
        sys.executable,
        "-m",
        "Module_3_Analytics_Eng.dbt_runner",
        "--target",
        "bigquery",
        "--duckdb-path",
        str(work / "unused.duckdb"),
        "--",
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--vars",
        "{offline_compile_incremental: true}",
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=330, check=False
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work / "target"


def test_every_compiled_node_parses_as_bigquery_sql(compiled: Path) -> None:
    files = sorted((compiled / "compiled" / "loanbook").rglob("*.sql"))
    layers = ("staging", "intermediate", "core", "reporting", "ml")
    models = [f for f in files if f.parent.name in layers]
    assert len(models) >= 14, [f.name for f in models]
    problems = []
    for path in files:
        try:
            sqlglot.parse(path.read_text(), read="bigquery")
        except sqlglot.errors.ParseError as exc:
            problems.append(f"{path.relative_to(compiled)}: {str(exc).splitlines()[0]}")
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
