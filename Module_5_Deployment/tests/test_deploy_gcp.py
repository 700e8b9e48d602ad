"""The BigQuery step of the deploy guide: the roles it grants, the dbt target it relies on."""

from __future__ import annotations

import re

import yaml

from Module_1_Foundations.common.paths import REPO_ROOT

GUIDE = (REPO_ROOT / "Module_5_Deployment" / "deploy_instructions.md").read_text()
IAM = yaml.safe_load((REPO_ROOT / "Module_5_Deployment/deploy/gcp/bigquery_iam.yaml").read_text())
PROFILES = REPO_ROOT / "Module_3_Analytics_Eng" / "dbt_project" / "profiles.yml"


def _section(title: str) -> str:
    return GUIDE.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_the_roles_are_data_editor_on_the_dataset_and_user_on_the_project():
    assert IAM["dataset_roles"] == ["roles/bigquery.dataEditor"]
    assert IAM["project_roles"] == ["roles/bigquery.user"]


def test_the_guide_grants_exactly_the_committed_roles_at_the_right_level():
    bigquery = _section("3. BigQuery")
    dataset_grants = re.findall(r"bq add-iam-policy-binding[^`]*?--role=(\S+)", bigquery)
    project_grants = re.findall(
        r"gcloud projects add-iam-policy-binding[^`]*?--role=(\S+)", bigquery
    )
    assert dataset_grants == IAM["dataset_roles"]
    assert project_grants == IAM["project_roles"]
    assert f"service-accounts create {IAM['service_account']}" in bigquery


def test_the_dbt_bigquery_target_reads_the_settings_the_guide_names():
    target = yaml.safe_load(PROFILES.read_text())
    (profile,) = target.values()
    bigquery = profile["outputs"]["bigquery"]
    assert bigquery["type"] == "bigquery"
    for key in ("project", "dataset", "location", "keyfile"):
        variable = f"HDP_BIGQUERY_{key.upper()}"
        assert variable in bigquery[key]
        assert variable in _section("3. BigQuery")


def test_the_offline_compile_check_the_guide_points_to_exists():
    assert "make dbt-bigquery-check" in GUIDE
    assert (REPO_ROOT / "Module_3_Analytics_Eng/tests/test_bigquery_compile.py").is_file()
    makefile = (REPO_ROOT / "Module_3_Analytics_Eng/module.mk").read_text()
    assert re.search(r"^dbt-bigquery-check:.*\n\t.*test_bigquery_compile\.py", makefile, re.M)
