"""The Kubernetes step of the deploy guide: the official Helm chart's values, checked structurally.

No cluster, Helm binary or chart download exists here, so the chart is not rendered; the test
holds the values file to what the image and the lock say, and to the chart's Airflow 3 keys.
"""

from __future__ import annotations

import json
import re
import tomllib

import yaml

from Module_1_Foundations.common.paths import REPO_ROOT

VALUES_FILE = REPO_ROOT / "Module_5_Deployment" / "deploy" / "k8s" / "airflow-values.yaml"
VALUES = yaml.safe_load(VALUES_FILE.read_text())
GUIDE = (REPO_ROOT / "Module_5_Deployment" / "deploy_instructions.md").read_text()
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
#: the executors the official chart accepts (its values.schema.json enum)
CHART_EXECUTORS = {"LocalExecutor", "LocalKubernetesExecutor", "CeleryExecutor",
                   "KubernetesExecutor", "CeleryKubernetesExecutor"}  # fmt: skip


def _locked_version(package: str) -> str:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def test_airflow_version_is_the_locked_one():
    assert VALUES["airflowVersion"] == _locked_version("apache-airflow")


def test_airflow_3_components_api_server_and_dag_processor_no_webserver():
    assert VALUES["apiServer"]["replicas"] >= 1
    assert VALUES["dagProcessor"]["enabled"] is True
    assert "webserver" not in VALUES and "webserverSecretKeySecretName" not in VALUES


def test_executor_is_one_the_chart_accepts_and_needs_no_broker():
    assert VALUES["executor"] in CHART_EXECUTORS
    assert VALUES["executor"] == "KubernetesExecutor"
    assert VALUES["redis"]["enabled"] is False


def test_runs_the_images_user_and_its_baked_in_dag_bundle():
    assert re.search(rf"^USER {VALUES['uid']}$", DOCKERFILE, re.M)
    dags_folder = re.search(r"AIRFLOW__CORE__DAGS_FOLDER=(\S+)", DOCKERFILE).group(1)
    (bundle,) = json.loads(VALUES["config"]["dag_processor"]["dag_bundle_config_list"])
    assert bundle["classpath"] == "airflow.dag_processing.bundles.local.LocalDagBundle"
    assert bundle["kwargs"]["path"] == dags_folder == VALUES["config"]["core"]["dags_folder"]
    assert VALUES["dags"]["gitSync"]["enabled"] is False
    assert VALUES["dags"]["persistence"]["enabled"] is False


def _referenced_secrets() -> set[str]:
    names = {VALUES["data"]["metadataSecretName"], VALUES["fernetKeySecretName"],
             VALUES["apiSecretKeySecretName"], VALUES["jwtSecretName"]}  # fmt: skip
    names |= {s["secretName"] for s in VALUES["secret"]}
    names |= {v["secret"]["secretName"] for v in VALUES["volumes"] if "secret" in v}
    return names


def test_every_secret_comes_from_a_kubernetes_secret_the_guide_creates():
    created = set(re.findall(r"create secret generic (\S+)", GUIDE))
    assert _referenced_secrets() <= created
    assert VALUES["postgresql"]["enabled"] is False


def test_no_secret_value_is_written_in_the_values_file():
    for key in ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"):
        assert key not in VALUES
    assert "metadataConnection" not in VALUES["data"]
    plain = {e["name"]: e["value"] for e in VALUES["env"]}
    assert not [n for n in plain if re.search(r"KEY|SECRET|TOKEN|PASSWORD", n)]


def test_mlflow_talks_to_a_remote_tracking_server_from_a_secret():
    from_secrets = {s["envName"]: s["secretName"] for s in VALUES["secret"]}
    assert (
        from_secrets["MLFLOW_TRACKING_URI"] == from_secrets["MLFLOW_TRACKING_TOKEN"] == "hdp-mlflow"
    )
    assert "MLFLOW_TRACKING_URI" in GUIDE.split("## 5. MLflow", 1)[1]


def test_the_cloud_profile_is_selected_and_the_keyfile_is_mounted_where_it_points():
    plain = {e["name"]: e["value"] for e in VALUES["env"]}
    assert plain["HDP_PROFILE"] == "cloud"
    (mount,) = VALUES["volumeMounts"]
    assert mount["readOnly"] is True
    keyfile = re.search(r"keyfile-path=(\S+)", GUIDE).group(1)
    assert keyfile.startswith(mount["mountPath"] + "/")


def test_the_guide_installs_the_chart_with_this_values_file():
    assert "helm upgrade --install" in GUIDE
    assert f"-f {VALUES_FILE.relative_to(REPO_ROOT)}" in GUIDE
