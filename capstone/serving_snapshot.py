"""The serving snapshot: the contract between the risk-model pipeline and its readers.

The pipeline (``capstone/risk_model_pipeline``) writes the warehouse; the dashboard and the
terminal report never open it (DuckDB allows one writer, and a reader in another process blocks
it). Instead each successful pipeline run publishes a *snapshot*: a folder of Parquet tables and
JSON documents, swapped in atomically, that readers open without any lock::

    <serving_dir>/snapshots/<snapshot_id>/    one published run (immutable once published)
        manifest.json                         run id, logical date, model version, row counts
        <table>.parquet                       one file per table in TABLES
        <document>.json                       one file per name in DOCUMENTS
    <serving_dir>/current -> snapshots/<id>   symlink, replaced atomically on publication
    <serving_dir>/run_in_progress.json        present while a pipeline run is under way

A failed run never touches ``current``, so the last good snapshot keeps serving. Readers resolve
``current`` once per query and read that folder only, so a publication mid-query is invisible.
``SCHEMA_VERSION`` changes whenever a table's columns change incompatibly: a reader refuses a
snapshot of another version with a message instead of failing on a missing column.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import sha256_file, write_json_atomic
from Module_1_Foundations.common.settings import Settings, get_settings

SCHEMA_VERSION = 1
KEEP_SNAPSHOTS = 3
MANIFEST = "manifest.json"
CURRENT = "current"
IN_PROGRESS = "run_in_progress.json"

_str, _f64, _i64, _date, _bool = pa.string(), pa.float64(), pa.int64(), pa.date32(), pa.bool_()
_ts = pa.timestamp("us", tz="UTC")

#: Every table a snapshot holds, with its exact Arrow schema (``validate_table`` checks it).
TABLES: dict[str, pa.Schema] = {
    # one row per loan of the book, scored by the champion as of the run's date
    "loans": pa.schema(
        [
            ("loan_id", _str),
            ("issue_date", _date),
            ("issue_month", _date),  # first day of the issue month (the vintage)
            ("grade", _str),
            ("purpose", _str),
            ("region", _str),
            ("loan_amount", _f64),
            ("outstanding_balance", _f64),  # EAD
            ("is_live", _bool),  # still on the book (not repaid, not written off)
            ("is_default", _bool),  # observed default so far
            ("pd", _f64),  # the champion's probability of default
            ("band", _str),  # approve / review / decline (settings' thresholds)
            ("expected_loss", _f64),  # pd * lgd * outstanding_balance
            ("true_pd", _f64),  # the generator's true default probability (nullable)
            ("reason_1", _str),
            ("reason_2", _str),
            ("reason_3", _str),
        ]
    ),
    # the book at each month end, by grade and region (the Portfolio page's trends and filters)
    "portfolio_monthly": pa.schema(
        [
            ("month", _date),
            ("grade", _str),
            ("region", _str),
            ("live_loans", _i64),
            ("exposure", _f64),
            ("defaults", _i64),  # loans defaulted by that month end (cumulative)
            ("loans", _i64),  # loans issued by that month end (cumulative)
            ("expected_loss", _f64),  # the current champion's EL of the loans live then
        ]
    ),
    # cumulative default rate by vintage and months on book
    "vintage_curves": pa.schema(
        [
            ("issue_month", _date),
            ("months_on_book", _i64),
            ("loans", _i64),
            ("cumulative_default_rate", _f64),
        ]
    ),
    # holdout metrics, long format: one row per (model, metric)
    "model_metrics": pa.schema(
        [
            ("model", _str),  # e.g. scratch_logistic, sklearn_logistic, scratch_tree, ...
            ("algorithm", _str),  # logistic / tree
            ("implementation", _str),  # scratch / sklearn
            ("metric", _str),  # auc, gini, ks, brier, log_loss, best_possible_auc, ...
            ("value", _f64),
        ]
    ),
    # the holdout's predictions of every candidate (ROC, calibration, confusion matrix)
    "holdout_predictions": pa.schema(
        [
            ("model", _str),
            ("loan_id", _str),
            ("y_true", pa.int8()),
            ("pd", _f64),
            ("true_pd", _f64),
        ]
    ),
    # calibration by decile of predicted PD, per candidate
    "calibration": pa.schema(
        [
            ("model", _str),
            ("decile", _i64),
            ("loans", _i64),
            ("mean_pd", _f64),
            ("observed_rate", _f64),
            ("mean_true_pd", _f64),
        ]
    ),
    # band migration of the loans scored in both of the last two scoring runs
    "score_migration": pa.schema([("from_band", _str), ("to_band", _str), ("loans", _i64)]),
    # population stability of the score and of each feature against the previous run
    "psi": pa.schema(
        [
            ("variable", _str),  # "score" or a feature name
            ("psi", _f64),
            ("status", _str),  # stable (< 0.1) / watch (< 0.25) / shift
        ]
    ),
    # every registered version of the model, newest first
    "model_versions": pa.schema(
        [
            ("version", _i64),
            ("created_at", _ts),
            ("model", _str),
            ("aliases", _str),  # comma-separated, e.g. "champion"
            ("auc", _f64),
            ("promoted", _bool),
            ("decision_reason", _str),
            ("lake_snapshot_id", _str),
            ("dbt_manifest_sha256", _str),
            ("git_commit", _str),
            ("mlflow_run_id", _str),
        ]
    ),
    # rows from raw CSV to Parquet to marts, per table
    "reconciliation": pa.schema(
        [
            ("table_name", _str),
            ("raw_rows", _i64),
            ("parquet_rows", _i64),
            ("rejected_rows", _i64),
            ("duplicates_removed", _i64),
            ("mart", _str),
            ("mart_rows", _i64),
        ]
    ),
    # the last dbt run's tests
    "dbt_tests": pa.schema([("test", _str), ("model", _str), ("status", _str), ("failures", _i64)]),
    # the last runs of both DAGs
    "dag_runs": pa.schema(
        [
            ("dag_id", _str),
            ("run_id", _str),
            ("state", _str),
            ("logical_date", _ts),
            ("start_date", _ts),
            ("end_date", _ts),
        ]
    ),
}

#: JSON documents a snapshot holds: ``champion_model`` is the champion's scoring spec (feature
#: preparation and model), which ``capstone.risk_model_pipeline`` loads to score one applicant.
DOCUMENTS: tuple[str, ...] = ("champion_model",)

_MANIFEST_KEYS = (
    "schema_version",
    "snapshot_id",
    "run_id",
    "logical_date",
    "model_name",
    "model_version",
    "created_at",
    "tables",
)


class SnapshotError(UserError):
    """No usable snapshot: the message says which command makes one."""


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot, opened for reading."""

    folder: Path
    manifest: dict[str, Any]

    def table_path(self, name: str) -> Path:
        if name not in TABLES:
            raise KeyError(f"{name!r} is not a snapshot table: one of {sorted(TABLES)}")
        return self.folder / f"{name}.parquet"

    def read_table(self, name: str) -> pa.Table:
        return pq.read_table(self.table_path(name))

    def document(self, name: str) -> dict[str, Any]:
        if name not in DOCUMENTS:
            raise KeyError(f"{name!r} is not a snapshot document: one of {list(DOCUMENTS)}")
        return json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["created_at"])


