"""Fixtures for Module 2: a throwaway Airflow home, a local S3 endpoint, a temporary lake.

Airflow reads its configuration once, when it is first imported, so the ``AIRFLOW_*`` variables
are set here, at import time, before any test module imports Airflow. Everything else (the
``HDP_*`` paths and the object store) is set per test through ``monkeypatch``, so nothing leaks
into other modules' tests and nothing touches the developer's ``data/`` or ``.state/``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from Module_1_Foundations.common.services import free_port
from Module_1_Foundations.common.settings import Settings, get_settings, load_settings

# a guard, because test modules import helpers from this file by its full name too
if "M2_TEST_AIRFLOW_HOME" not in os.environ:
    os.environ["M2_TEST_AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="m2-airflow-")
    atexit.register(shutil.rmtree, os.environ["M2_TEST_AIRFLOW_HOME"], ignore_errors=True)
AIRFLOW_TEST_HOME = Path(os.environ["M2_TEST_AIRFLOW_HOME"])
DAGS_FOLDER = AIRFLOW_TEST_HOME / "dags"
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_TEST_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(AIRFLOW_TEST_HOME / "logs"),
        "DO_NOT_TRACK": "1",
    }
)

BUCKET = "loanbook-lake-test"
TEST_LOANS = 300
#: The live book of the test lake: small, issued before the DAG's window, so each day of
#: January 2024 has instalments of it falling due (the repayment events of a daily drop).
LIVE_BOOK_LOANS = 1_500


@pytest.fixture(scope="session")
def dags_folder() -> Path:
    """The DAG folder Airflow scans in tests: built the same way ``airflow_local up`` builds it.

    The folder links the capstone too, whose DAG cosmos renders from the dbt manifest: as
    ``make airflow-up`` does, make sure it is current first (a ``dbt parse`` only when stale).
    """
    from capstone.risk_model_pipeline.dbt_manifest import ensure_manifest
    from Module_2_Pipelines.airflow_local import prepare_dags_folder

    ensure_manifest()
    return prepare_dags_folder(DAGS_FOLDER)


@pytest.fixture(scope="session")
def airflow_db(dags_folder: Path) -> Path:
    """A fresh SQLite metadata database for the session (about 5 s)."""
    from airflow.utils import db

    started = time.perf_counter()
    db.initdb()
    print(f"\nairflow db initialised in {time.perf_counter() - started:.1f} s")
    return AIRFLOW_TEST_HOME / "airflow.db"


class S3Server:
    """A moto S3 server on 127.0.0.1 that a test can stop and start again on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=5).close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@dataclass
class Lake:
    """The temporary folders and object store one test works with."""

    root: Path
    settings: Settings
    s3: S3Server

    def client(self) -> Any:
        from Module_1_Foundations.project.csv_to_parquet_to_s3 import object_store_client

        return object_store_client(self.settings)

    @property
    def layout(self) -> Any:
        from Module_1_Foundations.common.lake import LakeLayout

        return LakeLayout.from_settings(self.settings)

    def object_keys(self, prefix: str = "") -> list[str]:
        from botocore.exceptions import ClientError

        from Module_2_Pipelines.etl import list_keys

        try:
            return list_keys(self.client(), BUCKET, prefix)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchBucket":
                return []
            raise

    def partition_files(self, table: str, day: date) -> list[str]:
        folder = self.layout.daily_table(table, day)
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def live_book_config() -> Any:
    from Module_1_Foundations.datasets.loanbook_generator import GeneratorConfig

    return GeneratorConfig(
        loans=LIVE_BOOK_LOANS,
        seed=11,
        start_date=date(2023, 1, 1),
        end_date=date(2023, 12, 31),
        as_of=date(2024, 1, 31),
    )


@pytest.fixture(scope="session")
def live_book_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-book export (CSV and generator manifest), generated once for the session."""
    from Module_1_Foundations.datasets.loanbook_generator import generate

    folder = tmp_path_factory.mktemp("live-book") / "loanbook"
    generate(live_book_config(), folder, show_progress=False)
    return folder


def point_settings_at(monkeypatch: pytest.MonkeyPatch, root: Path, endpoint: str) -> Settings:
    """Route every ``get_settings()`` in this process (and its children) to ``root`` and S3."""
    for name in list(os.environ):
        if name.startswith("HDP_"):
            monkeypatch.delenv(name)
    env = {
        "HDP_STATE_DIR": str(root / "state"),
        "HDP_RAW_DIR": str(root / "raw"),
        "HDP_PROCESSED_DIR": str(root / "processed"),
        "HDP_PIPELINE_LOG_DIR": str(root / "logs"),
        "HDP_S3_ENDPOINT_URL": endpoint,
        "HDP_S3_ACCESS_KEY_ID": "testing",
        "HDP_S3_SECRET_ACCESS_KEY": "testing-secret",
        "HDP_S3_BUCKET": BUCKET,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return load_settings()


@pytest.fixture
def lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, live_book_export: Path
) -> Iterator[Lake]:
    """A temporary lake whose raw zone holds the live book's export (its daily drops report
    repayments of it), and an empty bucket."""
    s3_server.reset()
    settings = point_settings_at(monkeypatch, tmp_path, s3_server.url)
    from Module_1_Foundations.common.lake import LakeLayout

    shutil.copytree(live_book_export, LakeLayout.from_settings(settings).raw_root)
    yield Lake(tmp_path, settings, s3_server)
    get_settings.cache_clear()


@pytest.fixture
def etl_dag(airflow_db: Path, dags_folder: Path) -> Any:
    """The DAG as Airflow's DagBag parses it from the DAG folder (a fresh object per test)."""
    from airflow.dag_processing.dagbag import DagBag

    from Module_2_Pipelines.pipeline import DAG_ID

    bag = DagBag(dag_folder=str(dags_folder))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def logical(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def task_states(dag_run: Any) -> dict[str, str | None]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
