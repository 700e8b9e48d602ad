"""The warehouse: the one way code outside dbt opens it.

dbt builds the warehouse (``dbt_runner``); everything else that reads it (tests, notebooks, the
capstone's pipeline) opens it here, read-only by default, with the same httpfs build and S3
secret as dbt's profile, because a view over ``s3://`` makes DuckDB load httpfs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.errors import UserError


def httpfs_extension_dir() -> Path:
    """The ``extensions`` folder of the duckdb-ext-httpfs wheel: DuckDB's extension_directory."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the duckdb-ext-httpfs package is missing from the environment: run 'make setup'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "extensions"


def connect_warehouse(env: Mapping[str, str] | None = None, *, read_only: bool = True) -> Any:
    """Open the DuckDB warehouse the way dbt does: httpfs from the wheel, the S3 secret.

    A plain ``duckdb.connect(path)`` works for the tables, but touching a staging view over
    ``s3://`` would make DuckDB try to download httpfs (and fail offline). Readers such as the
    dashboard or a notebook should open the warehouse through this function.
    """
    import duckdb

    if env is None:
        from Module_3_Analytics_Eng.dbt_runner import dbt_env

        env = dbt_env()
    env = dict(env)
    con = duckdb.connect(
        env["HDP_DUCKDB_PATH"],
        read_only=read_only,
        config={"extension_directory": env["HDP_DUCKDB_EXTENSION_DIR"]},
    )
    con.execute("load httpfs")
    if env["HDP_LAKE_ROOT"].startswith("s3://"):
        con.execute(
            "create or replace temporary secret hdp_lake (type s3, key_id ?, secret ?, "
            "region ?, endpoint ?, url_style ?, use_ssl ?)",
            [
                env.get("HDP_DBT_S3_KEY_ID", ""),
                env.get("HDP_DBT_S3_SECRET", ""),
                env.get("HDP_S3_REGION", "us-east-1"),
                env.get("HDP_DBT_S3_ENDPOINT", "s3.amazonaws.com"),
                env.get("HDP_DBT_S3_URL_STYLE", "vhost"),
                env.get("HDP_DBT_S3_USE_SSL", "true") == "true",
            ],
        )
    return con


#: The scores table's one definition (the dbt source; the on-run-start DDL reads it too).
ML_SCORES_SOURCES = (
    Path(__file__).resolve().parent
    / "dbt_project"
    / "models"
    / "marts"
    / "risk"
    / "_ml_scores__sources.yml"
)


def ml_scores_columns() -> list[tuple[str, str]]:
    """``[(name, portable type)]`` of ``<schema>_scores.ml_loan_scores``, in table order."""
    import yaml

    doc = yaml.safe_load(ML_SCORES_SOURCES.read_text(encoding="utf-8"))
    source = next(s for s in doc["sources"] if s["name"] == "ml_scores")
    table = next(t for t in source["tables"] if t["name"] == "ml_loan_scores")
    return [(c["name"], c["data_type"]) for c in table["columns"]]


#: DuckDB's spelling of the portable types (the dbt macro ml_scores_type says the same in Jinja)
DUCKDB_TYPES = {"string": "varchar", "date": "date", "timestamp": "timestamp", "float": "double"}


def ml_scores_ddl(relation: str) -> str:
    """DuckDB ``create table if not exists`` for the scores table at ``relation``."""
    columns = ", ".join(f"{name} {DUCKDB_TYPES[kind]}" for name, kind in ml_scores_columns())
    return f"create table if not exists {relation} ({columns})"