def serving_dir(settings: Settings | None = None) -> Path:
    return Path((settings or get_settings()).serving_dir)


def validate_table(name: str, table: pa.Table) -> pa.Table:
    """Return ``table`` cast to the contract's schema; refuse missing or extra columns."""
    schema = TABLES[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    extra = [c for c in table.column_names if c not in schema.names]
    if missing or extra:
        raise ValueError(
            f"snapshot table {name!r} does not match the contract: missing {missing}, "
            f"unexpected {extra} (see capstone/serving_snapshot.py TABLES)"
        )
    return table.select(schema.names).cast(schema)


def publish(
    tables: dict[str, pa.Table],
    documents: dict[str, Any],
    *,
    run_id: str,
    logical_date: str,
    model_name: str,
    model_version: int,
    extra: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> Snapshot:
    """Write a complete snapshot and make it ``current`` in one atomic step.

    Every table in ``TABLES`` and every document in ``DOCUMENTS`` must be given. The folder is
    written under a hidden name, then renamed; ``current`` is a symlink replaced with
    ``os.replace``, so readers see the old snapshot or the new one, never a mix.
    """
    missing = sorted(set(TABLES) - set(tables)) + sorted(set(DOCUMENTS) - set(documents))
    if missing:
        raise ValueError(f"a snapshot needs every table and document; missing: {missing}")
    root = serving_dir(settings)
    snapshots = root / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    snapshot_id = f"{created:%Y%m%dT%H%M%S%fZ}-{run_id}".replace(":", "_").replace("/", "_")
    staged = snapshots / f".{snapshot_id}.tmp"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    try:
        written: dict[str, dict[str, Any]] = {}
        for name in TABLES:
            path = staged / f"{name}.parquet"
            table = validate_table(name, tables[name])
            pq.write_table(table, path)
            written[name] = {"rows": table.num_rows, "sha256": sha256_file(path)}
        for name in DOCUMENTS:
            write_json_atomic(staged / f"{name}.json", documents[name])
        manifest = {
            **(extra or {}),
            "schema_version": SCHEMA_VERSION,
            "snapshot_id": snapshot_id,
            "run_id": run_id,
            "logical_date": logical_date,
            "model_name": model_name,
            "model_version": int(model_version),
            "created_at": created.isoformat(),
            "tables": written,
        }
        write_json_atomic(staged / MANIFEST, manifest)
        final = snapshots / snapshot_id
        os.replace(staged, final)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    link = root / f".{CURRENT}.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(Path("snapshots") / snapshot_id)
    os.replace(link, root / CURRENT)
    _prune(snapshots, keep=final)
    return Snapshot(final, manifest)


def _prune(snapshots: Path, keep: Path) -> None:
    """Delete all but the newest ``KEEP_SNAPSHOTS`` published snapshots (never ``keep``)."""
    published = sorted(p for p in snapshots.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in published[:-KEEP_SNAPSHOTS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def open_current(settings: Settings | None = None) -> Snapshot:
    """The snapshot ``current`` points at.

    Raises:
        SnapshotError: none published yet (names ``make run``), or one of another schema.
    """
    root = serving_dir(settings)
    link = root / CURRENT
    if not link.exists():
        raise SnapshotError(
            f"no serving snapshot in {root} yet: run 'make run' (or trigger the "
            "loanbook_risk_model DAG) to build one"
        )
    folder = link.resolve()
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{folder / MANIFEST}: unreadable snapshot manifest ({exc})") from None
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION or any(k not in manifest for k in _MANIFEST_KEYS):
        raise SnapshotError(
            f"the snapshot in {folder} has schema version {version!r}, this app reads version "
            f"{SCHEMA_VERSION}: run the pipeline again ('make run') to publish a current one"
        )
    return Snapshot(folder, manifest)


def mark_run_started(run_id: str, logical_date: str, settings: Settings | None = None) -> None:
    """Record that a pipeline run is under way (the dashboard shows a banner meanwhile)."""
    payload = {
        "run_id": run_id,
        "logical_date": logical_date,
        "started_at": datetime.now(UTC).isoformat(),
    }
    write_json_atomic(serving_dir(settings) / IN_PROGRESS, payload)


def mark_run_finished(run_id: str, settings: Settings | None = None) -> None:
    """Clear the in-progress marker if it is this run's (a newer run keeps its own)."""
    path = serving_dir(settings) / IN_PROGRESS
    current = run_in_progress(settings)
    if current is not None and current.get("run_id") == run_id:
        path.unlink(missing_ok=True)


def run_in_progress(settings: Settings | None = None) -> dict[str, Any] | None:
    """The in-progress marker's content, or ``None`` when no run is under way."""
    path = serving_dir(settings) / IN_PROGRESS
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return {"run_id": "unknown", "started_at": None}
