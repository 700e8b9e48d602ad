"""The model registry: MLflow (``mlflow-skinny``), configured by the settings alone.

Locally the tracking store and the registry are one SQLite file under ``.state/mlflow`` and
artifacts go to the object store bucket (``s3://<bucket>/mlflow``); in the cloud any tracking
URI and artifact location (``HDP_MLFLOW_TRACKING_URI``, ``HDP_MLFLOW_ARTIFACT_LOCATION``).
``mlflow`` is imported inside the functions: importing it costs about 3 s, which the Airflow
DAG processor must not pay on every parse.

Each registered version carries: its run's metrics and parameters, the scoring spec as an
artifact (``scoring_spec.json``), and as version tags the lake snapshot id, the dbt manifest
checksum, the git commit and the champion/challenger decision with its reason. Aliases
``champion`` and ``challenger`` point at the serving model and the latest one that lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from Module_1_Foundations.common.environment import patched_environ
from Module_1_Foundations.common.settings import Settings, get_settings

EXPERIMENT = "loanbook_risk_model"
SPEC_ARTIFACT = "scoring_spec.json"
CHAMPION, CHALLENGER = "champion", "challenger"


@contextlib.contextmanager
def mlflow_env(settings: Settings | None = None) -> Iterator[Any]:
    """``mlflow`` pointed at the settings' tracking URI, with S3 credentials for artifacts."""
    import mlflow

    settings = settings or get_settings()
    uri = settings.mlflow_tracking_uri or ""
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {"DO_NOT_TRACK": "1", "MLFLOW_ENABLE_TELEMETRY": "false"}
    if (settings.mlflow_artifact_location or "").startswith("s3://"):
        if settings.s3_endpoint_url:
            env["MLFLOW_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
        creds = settings.object_store_credentials()
        if creds is not None:
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = creds
        env.setdefault("AWS_DEFAULT_REGION", settings.s3_region)
    with patched_environ(env):
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        yield mlflow


def _ensure_bucket(settings: Settings) -> None:
    """Create the artifact bucket when the local object store does not have it yet."""
    location = settings.mlflow_artifact_location or ""
    if not location.startswith("s3://") or not settings.is_local:
        return
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import object_store_client

    client = object_store_client(settings)
    bucket = urlparse(location).netloc
    with contextlib.suppress(Exception):
        client.head_bucket(Bucket=bucket)
        return
    client.create_bucket(Bucket=bucket)


def _experiment_id(mlflow: Any, settings: Settings) -> str:
    found = mlflow.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(EXPERIMENT, artifact_location=settings.mlflow_artifact_location)


@dataclass(frozen=True)
class Champion:
    version: int
    spec: dict[str, Any]
    metrics: dict[str, float]


def current_champion(settings: Settings | None = None) -> Champion | None:
    """The version with alias ``champion`` and its scoring spec, or ``None`` before the first."""
    settings = settings or get_settings()
    with mlflow_env(settings) as mlflow:
        from mlflow.exceptions import MlflowException

        client = mlflow.MlflowClient()
        try:
            version = client.get_model_version_by_alias(settings.model_name, CHAMPION)
        except MlflowException:
            return None
        spec = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/{SPEC_ARTIFACT}")
        metrics = client.get_run(version.run_id).data.metrics
        return Champion(int(version.version), spec, dict(metrics))


def register(
    spec: dict[str, Any],
    *,
    metrics: Mapping[str, float],
    params: Mapping[str, Any],
    lineage: Mapping[str, str],
    decide: Any,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Log a run, register its spec as a new version, apply the champion/challenger rule.

    ``decide(champion: Champion | None) -> evaluation.Decision`` is called with the current
    champion, so the rule compares both on the same holdout. Returns the version, the decision
    and its reason.
    """
    settings = settings or get_settings()
    champion = current_champion(settings)
    decision = decide(champion)
    _ensure_bucket(settings)
    with mlflow_env(settings) as mlflow:
        client = mlflow.MlflowClient()
        experiment = _experiment_id(mlflow, settings)
        with mlflow.start_run(experiment_id=experiment, run_name=spec["candidate"]) as run:
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
            mlflow.set_tags({**lineage, "candidate": spec["candidate"]})
            mlflow.log_dict(spec, SPEC_ARTIFACT)
            run_id = run.info.run_id
        with contextlib.suppress(mlflow.exceptions.MlflowException):
            client.create_registered_model(settings.model_name)
        version = client.create_model_version(
            settings.model_name,
            source=f"{run.info.artifact_uri}",
            run_id=run_id,
            tags={
                **lineage,
                "candidate": spec["candidate"],
                "auc": f"{metrics['auc']:.6f}",
                "promoted": str(decision.promote).lower(),
                "decision_reason": decision.reason,
            },
            description=decision.reason,
        )
        number = int(version.version)
        client.set_registered_model_alias(
            settings.model_name, CHAMPION if decision.promote else CHALLENGER, str(number)
        )
    champion_version = number if decision.promote else (champion.version if champion else None)
    return {
        "version": number,
        "run_id": run_id,
        "promoted": decision.promote,
        "reason": decision.reason,
        "champion_version": champion_version,
    }


def versions(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every registered version, newest first (the snapshot's ``model_versions`` table)."""
    settings = settings or get_settings()
    with mlflow_env(settings) as mlflow:
        client = mlflow.MlflowClient()
        found = client.search_model_versions(f"name = '{settings.model_name}'")
        aliases: dict[str, list[str]] = {}
        with contextlib.suppress(mlflow.exceptions.MlflowException):
            for alias, number in client.get_registered_model(settings.model_name).aliases.items():
                aliases.setdefault(str(number), []).append(alias)
        out = []
        for v in found:
            tags = v.tags or {}
            out.append(
                {
                    "version": int(v.version),
                    "created_at_ms": int(v.creation_timestamp),
                    "model": tags.get("candidate", ""),
                    "aliases": ",".join(sorted(aliases.get(str(v.version), []))),
                    "auc": float(tags.get("auc", "nan")),
                    "promoted": tags.get("promoted") == "true",
                    "decision_reason": tags.get("decision_reason", ""),
                    "lake_snapshot_id": tags.get("lake_snapshot_id", ""),
                    "dbt_manifest_sha256": tags.get("dbt_manifest_sha256", ""),
                    "git_commit": tags.get("git_commit", ""),
                    "mlflow_run_id": v.run_id or "",
                }
            )
    return sorted(out, key=lambda r: -r["version"])
