"""Run Module 3's dbt project with the shared settings, in-process (``dbtRunner``).

The project reads everything from the environment (``profiles.yml`` and the sources use
``env_var``); this module derives those variables from the one settings object
(``Module_1_Foundations.common.settings``), so ``HDP_*`` variables or ``.env`` are the only
configuration:

* ``HDP_DUCKDB_PATH`` <- ``settings.duckdb_path`` (absolute);
* ``HDP_LAKE_ROOT`` <- :func:`lake_root`: the processed lake of the lake layout
  (``--lake local``) or ``s3://<s3_bucket>/<s3_prefix>`` (``--lake s3``, read through DuckDB
  httpfs);
* ``HDP_LAKE_PARTITION_KEY`` <- the lake layout's load-date partition key;
* ``HDP_DBT_TARGET`` <- ``settings.warehouse_target`` (``dev`` = DuckDB, ``bigquery``).

Examples::

    python -m Module_3_Analytics_Eng.dbt_runner                    # dbt build
    python -m Module_3_Analytics_Eng.dbt_runner -- run --select marts.core
    python -m Module_3_Analytics_Eng.dbt_runner --lake s3 -- build
    python -m Module_3_Analytics_Eng.dbt_runner --print-env
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.environment import patched_environ
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.lake import DATASET, PARTITION_KEY, TABLES, LakeLayout
from Module_1_Foundations.common.settings import Settings, get_settings
from Module_3_Analytics_Eng.warehouse import httpfs_extension_dir

MODULE_DIR = Path(__file__).resolve().parent
DBT_PROJECT_DIR = MODULE_DIR / "dbt_project"
#: The profile dbt_project.yml and profiles.yml name: the dataset's own name.
DBT_PROFILE = DATASET
#: Variables that would change what dbt does if they leaked from the developer's shell.
_FIXED_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
}


def lake_root(settings: Settings, lake: str = "local") -> str:
    """Where the sources read: the local processed folder or the object store."""
    from Module_1_Foundations.common.lake import LakeLayout

    layout = LakeLayout.from_settings(settings)
    if lake == "local":
        return str(layout.processed_root)
    if lake == "s3":
        return layout.s3_root()
    raise UserError(f"--lake={lake!r} is invalid: give local or s3")


def dbt_env(
    settings: Settings | None = None,
    *,
    lake: str = "local",
    target: str | None = None,
    duckdb_path: Path | None = None,
    root: str | Path | None = None,
) -> dict[str, str]:
    """The environment variables profiles.yml and the sources read, from the settings."""
    settings = settings or get_settings()
    env = dict(_FIXED_ENV)
    env["HDP_DBT_TARGET"] = target or settings.warehouse_target or "dev"
    path = Path(duckdb_path or settings.duckdb_path)
    env["HDP_DUCKDB_PATH"] = str(path.resolve())
    env["HDP_DUCKDB_EXTENSION_DIR"] = str(httpfs_extension_dir())
    env["HDP_LAKE_ROOT"] = str(root) if root is not None else lake_root(settings, lake)
    # the macro lake_partition_date reads a load date out of a file's partition folder
    env["HDP_LAKE_PARTITION_KEY"] = PARTITION_KEY
    env["HDP_S3_REGION"] = settings.s3_region
    if lake == "s3":
        creds = settings.object_store_credentials()
        if creds is None:
            raise UserError(
                "--lake s3 needs an explicit key pair for DuckDB: set HDP_S3_ACCESS_KEY_ID "
                "and HDP_S3_SECRET_ACCESS_KEY"
            )
        env["HDP_DBT_S3_KEY_ID"], env["HDP_DBT_S3_SECRET"] = creds
        if settings.s3_endpoint_url:
            url = urlparse(settings.s3_endpoint_url)
            env["HDP_DBT_S3_ENDPOINT"] = url.netloc
            env["HDP_DBT_S3_USE_SSL"] = "true" if url.scheme == "https" else "false"
            env["HDP_DBT_S3_URL_STYLE"] = "path"
    if settings.bigquery_project:
        env["HDP_BIGQUERY_PROJECT"] = settings.bigquery_project
    env["HDP_BIGQUERY_DATASET"] = settings.bigquery_dataset
    env["HDP_BIGQUERY_LOCATION"] = settings.bigquery_location
    if settings.bigquery_keyfile:
        env["HDP_BIGQUERY_KEYFILE"] = str(settings.bigquery_keyfile)
        env["HDP_DBT_BIGQUERY_METHOD"] = "service-account"
    return env


def run_dbt(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    target_path: Path | None = None,
    log_path: Path | None = None,
) -> Any:
    """Invoke dbt in-process with ``env``; return the ``dbtRunnerResult``.

    ``target_path``/``log_path`` keep concurrent runs (tests, the benchmark) apart from the
    developer's ``dbt_project/target``.
    """
    from dbt.cli.main import dbtRunner

    full_env = dict(env if env is not None else dbt_env())
    if target_path is not None:
        full_env["DBT_TARGET_PATH"] = str(target_path)
    if log_path is not None:
        full_env["DBT_LOG_PATH"] = str(log_path)
    Path(full_env["HDP_DUCKDB_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    with patched_environ(full_env), contextlib.chdir(DBT_PROJECT_DIR):
        try:
            return dbtRunner().invoke(list(args))
        finally:
            release_duckdb()


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb holds one process-wide handle (and DuckDB's file lock) until exit; closing it
    lets other readers and writers (the dashboard, a test, the next run with other settings)
    open the warehouse file.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is part of the locked environment
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def ensure_lake(settings: Settings | None = None, *, loans: int = 10_000) -> Path:
    """Make sure the local lake has the loan book; on a fresh clone, generate and convert it.

    Generates the raw loan book (the default book, faults included) when its CSVs are
    missing, then converts it with Module 1's converter into the processed lake; both places
    come from the lake layout (``Module_1_Foundations/common/lake.py``).
    """
    from Module_3_Analytics_Eng.sample_lake import build_lake

    layout = LakeLayout.from_settings(settings or get_settings())
    root = layout.processed_root
    if all(any(layout.snapshot_table(table).rglob("*.parquet")) for table in TABLES):
        return root
    if not all(layout.raw_csv(table).is_file() for table in TABLES):
        from Module_1_Foundations.datasets.loanbook_generator import (
            GeneratorConfig,
            generate,
        )

        print(f"no loan book in {layout.raw_root}: generating {loans:,} loans", file=sys.stderr)
        generate(GeneratorConfig(loans=loans), layout.raw_root, show_progress=False)
    print(f"no Parquet lake in {root}: converting {layout.raw_root}", file=sys.stderr)
    build_lake(layout.raw_root, root)
    print(f"lake ready in {root}", file=sys.stderr)
    return root


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m Module_3_Analytics_Eng.dbt_runner",
        description=(
            "Run the Module 3 dbt project (in-process) with the environment derived from the "
            "shared settings. Arguments after -- go to dbt (default: build)."
        ),
    )
    parser.add_argument(
        "--lake", choices=("local", "s3"), default="local", help="where the sources read"
    )
    parser.add_argument(
        "--target", choices=("dev", "bigquery"), help="dbt target (default: settings)"
    )
    parser.add_argument("--duckdb-path", type=Path, help="warehouse file (default: settings)")
    parser.add_argument("--lake-root", help="override the lake root (a folder or s3:// URL)")
    parser.add_argument(
        "--print-env", action="store_true", help="print the variables dbt gets and exit"
    )
    parser.add_argument(
        "--exec",
        action="store_true",
        help="run the command after -- (e.g. sqlfluff) in the project folder with dbt's env",
    )
    parser.add_argument(
        "--ensure-lake",
        action="store_true",
        help="first generate and convert the loan book if the local lake is empty (fresh clone)",
    )
    parser.add_argument("dbt_args", nargs="*", help="dbt command and flags (after --)")
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        env = dbt_env(
            lake=args.lake, target=args.target, duckdb_path=args.duckdb_path, root=args.lake_root
        )
        if args.ensure_lake and args.lake == "local" and args.lake_root is None:
            ensure_lake()
        if args.print_env:
            shown = {k: ("********" if "SECRET" in k else v) for k, v in env.items()}
            print(json.dumps(shown, indent=2))
            return 0
        if args.exec:
            if not args.dbt_args:
                raise UserError("--exec needs a command after --, e.g. -- sqlfluff lint models")
            try:
                done = subprocess.run(
                    args.dbt_args, cwd=DBT_PROJECT_DIR, env={**os.environ, **env}, check=False
                )
            except FileNotFoundError:
                raise UserError(
                    f"--exec: no program {args.dbt_args[0]!r} (it runs in {DBT_PROJECT_DIR}: "
                    "give an absolute path, e.g. $PWD/.venv/bin/sqlfluff)"
                ) from None
            return done.returncode
        result = run_dbt(args.dbt_args or ["build"], env)
        if result.exception is not None:
            print(f"error: dbt failed: {result.exception}", file=sys.stderr)
            return 1
        return 0 if result.success else 1

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
