"""The runner derives dbt's environment from the shared settings, and its CLI behaves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.settings import load_settings
from Module_3_Analytics_Eng import dbt_runner


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "Module_3_Analytics_Eng.dbt_runner", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_env_comes_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        processed_dir=tmp_path / "processed", duckdb_path=tmp_path / "w.duckdb"
    )
    env = dbt_runner.dbt_env(settings)
    assert env["HDP_DUCKDB_PATH"] == str(tmp_path / "w.duckdb")
    assert env["HDP_LAKE_ROOT"] == str(tmp_path / "processed" / "loanbook")
    assert env["HDP_DBT_TARGET"] == "dev"
    assert env["DBT_PROFILES_DIR"] == str(dbt_runner.DBT_PROJECT_DIR)
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"
    assert (Path(env["HDP_DUCKDB_EXTENSION_DIR"])).is_dir()
    assert list(Path(env["HDP_DUCKDB_EXTENSION_DIR"]).rglob("httpfs.duckdb_extension"))


def test_s3_lake_uses_the_object_store_settings(tmp_path: Path) -> None:
    settings = load_settings(
        state_dir=tmp_path,
        s3_bucket="my-lake",
        s3_prefix="books/loanbook",
        s3_endpoint_url="http://127.0.0.1:9999",
        s3_access_key_id="key",
        s3_secret_access_key="secret",
    )
    env = dbt_runner.dbt_env(settings, lake="s3")
    assert env["HDP_LAKE_ROOT"] == "s3://my-lake/books/loanbook"
    assert env["HDP_DBT_S3_ENDPOINT"] == "127.0.0.1:9999"
    assert env["HDP_DBT_S3_USE_SSL"] == "false"
    assert (env["HDP_DBT_S3_KEY_ID"], env["HDP_DBT_S3_SECRET"]) == ("key", "secret")


def test_cli_help_and_print_env(tmp_path: Path) -> None:
    out = _cli("--help")
    assert out.returncode == 0
    assert "dbt" in out.stdout and "--lake" in out.stdout
    out = _cli("--print-env", "--duckdb-path", str(tmp_path / "x.duckdb"))
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["HDP_DUCKDB_PATH"] == str(tmp_path / "x.duckdb")


def test_cli_bad_argument_is_one_line() -> None:
    out = _cli("--lake", "ftp")
    assert out.returncode == 2
    assert out.stderr.startswith("error:") and len(out.stderr.strip().splitlines()) == 1
