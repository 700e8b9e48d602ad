"""Compile the dbt project for BigQuery without BigQuery: the one recipe both test suites use.

dbt compiles for target ``bigquery`` with dummy credentials (``oauth-secrets``, any token) and
``--no-introspect --no-populate-cache`` (otherwise dbt tries to reach BigQuery for ~10 min),
inside ``timeout``; the caller then parses the compiled SQL with sqlglot.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import sqlglot

from Module_1_Foundations.common.paths import REPO_ROOT

OFFLINE_BIGQUERY = {
    "HDP_DBT_TARGET": "bigquery",
    "HDP_BIGQUERY_PROJECT": "hdp-offline-check",
    "HDP_DBT_BIGQUERY_METHOD": "oauth-secrets",
    "HDP_DBT_BIGQUERY_TOKEN": "not-a-real-token",
}
#: a quiet machine compiles in about a minute; a loaded one took 91 s only to import the
#: BigQuery adapter. Under pytest-timeout's 900 s; the subprocess limit lets `timeout` speak first
COMPILE_SECONDS = 840


def compile_for_bigquery(work: Path, *dbt_args: str) -> Path:
    """Run ``dbt compile --no-introspect --no-populate-cache *dbt_args`` offline; the target dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDP_", "DBT_", "GOOGLE_"))}
    env.update(OFFLINE_BIGQUERY, DBT_TARGET_PATH=str(work / "target"), DBT_LOG_PATH=str(work))
    cmd = [
        "timeout",
        str(COMPILE_SECONDS),
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
        *dbt_args,
    ]
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=COMPILE_SECONDS + 20,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work / "target"


def bigquery_parse_problems(paths: Iterable[Path], root: Path) -> list[str]:
    """One line per file that sqlglot cannot parse as BigQuery SQL (path relative to root)."""
    problems = []
    for path in paths:
        try:
            sqlglot.parse(path.read_text(), read="bigquery")
        except sqlglot.errors.ParseError as exc:
            problems.append(f"{path.relative_to(root)}: {str(exc).splitlines()[0]}")
    return problems
