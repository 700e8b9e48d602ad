"""The serving snapshot: published whole or not at all, refused when it is not readable."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from capstone import serving_snapshot as snap
from Module_1_Foundations.common.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(state_dir=tmp_path / "state")


def empty_tables() -> dict[str, pa.Table]:
    return {name: schema.empty_table() for name, schema in snap.TABLES.items()}


def publish(settings: Settings, run_id: str, **changes) -> snap.Snapshot:
    tables = empty_tables() | changes
    return snap.publish(
        tables,
        {"champion_model": {"kind": "logistic"}},
        run_id=run_id,
        logical_date="2024-01-05",
        model_name="loanbook_pd",
        model_version=1,
        settings=settings,
    )


def test_no_snapshot_names_the_command_that_makes_one(settings):
    with pytest.raises(snap.SnapshotError, match="make run"):
        snap.open_current(settings)


def test_a_published_snapshot_is_current_with_its_manifest(settings):
    loans = pa.table(
        {
            name: pa.nulls(2, f.type)
            for name, f in zip(snap.TABLES["loans"].names, snap.TABLES["loans"], strict=True)
        }
    )
    publish(settings, "run-1", loans=loans)
    current = snap.open_current(settings)
    assert current.manifest["run_id"] == "run-1"
    assert current.manifest["tables"]["loans"]["rows"] == 2
    assert current.read_table("loans").schema == snap.TABLES["loans"]
    assert current.document("champion_model") == {"kind": "logistic"}


def test_a_table_off_contract_is_refused_and_the_last_snapshot_keeps_serving(settings):
    publish(settings, "run-1")
    with pytest.raises(ValueError, match="missing \\['issue_date'"):
        publish(settings, "run-2", loans=pa.table({"loan_id": ["L1"]}))
    assert snap.open_current(settings).manifest["run_id"] == "run-1"
    hidden = [
        p for p in (snap.serving_dir(settings) / "snapshots").iterdir() if p.name.startswith(".")
    ]
    assert hidden == []


def test_an_older_schema_is_refused_with_a_message_not_a_crash(settings):
    current = publish(settings, "run-1")
    manifest = json.loads((current.folder / snap.MANIFEST).read_text())
    manifest["schema_version"] = 0
    (current.folder / snap.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(snap.SnapshotError, match="schema version 0"):
        snap.open_current(settings)


def test_only_the_newest_snapshots_are_kept(settings):
    for i in range(snap.KEEP_SNAPSHOTS + 2):
        publish(settings, f"run-{i}")
    kept = sorted((snap.serving_dir(settings) / "snapshots").iterdir())
    assert len(kept) == snap.KEEP_SNAPSHOTS
    assert snap.open_current(settings).manifest["run_id"] == f"run-{snap.KEEP_SNAPSHOTS + 1}"


def test_the_in_progress_marker_is_cleared_only_by_its_own_run(settings):
    assert snap.run_in_progress(settings) is None
    snap.mark_run_started("run-2", "2024-01-06", settings)
    snap.mark_run_finished("run-1", settings)
    assert snap.run_in_progress(settings)["run_id"] == "run-2"
    snap.mark_run_finished("run-2", settings)
    assert snap.run_in_progress(settings) is None
