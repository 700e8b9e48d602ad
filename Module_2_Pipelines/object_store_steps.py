"""Load and verify: the day's partitions in the object store, exactly and byte for byte.

``load`` uploads through Module 1's :func:`upload_directory`, which hashes each file once and
returns the SHA-256 of every object; those checksums flow on to ``verify`` and into the run
manifest, so no step reads a file a second time.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.lake import PIPELINE_TABLES, LakeLayout
from Module_1_Foundations.common.settings import Settings, get_settings

log = logging.getLogger("Module_2_Pipelines.etl")


def partition_files(folder: Path) -> list[Path]:
    """Regular files under ``folder``, hidden temporaries excluded (what gets uploaded)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def list_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under ``prefix`` (paginated)."""
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


@contextlib.contextmanager
def object_store_errors(client: Any, bucket: str) -> Iterator[None]:
    """Turn a boto error into Module 1's one-line message naming the endpoint and the fix."""
    from botocore.exceptions import BotoCoreError, ClientError

    from Module_1_Foundations.project.object_store import describe_error

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise UserError(describe_error(exc, client, bucket)) from None


def load(
    day: date, *, settings: Settings | None = None, tables: tuple[str, ...] = PIPELINE_TABLES
) -> dict[str, Any]:
    """Upload each table's partition to ``s3://<bucket>/<prefix>/<table>/<day>/``.

    Module 1's ``upload_directory`` skips objects whose content is already there and fails in
    seconds, with one line, when the store is unreachable. Keys under the day's prefix that are
    not in the local partition (left by an earlier, different run) are deleted afterwards, so
    the store ends up holding exactly the local partition: nothing duplicated.

    Returns ``objects``: every key of the day with its SHA-256 (hex), for verify and publish.
    """
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import (
        object_store_client,
        upload_directory,
    )

    settings = settings or get_settings()
    layout = LakeLayout.from_settings(settings)
    bucket = str(layout.bucket)
    client = object_store_client(settings)
    objects: dict[str, str] = {}
    uploaded = skipped = deleted = 0
    for name in tables:
        prefix = layout.daily_table_key(name, day)
        folder = layout.daily_table(name, day)
        keys: set[str] = set()
        if partition_files(folder):
            result = upload_directory(
                folder,
                bucket=bucket,
                prefix=prefix,
                settings=settings,
                create_bucket=settings.is_local,
                client=client,
            )
            objects.update(result.objects)
            keys = set(result.objects)
            uploaded += len(result.uploaded)
            skipped += len(result.skipped)
        with object_store_errors(client, bucket):
            stale = sorted(set(list_keys(client, bucket, prefix + "/")) - keys)
            for key in stale:
                client.delete_object(Bucket=bucket, Key=key)
                log.info("deleted stale s3://%s/%s", bucket, key)
        deleted += len(stale)
    log.info(
        "load %s: %d objects in s3://%s (%d uploaded, %d unchanged, %d stale deleted)",
        day,
        len(objects),
        bucket,
        uploaded,
        skipped,
        deleted,
    )
    return {
        "date": day.isoformat(),
        "objects": objects,
        "uploaded": uploaded,
        "skipped": skipped,
        "deleted": deleted,
    }


def stored_object_problem(
    head: dict[str, Any], *, size: int, sha256: str, multipart_threshold: int
) -> str | None:
    """Compare a stored object's ``head_object`` answer with what load recorded (pure).

    The size, the ``sha256`` metadata Module 1 writes and the store's own SHA-256 checksum must
    agree with the file's. A single-part object's checksum is the file's SHA-256 itself (base64),
    so it is checked without reading the file again; a multipart object's is a composite of its
    parts, which ``upload_directory`` checked against the file right after uploading it.
    """
    if head.get("ContentLength") != size:
        return f"size {head.get('ContentLength')} != local {size}"
    stored_sha = head.get("Metadata", {}).get("sha256")
    if stored_sha != sha256:
        return f"sha256 metadata {stored_sha} != local {sha256}"
    stored = head.get("ChecksumSHA256")
    whole = base64.b64encode(bytes.fromhex(sha256)).decode()
    if stored is not None and size < multipart_threshold and stored != whole:
        return f"stored checksum {stored} does not match the local file's {whole}"
    return None


def verify(
    day: date,
    objects: dict[str, str],
    *,
    settings: Settings | None = None,
    tables: tuple[str, ...] = PIPELINE_TABLES,
) -> dict[str, Any]:
    """Check that the store holds exactly the local partitions, with the checksums of ``objects``
    (load's ``key -> sha256``): nothing missing, nothing extra, nothing changed.

    Raises:
        UserError: an object is missing or extra, or differs from its local file.
    """
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import object_store_client
    from Module_1_Foundations.project.object_store import transfer_config

    settings = settings or get_settings()
    layout = LakeLayout.from_settings(settings)
    bucket = str(layout.bucket)
    client = object_store_client(settings)
    threshold = transfer_config().multipart_threshold
    checked: dict[str, str] = {}
    with object_store_errors(client, bucket):
        for name in tables:
            folder = layout.daily_table(name, day)
            prefix = layout.daily_table_key(name, day)
            local = {
                f"{prefix}/{p.relative_to(folder).as_posix()}": p for p in partition_files(folder)
            }
            remote = set(list_keys(client, bucket, prefix + "/"))
            if remote != set(local):
                raise UserError(
                    f"s3://{bucket}/{prefix}/ holds {sorted(remote)} but the local partition has "
                    f"{sorted(local)}: clear and rerun the load task"
                )
            unloaded = sorted(set(local) - set(objects))
            if unloaded:
                raise UserError(
                    f"{unloaded} are not among the objects load reported: the partition changed "
                    "after the load; clear and rerun the load task"
                )
            for key, path in local.items():
                head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
                problem = stored_object_problem(
                    head,
                    size=path.stat().st_size,
                    sha256=objects[key],
                    multipart_threshold=threshold,
                )
                if problem:
                    raise UserError(
                        f"s3://{bucket}/{key}: {problem}: clear and rerun the load task"
                    )
                checked[key] = objects[key]
    log.info("verify %s: %d objects match their local files", day, len(checked))
    return {"date": day.isoformat(), "verified": len(checked), "objects": checked}
