"""One typed settings object for every module: paths, object store, warehouse, Airflow.

Values come from environment variables prefixed ``HDP_`` (or a ``.env`` file at the repository
root; see ``.env.example``). Two profiles switch everything by configuration alone:

* ``local`` (default): embedded services, all state under ``<repo>/.state``: a SeaweedFS S3 server
  on 127.0.0.1, a DuckDB warehouse file, Airflow standalone on SQLite.
* ``cloud``: AWS S3 (credentials from the standard AWS chain) and BigQuery.

Print the effective settings with ``python -m Module_1_Foundations.common.settings``.
"""

from __future__ import annotations

import argparse
import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from Module_1_Foundations.common.errors import SettingsError
from Module_1_Foundations.common.io import write_text_atomic
from Module_1_Foundations.common.lake import DATASET
from Module_1_Foundations.common.paths import REPO_ROOT

ENV_PREFIX = "HDP_"
LOCAL_S3_PORT = 8333


class Settings(BaseSettings):
    """Every setting the project reads. Field ``x`` is set by the variable ``HDP_X``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    profile: Literal["local", "cloud"] = Field(
        "local", description="local = embedded services on this machine; cloud = AWS S3 + BigQuery"
    )

    # --- paths ------------------------------------------------------------------------------
    state_dir: Path = Field(
        REPO_ROOT / ".state", description="All runtime state of the embedded services"
    )
    raw_dir: Path = Field(REPO_ROOT / "data" / "raw", description="Raw drops (CSV)")
    processed_dir: Path = Field(
        REPO_ROOT / "data" / "processed", description="Clean Parquet written by Module 1"
    )

    # --- object store -----------------------------------------------------------------------
    s3_endpoint_url: str | None = Field(
        None, description="S3 API endpoint; empty = AWS (cloud) or the local server (local)"
    )
    s3_port: int = Field(LOCAL_S3_PORT, ge=1024, le=65535, description="Local S3 server port")
    s3_bucket: str | None = Field(
        None,
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$",
        description="Bucket of the data lake (required for cloud)",
    )
    s3_prefix: str = Field(DATASET, description="Key prefix of the lake inside the bucket")
    s3_region: str = Field("us-east-1", description="Object store region")
    s3_access_key_id: SecretStr | None = Field(
        None, description="Access key; empty = AWS chain (cloud) or generated (local)"
    )
    s3_secret_access_key: SecretStr | None = Field(None, description="Secret key")

    # --- warehouse --------------------------------------------------------------------------
    warehouse_target: Literal["dev", "bigquery"] | None = Field(
        None, description="dbt target: dev (DuckDB) by default locally, bigquery in the cloud"
    )
    duckdb_path: Path | None = Field(None, description="DuckDB warehouse file (absolute)")
    bigquery_project: str | None = Field(None, description="GCP project id (cloud)")
    bigquery_dataset: str = Field(DATASET, description="BigQuery dataset for the dbt models")
    bigquery_location: str = Field("EU", description="BigQuery location")
    bigquery_keyfile: Path | None = Field(
        None, description="Service-account JSON key; empty = application default credentials"
    )

    # --- orchestration ----------------------------------------------------------------------
    airflow_home: Path | None = Field(None, description="AIRFLOW_HOME for the local Airflow")
    airflow_port: int = Field(8080, ge=1024, le=65535, description="Local Airflow API/UI port")
    pipeline_log_dir: Path | None = Field(
        None, description="Module 2's pipeline logs (etl.log); empty = Module_2_Pipelines/logs"
    )

    # --- logging ----------------------------------------------------------------------------
    run_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:+-]+$",
        description="Run id stamped on every log line; empty = a new sortable id per run",
    )

    # --- capstone: model registry, credit risk, serving -------------------------------------
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking/registry URI; empty = SQLite under state_dir (local)"
    )
    mlflow_artifact_location: str | None = Field(
        None, description="Where MLflow stores model artifacts; empty = s3://<bucket>/mlflow"
    )
    model_name: str = Field("loanbook_pd", description="Registered model name of the PD model")
    lgd: float = Field(
        0.45,
        gt=0,
        le=1,
        description="Loss given default for EL = PD x LGD x EAD (Basel F-IRB senior unsecured)",
    )
    pd_review_from: float = Field(
        0.10, gt=0, lt=1, description="PD from which an application goes to manual review"
    )
    pd_decline_from: float = Field(
        0.25, gt=0, lt=1, description="PD from which an application is declined"
    )
    serving_dir: Path | None = Field(
        None, description="Serving snapshots the dashboard reads; empty = <state_dir>/serving"
    )
    dashboard_port: int = Field(8501, ge=1024, le=65535, description="Local dashboard port")

    @model_validator(mode="after")
    def _profile_defaults(self) -> Settings:
        """Fill profile-dependent defaults, and refuse settings that cannot work together."""
        # frozen model: assign through object.__setattr__ once, at construction
        set_ = object.__setattr__
        for name in (
            "state_dir",
            "raw_dir",
            "processed_dir",
            "duckdb_path",
            "airflow_home",
            "serving_dir",
            "pipeline_log_dir",
        ):
            value = getattr(self, name)
            if value is not None and not value.is_absolute():
                set_(self, name, (REPO_ROOT / value).resolve())
        if self.duckdb_path is None:
            set_(self, "duckdb_path", self.state_dir / "warehouse" / "loanbook.duckdb")
        if self.airflow_home is None:
            set_(self, "airflow_home", self.state_dir / "airflow")
        if self.pipeline_log_dir is None:
            set_(self, "pipeline_log_dir", REPO_ROOT / "Module_2_Pipelines" / "logs")
        if self.serving_dir is None:
            set_(self, "serving_dir", self.state_dir / "serving")
        if self.mlflow_tracking_uri is None:
            set_(
                self, "mlflow_tracking_uri", f"sqlite:///{self.state_dir / 'mlflow' / 'mlflow.db'}"
            )
        if self.pd_review_from >= self.pd_decline_from:
            raise ValueError(
                "HDP_PD_REVIEW_FROM must be below HDP_PD_DECLINE_FROM (review band, then decline)"
            )
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError(
                "set both HDP_S3_ACCESS_KEY_ID and HDP_S3_SECRET_ACCESS_KEY, or neither"
            )
        if self.profile == "local":
            if self.s3_endpoint_url is None:
                set_(self, "s3_endpoint_url", f"http://127.0.0.1:{self.s3_port}")
            if self.s3_bucket is None:
                set_(self, "s3_bucket", "loanbook-lake")
            if self.warehouse_target is None:
                set_(self, "warehouse_target", "dev")
        else:
            if self.s3_bucket is None:
                raise ValueError("HDP_S3_BUCKET is required when HDP_PROFILE=cloud")
            if self.warehouse_target is None:
                set_(self, "warehouse_target", "bigquery")
            if self.warehouse_target == "bigquery" and not self.bigquery_project:
                raise ValueError(
                    "HDP_BIGQUERY_PROJECT is required when the warehouse target is bigquery"
                )
        if self.mlflow_artifact_location is None and self.s3_bucket:
            set_(self, "mlflow_artifact_location", f"s3://{self.s3_bucket}/mlflow")
        return self

    # --- derived values ---------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return self.profile == "local"

    def object_store_credentials(self) -> tuple[str, str] | None:
        """Return ``(access_key, secret_key)``, or ``None`` to use the standard AWS chain.

        The local profile generates a key pair once, under the ignored state folder, so that
        no credential is ever committed and the local server still enforces authentication.
        """
        if self.s3_access_key_id is not None and self.s3_secret_access_key is not None:
            return (
                self.s3_access_key_id.get_secret_value(),
                self.s3_secret_access_key.get_secret_value(),
            )
        if not self.is_local:
            return None
        path = self.state_dir / "object_store" / "credentials.json"
        if not path.exists():
            pair = {"access_key": "hdp" + secrets.token_hex(8), "secret_key": secrets.token_hex(20)}
            # owner-only from the first byte: the temporary file is never readable by others
            write_text_atomic(path, json.dumps(pair), mode=0o600)
        try:
            pair = json.loads(path.read_text())
            return pair["access_key"], pair["secret_key"]
        except (ValueError, KeyError) as exc:
            raise SettingsError(
                f"{path}: unreadable local object-store credentials ({exc}); delete the file "
                "and run 'make s3-down s3-up' to create a new pair"
            ) from exc

    def public_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able values, secrets masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


def _describe(error: ValidationError) -> str:
    """Turn pydantic's multi-line report into one line naming the variable and the fix."""
    first = error.errors()[0]
    loc = first.get("loc") or ()
    field = str(loc[0]) if loc else ""
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    if not field:
        return f"invalid settings: {message}; fix it in the environment or .env"
    var = ENV_PREFIX + field.upper()
    given = first.get("input")
    shown = "" if isinstance(given, dict) or given is None else f"={given!r}"
    more = f" (and {len(error.errors()) - 1} more)" if len(error.errors()) > 1 else ""
    return f"setting {var}{shown} is invalid: {message}; fix it in the environment or .env{more}"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment (and ``.env``), with optional overrides.

    Raises:
        SettingsError: one line naming the variable that is missing or malformed.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def main(argv: list[str] | None = None) -> int:
    from Module_1_Foundations.common.cli import run_cli

    def _main() -> int:
        parser = argparse.ArgumentParser(
            prog="python -m Module_1_Foundations.common.settings",
            description="Print the effective settings (secrets masked) as JSON.",
        )
        parser.parse_args(argv)
        print(json.dumps(load_settings().public_dict(), indent=2))
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
