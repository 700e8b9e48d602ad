"""Publish: the day's run manifest, written last; its presence means the day is complete.

The manifest records what landed, what the contract gate refused, and where every file is,
with the checksums the earlier steps computed (load's, or, without the object store, the
ones computed here: either way each file is hashed once per run).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from Module_1_Foundations.common.io import sha256_file, write_json_atomic
from Module_1_Foundations.common.lake import LakeLayout
from Module_1_Foundations.common.settings import Settings, get_settings
from Module_2_Pipelines.object_store_steps import object_store_errors
from Module_2_Pipelines.pipeline import DAG_ID

log = logging.getLogger("Module_2_Pipelines.etl")


def build_manifest(
    day: date,
    *,
    extracted: dict[str, Any],
    validated: dict[str, Any],
    transformed: dict[str, Any],
    verified: dict[str, Any] | None,
    layout: LakeLayout,
    run_id: str,
) -> dict[str, Any]:
    """The manifest of one day: what landed, what was rejected, what is where."""
    objects = None if verified is None else verified["objects"]
    tables = {}
    for name, result in transformed["tables"].items():
        if name not in validated["tables"]:  # an optional table the drop did not carry
            continue
        folder = layout.daily_table(name, day)
        prefix = layout.daily_table_key(name, day)
        counts = validated["tables"][name]
        files = {}
        for part in result["files"]:
            key = f"{prefix}/{part}"
            files[part] = {
                "bytes": (folder / part).stat().st_size,
                "sha256": sha256_file(folder / part) if objects is None else objects[key],
                "object": None if objects is None else key,
            }
        tables[name] = {
            **{k: counts[k] for k in ("rows_in", "rows_out", "rows_rejected")},
            "duplicates_removed": counts["duplicates_removed"],
            "reject_reasons": counts["reject_reasons"],
            "partition": result["partition"],
            "files": files,
        }
    raw_files = {
        name: {"rows": extracted["files"][name], "sha256": counts["sha256"]}
        for name, counts in validated["tables"].items()
    }
    return {
        "pipeline": DAG_ID,
        "date": day.isoformat(),
        "raw": {
            "dir": str(layout.raw_daily(day)),
            "loans": extracted["loans"],
            "live_book": extracted["live_book"],
            "files": raw_files,
        },
        "tables": tables,
        "object_store": None
        if objects is None
        else {"bucket": layout.bucket, "prefix": layout.prefix, "verified_objects": len(objects)},
        "run": {"run_id": run_id, "published_at": datetime.now(UTC).isoformat(timespec="seconds")},
    }


def write_manifest(
    day: date, manifest: dict[str, Any], *, settings: Settings | None = None, upload: bool = True
) -> dict[str, Any]:
    """Write the day's manifest locally (atomically) and, when ``upload``, next to the data."""
    settings = settings or get_settings()
    layout = LakeLayout.from_settings(settings)
    path = layout.daily_manifest(day)
    write_json_atomic(path, manifest)
    key = None
    if upload:
        from Module_1_Foundations.project.csv_to_parquet_to_s3 import object_store_client
        from Module_1_Foundations.project.object_store import ensure_bucket

        key = layout.daily_manifest_key(day)
        client = object_store_client(settings)
        ensure_bucket(client, str(layout.bucket), create=settings.is_local)
        with object_store_errors(client, str(layout.bucket)):
            client.put_object(
                Bucket=layout.bucket,
                Key=key,
                Body=path.read_bytes(),
                ContentType="application/json",
            )
    where = f" and s3://{layout.bucket}/{key}" if key else ""
    log.info("publish %s: manifest %s%s", day, path, where)
    return {"date": day.isoformat(), "manifest": str(path), "key": key}


def publish(
    day: date,
    *,
    extracted: dict[str, Any],
    validated: dict[str, Any],
    transformed: dict[str, Any],
    verified: dict[str, Any] | None,
    run_id: str,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Build the day's manifest from the earlier steps' results and write it (uploaded too,
    unless the run skipped the object store: ``verified`` is then ``None``)."""
    settings = settings or get_settings()
    manifest = build_manifest(
        day,
        extracted=extracted,
        validated=validated,
        transformed=transformed,
        verified=verified,
        layout=LakeLayout.from_settings(settings),
        run_id=run_id,
    )
    return write_manifest(day, manifest, settings=settings, upload=verified is not None)
