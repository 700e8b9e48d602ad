"""Settings: one typed object, two profiles, one-line errors for bad configuration."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from Module_1_Foundations.common.errors import SettingsError
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.settings import Settings, load_settings

from .conftest import run_module


def test_local_profile_is_the_default_and_keeps_state_in_the_repo(clean_env, tmp_path):
    settings = load_settings(_env_file=None)
    assert settings.profile == "local"
    assert settings.state_dir == REPO_ROOT / ".state"
    assert settings.duckdb_path == REPO_ROOT / ".state" / "warehouse" / "loanbook.duckdb"
    assert settings.airflow_home == REPO_ROOT / ".state" / "airflow"
    assert settings.s3_endpoint_url == "http://127.0.0.1:8333"
    assert settings.s3_bucket == "loanbook-lake"
    assert settings.warehouse_target == "dev"
    assert settings.raw_dir == REPO_ROOT / "data" / "raw"


def test_environment_variables_override_and_relative_paths_resolve_from_the_repo(clean_env):
    clean_env.setenv("HDP_STATE_DIR", "elsewhere/state")
    clean_env.setenv("HDP_S3_PORT", "9444")
    settings = load_settings(_env_file=None)
    assert settings.state_dir == REPO_ROOT / "elsewhere" / "state"
    assert (
        settings.duckdb_path == REPO_ROOT / "elsewhere" / "state" / "warehouse" / "loanbook.duckdb"
    )
    assert settings.s3_endpoint_url == "http://127.0.0.1:9444"


def test_cloud_profile_switches_to_aws_and_bigquery_by_configuration_alone(clean_env):
    clean_env.setenv("HDP_PROFILE", "cloud")
    clean_env.setenv("HDP_S3_BUCKET", "acme-credit-lake")
    clean_env.setenv("HDP_BIGQUERY_PROJECT", "acme-analytics")
    settings = load_settings(_env_file=None)
    assert settings.s3_endpoint_url is None  # boto3's default: AWS
    assert settings.warehouse_target == "bigquery"
    assert settings.object_store_credentials() is None  # the standard AWS chain


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"HDP_PROFILE": "prod"},
            r"HDP_PROFILE='prod' is invalid: Input should be 'local' or 'cloud'",
        ),
        ({"HDP_PROFILE": "cloud"}, r"HDP_S3_BUCKET is required when HDP_PROFILE=cloud"),
        (
            {"HDP_PROFILE": "cloud", "HDP_S3_BUCKET": "acme-lake"},
            r"HDP_BIGQUERY_PROJECT is required",
        ),
        ({"HDP_S3_PORT": "eighty"}, r"HDP_S3_PORT='eighty' is invalid"),
        ({"HDP_S3_PORT": "80"}, r"HDP_S3_PORT='80' is invalid: Input should be greater than"),
        ({"HDP_S3_BUCKET": "Bad_Bucket"}, r"HDP_S3_BUCKET='Bad_Bucket' is invalid"),
        ({"HDP_S3_ACCESS_KEY_ID": "abc"}, r"set both HDP_S3_ACCESS_KEY_ID and HDP_S3_SECRET"),
    ],
)
def test_bad_settings_give_one_line_naming_the_variable(clean_env, env, expected):
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=expected) as info:
        load_settings(_env_file=None)
    assert "\n" not in str(info.value)
    assert "fix it in the environment or .env" in str(info.value)


def test_settings_cli_prints_masked_json_and_fails_with_one_line_on_bad_profile():
    ok = run_module(
        "Module_1_Foundations.common.settings",
        env={"HDP_S3_ACCESS_KEY_ID": "AKIA123", "HDP_S3_SECRET_ACCESS_KEY": "shh"},
    )
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(ok.stdout)
    assert shown["s3_access_key_id"] == "********"
    assert "shh" not in ok.stdout
    bad = run_module("Module_1_Foundations.common.settings", env={"HDP_PROFILE": "staging"})
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: setting HDP_PROFILE='staging' is invalid")


def test_local_credentials_are_generated_once_private_and_outside_git(clean_env, tmp_path):
    settings = load_settings(_env_file=None, state_dir=tmp_path)
    first = settings.object_store_credentials()
    again = load_settings(_env_file=None, state_dir=tmp_path).object_store_credentials()
    assert first == again
    assert first is not None and len(first[1]) == 40
    path = tmp_path / "object_store" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_explicit_credentials_win(clean_env):
    settings = load_settings(_env_file=None, s3_access_key_id="k", s3_secret_access_key="s")
    assert settings.object_store_credentials() == ("k", "s")


def test_env_example_documents_every_setting():
    documented = set(re.findall(r"HDP_([A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text()))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields <= documented, f"undocumented in .env.example: {sorted(fields - documented)}"


def test_no_credentials_are_committed():
    tracked = (REPO_ROOT / ".gitignore").read_text()
    assert ".state/" in tracked and ".env\n" in tracked
    assert not Path(REPO_ROOT / ".env").exists() or ".env" in tracked


def test_capstone_defaults_live_under_the_state_folder(tmp_path):
    s = load_settings(state_dir=tmp_path)
    assert s.serving_dir == tmp_path / "serving"
    assert s.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert s.mlflow_artifact_location == "s3://loanbook-lake/mlflow"
    assert 0 < s.pd_review_from < s.pd_decline_from < 1
    assert s.lgd == 0.45


def test_pd_bands_out_of_order_are_refused_naming_both_variables():
    with pytest.raises(SettingsError, match="HDP_PD_REVIEW_FROM must be below HDP_PD_DECLINE_FROM"):
        load_settings(pd_review_from=0.3, pd_decline_from=0.2)


def test_the_run_id_and_the_pipeline_log_folder_are_settings(clean_env):
    defaults = load_settings(_env_file=None)
    assert defaults.run_id is None
    assert defaults.pipeline_log_dir == REPO_ROOT / "Module_2_Pipelines" / "logs"

    clean_env.setenv("HDP_RUN_ID", "manual__2024-01-05")
    clean_env.setenv("HDP_PIPELINE_LOG_DIR", "elsewhere/logs")
    settings = load_settings(_env_file=None)
    assert settings.run_id == "manual__2024-01-05"
    assert settings.pipeline_log_dir == REPO_ROOT / "elsewhere" / "logs"


def test_a_run_id_that_would_break_a_log_line_is_refused(clean_env):
    clean_env.setenv("HDP_RUN_ID", "two words")
    with pytest.raises(SettingsError, match=r"setting HDP_RUN_ID='two words' is invalid"):
        load_settings(_env_file=None)
