"""One realistic serving snapshot per test process, and the states around it, for the dashboard.

Built once (about half a minute: a generated book, the pipeline's own training and SQL
scoring) by ``capstone.dashboard_project.sample_snapshot`` and published through
``serving_snapshot.publish``. Tests that change the serving folder (a run in progress, an old
schema) work on a copy, never on the shared one.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.ipc
import pyarrow.parquet as pq

from capstone import serving_snapshot
from capstone.dashboard_project import sample_snapshot
from Module_1_Foundations.common.settings import load_settings

SAMPLE_LOANS = 3_000
APP = Path(__file__).resolve().parents[1] / "dashboard_project" / "app.py"
PAGES = (
    "views/portfolio.py",
    "views/risk_distribution.py",
    "views/segments.py",
    "views/model.py",
    "views/whatif.py",
    "views/monitoring.py",
    "views/data_quality.py",
)


@functools.cache
def shared_serving_dir() -> Path:
    """The serving folder holding the shared sample snapshot (read-only for tests)."""
    root = Path(tempfile.mkdtemp(prefix="dashboard-snapshot-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    settings = load_settings(state_dir=root / "state")
    sample_snapshot.build_and_publish(SAMPLE_LOANS, settings=settings)
    return Path(settings.serving_dir)


def copy_serving_dir(to: Path) -> Path:
    """A private copy of the shared serving folder (``current`` stays a relative symlink)."""
    shutil.copytree(shared_serving_dir(), to, symlinks=True)
    return to


def set_schema_version(serving_dir: Path, version: int) -> None:
    """Rewrite the current snapshot's manifest as if an older pipeline had published it."""
    manifest_path = (serving_dir / serving_snapshot.CURRENT).resolve() / serving_snapshot.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_version"] = version
    manifest_path.write_text(json.dumps(manifest))


def table(serving_dir: Path, name: str) -> pd.DataFrame:
    """A table of the current snapshot, read with pyarrow alone (independent of queries.py)."""
    folder = (serving_dir / serving_snapshot.CURRENT).resolve()
    return pq.read_table(folder / f"{name}.parquet").to_pandas()


def champion_document(serving_dir: Path) -> dict:
    folder = (serving_dir / serving_snapshot.CURRENT).resolve()
    return json.loads((folder / "champion_model.json").read_text())


def chart_frames(chart) -> list[pd.DataFrame]:
    """The data sets an AppTest Vega-Lite chart element carries (Arrow IPC bytes each)."""
    return [
        pyarrow.ipc.open_stream(dataset.data.data).read_all().to_pandas()
        for dataset in chart.proto.datasets
    ]
