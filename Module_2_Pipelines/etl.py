"""The daily loan-book ETL as plain Python: one function per step, the same ones the DAG calls.

    python -m Module_2_Pipelines.etl --date 2024-01-05            # the whole run for one day
    python -m Module_2_Pipelines.etl --date 2024-01-05 --skip-load  # without the object store

Every step is keyed by the run date ``day`` and writes only that day's partition, so running a
day again replaces its outputs instead of adding to them:

- extract: reads the vendor (Module 1's generator); writes
  ``<raw_dir>/loanbook/daily/dt=DAY/*.csv``, write-once.
- validate: reads the raw drop; writes nothing, fails on a broken contract.
- transform: reads the raw drop; writes
  ``<processed_dir>/loanbook/daily/<table>/dt=DAY/part-*.parquet``.
- load: reads the processed partitions; writes ``s3://<bucket>/<prefix>/daily/<table>/dt=DAY/``.
- verify: reads the objects and the local files; writes nothing, fails on a missing/changed object.
- publish: reads every step's metadata; writes ``<processed_dir>/loanbook/daily/_manifests/``
  and S3.

Module 1 does the real work: :func:`convert_csv` cleans and types a CSV into Parquet and keeps
rejects with reasons, :func:`upload_directory` uploads a folder idempotently. This module adds
the date partitioning, the contract gate, the atomic swap of partitions and the run manifest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import sha256_file, write_json_atomic
from Module_1_Foundations.common.logs import LOG_FORMAT, IsoFormatter, RunIdFilter, setup_logging
from Module_1_Foundations.common.settings import Settings, get_settings
from Module_1_Foundations.datasets.loanbook_schema import TABLES, TableSpec

MODULE = "Module_2_Pipelines"
log = logging.getLogger(f"{MODULE}.etl")

#: The vendor tables the pipeline carries to the lake (``loan_truth`` is the generator's ground
#: truth: it lands with the raw drop but is no part of the vendor feed).
PIPELINE_TABLES: tuple[str, ...] = ("borrowers", "loans", "repayments")
DEFAULT_LOANS = 2_000
DEFAULT_MAX_REJECT_RATE = 0.05


class ContractError(UserError):
    """The raw drop breaks the data contract: retrying cannot help, fix the input."""


# ---------------------------------------------------------------------------------------------
# Pure helpers: dates, seeds, locations
# ---------------------------------------------------------------------------------------------


def parse_day(value: str | date | datetime) -> date:
    """A run date from ``YYYY-MM-DD``, a date or a (logical) datetime."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise UserError(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2024-01-05") from None


def seed_for(day: date) -> int:
    """The generator seed of a day's drop: ``20240105`` for 2024-01-05 (same day, same bytes)."""
    return day.year * 10_000 + day.month * 100 + day.day


def id_prefix_for(day: date) -> str:
    """Inserted into the drop's ids (``L20240105-00000001``) so days never collide."""
    return day.strftime("%Y%m%d-")


def partition(day: date) -> str:
    """The Hive-style partition folder name: ``dt=2024-01-05``."""
    return f"dt={day.isoformat()}"


#: The daily drops form their own dataset, ``daily/``, beside the full-book snapshot that
#: Module 1's ``convert_loanbook`` writes to ``loanbook/<table>/``: the two never mix, so a
#: reader globbing ``loanbook/<table>/**`` never counts a loan twice.
DAILY = "daily"


def raw_partition(settings: Settings, day: date) -> Path:
    return Path(settings.raw_dir) / "loanbook" / DAILY / partition(day)


def processed_partition(settings: Settings, table: str, day: date) -> Path:
    return Path(settings.processed_dir) / "loanbook" / DAILY / table / partition(day)


def rejects_partition(settings: Settings, table: str, day: date) -> Path:
    return Path(settings.processed_dir) / "loanbook" / DAILY / "_rejects" / table / partition(day)


def manifest_file(settings: Settings, day: date) -> Path:
    folder = Path(settings.processed_dir) / "loanbook" / DAILY / "_manifests"
    return folder / f"{partition(day)}.json"


def object_prefix(settings: Settings, table: str, day: date) -> str:
    """Key prefix of a table's partition: ``loanbook/daily/loans/dt=2024-01-05``."""
    parts = (settings.s3_prefix.strip("/"), DAILY, table, partition(day))
    return "/".join(p for p in parts if p)


def manifest_key(settings: Settings, day: date) -> str:
    return object_prefix(settings, "_manifests", day) + "/manifest.json"


def pipeline_log_dir() -> Path:
    """The setting ``pipeline_log_dir``: ``Module_2_Pipelines/logs`` unless
    ``HDP_PIPELINE_LOG_DIR`` says otherwise (tests point it at a temporary folder)."""
    return Path(get_settings().pipeline_log_dir)


@contextlib.contextmanager
def pipeline_log(run_id: str, step: str, *, name: str = "etl") -> Iterator[Path]:
    """Log one step's status (started, succeeded or failed with the cause, and its duration)
    to ``logs/<name>.log``, every line tagged with ``run_id``.

    Used inside Airflow tasks, where Airflow owns the root logger: only this module's logger gets
    the extra file handler, so the task log and the pipeline log both receive every line once.
    """
    folder = pipeline_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / f"{name}.log", encoding="utf-8")
    handler.setFormatter(IsoFormatter(LOG_FORMAT))
    handler.addFilter(RunIdFilter(run_id))
    owner = logging.getLogger(MODULE)
    owner.addHandler(handler)
    previous = owner.level
    owner.setLevel(logging.INFO)
    started = time.perf_counter()
    log.info("%s: started", step)
    try:
        yield folder / f"{name}.log"
    except BaseException as exc:
        log.error(
            "%s: FAILED after %.1f s: %s: %s",
            step,
            time.perf_counter() - started,
            type(exc).__name__,
            exc,
        )
        raise
    else:
        log.info("%s: succeeded in %.1f s", step, time.perf_counter() - started)
    finally:
        owner.removeHandler(handler)
        owner.setLevel(previous)
        handler.close()


def replace_dir(staged: Path, final: Path) -> None:
    """Swap ``staged`` into ``final`` (replacing any previous content) with two renames.

    Readers see either the old partition or the new one, never a mix or a half-written folder.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.with_name(f".{final.name}.old-{secrets.token_hex(3)}")
    if final.exists():
        os.replace(final, old)
    os.replace(staged, final)
    shutil.rmtree(old, ignore_errors=True)


def staging_dir(final: Path) -> Path:
    """A fresh hidden sibling of ``final`` on the same filesystem (so the swap is a rename)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staged = final.with_name(f".{final.name}.tmp-{secrets.token_hex(3)}")
    staged.mkdir()
    return staged


# ---------------------------------------------------------------------------------------------
# Extract
# ---------------------------------------------------------------------------------------------


def extract(
    day: date, *, loans: int = DEFAULT_LOANS, settings: Settings | None = None, reland: bool = False
) -> dict[str, Any]:
    """Land the vendor's raw drop for ``day`` in ``<raw_dir>/loanbook/daily/dt=DAY/``.

    The vendor is simulated by Module 1's generator: the loans issued on ``day``, exported the
    same day, ids prefixed with the date, seeded by the date. A landed drop is write-once (the raw
    zone is the audit record): a rerun keeps it unless ``reland`` is set.
    """
    from Module_1_Foundations.datasets.loanbook_generator import GeneratorConfig, generate

    settings = settings or get_settings()
    target = raw_partition(settings, day)
    landed = not (target / "manifest.json").is_file() or reland
    if landed:
        config = GeneratorConfig(
            loans=loans,
            seed=seed_for(day),
            start_date=day,
            end_date=day,
            as_of=day,
            id_prefix=id_prefix_for(day),
        )
        staged = staging_dir(target)
        try:
            generate(config, staged, show_progress=False)
            replace_dir(staged, target)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        log.info("extract %s: landed a drop of %s loans in %s", day, f"{loans:,}", target)
    else:
        log.info("extract %s: drop already landed in %s, kept as delivered", day, target)
    generator_manifest = json.loads((target / "manifest.json").read_text())
    files = {
        name: {"rows": int(entry["data_lines"]), "sha256": sha256_file(target / entry["path"])}
        for name, entry in generator_manifest["files"].items()
    }
    return {
        "date": day.isoformat(),
        "raw_dir": str(target),
        "landed": landed,
        "loans": int(generator_manifest["config"]["loans"]),
        "files": files,
    }


# ---------------------------------------------------------------------------------------------
# Validate: the contract gate, before any expensive work
# ---------------------------------------------------------------------------------------------


def count_rejects(path: Path, spec: TableSpec) -> dict[str, int]:
    """Count the rows of a raw CSV that break the contract's structure.

    A row is rejected when it has the wrong number of fields (truncated, extra field, stray text),
    an empty key, or text where the contract wants a number (Module 1's own parsers decide what
    a number and a missing value are). Ranges, codes and date formats are the transform's job
    (Module 1 repairs what it can and keeps rejects with reasons): this gate stops a drop that
    is broken as a whole, before any work is done on it.

    Raises:
        ContractError: the file is empty or its header lacks contract columns.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from Module_1_Foundations.project.cleaning import normalise_missing, parse_numbers
    from Module_1_Foundations.project.conversion import check_contract_header
    from Module_1_Foundations.project.csv_sniffing import unique_column_names

    with open(path, encoding="utf-8", newline="") as handle:
        first_line = handle.readline().rstrip("\r\n")
    if not first_line.strip():
        raise ContractError(f"{path.name}: the file is empty: the vendor sent no header")
    names = unique_column_names(first_line.split(","))
    try:
        extra = check_contract_header(spec, names, path.name)
    except UserError as exc:
        raise ContractError(str(exc)) from None
    if extra:
        log.warning("%s: columns %s are not in the contract and will be ignored", path.name, extra)
    malformed = 0

    def _on_invalid(_row: Any) -> str:
        nonlocal malformed
        malformed += 1
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=16 << 20),
        parse_options=pacsv.ParseOptions(invalid_row_handler=_on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    bad = pa.array(np.zeros(table.num_rows, dtype=bool))
    for key in spec.key:
        bad = pc.or_(bad, pc.is_null(normalise_missing(table[key].combine_chunks())))
    for column in spec.columns:
        if column.type not in ("int", "float"):
            continue
        text = normalise_missing(table[column.name].combine_chunks())
        _, ok = parse_numbers(text, column.type)
        bad = pc.or_(bad, pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(ok, False))))
    return {
        "rows": table.num_rows + malformed,
        "rejects": malformed + int(pc.sum(bad).as_py() or 0),
    }


def validate(
    day: date,
    *,
    settings: Settings | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    tables: tuple[str, ...] = PIPELINE_TABLES,
) -> dict[str, Any]:
    """Check every table of the day's drop against the contract; fail fast with the counts.

    Raises:
        ContractError: a file is missing, its header is wrong, it holds no loans, or more than
            ``max_reject_rate`` of its rows break the contract.
    """
    settings = settings or get_settings()
    folder = raw_partition(settings, day)
    counts: dict[str, dict[str, int]] = {}
    for name in tables:
        path = folder / f"{name}.csv"
        if not path.is_file():
            raise ContractError(f"{path}: missing from the drop; rerun extract or re-land the day")
        counts[name] = result = count_rejects(path, TABLES[name])
        rate = result["rejects"] / result["rows"] if result["rows"] else 0.0
        log.info(
            "validate %s: %s.csv %s rows, %s rejects (%.2f%%)",
            day,
            name,
            f"{result['rows']:,}",
            f"{result['rejects']:,}",
            100 * rate,
        )
        if rate > max_reject_rate:
            raise ContractError(
                f"{path}: {result['rejects']:,} of {result['rows']:,} rows break the contract "
                f"({100 * rate:.1f}% > {100 * max_reject_rate:.1f}% allowed): fix the drop, "
                "or raise max_reject_rate for this run if it is expected"
            )
    if "loans" in counts and counts["loans"]["rows"] == 0:
        raise ContractError(f"{folder / 'loans.csv'}: the drop holds no loans")
    return {"date": day.isoformat(), "tables": counts, "max_reject_rate": max_reject_rate}


# ---------------------------------------------------------------------------------------------
# Transform: Module 1's converter, one partition per table and day
# ---------------------------------------------------------------------------------------------


def has_data_rows(path: Path) -> bool:
    """True when a CSV holds at least one non-empty line after its header."""
    with open(path, "rb") as handle:
        handle.readline()
        return any(line.strip() for line in handle)


def transform(
    day: date, *, settings: Settings | None = None, tables: tuple[str, ...] = PIPELINE_TABLES
) -> dict[str, Any]:
    """Clean each raw table into ``<processed_dir>/loanbook/daily/<table>/dt=DAY/part-*.parquet``.

    Module 1's ``convert_csv`` builds the partition in a hidden folder and swaps it in whole, so a
    rerun replaces the day's files and a crash leaves the previous version intact. Its rejects go
    to ``_rejects/<table>/dt=DAY/``. A table with no rows that day (a same-day drop has no
    repayments yet) gets no partition: an old one is removed, and the manifest says 0 rows.
    """
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import convert_csv

    settings = settings or get_settings()
    raw = raw_partition(settings, day)
    out: dict[str, Any] = {}
    for name in tables:
        final = processed_partition(settings, name, day)
        source = raw / f"{name}.csv"
        if not has_data_rows(source):
            shutil.rmtree(final, ignore_errors=True)
            shutil.rmtree(rejects_partition(settings, name, day), ignore_errors=True)
            out[name] = {
                "rows_in": 0,
                "rows_out": 0,
                "rows_rejected": 0,
                "duplicates_removed": 0,
                "partition": None,
                "files": [],
            }
            log.info("transform %s: %s has no rows today, no partition", day, name)
            continue
        result = convert_csv(
            source, final, table=name, rejects_dir=rejects_partition(settings, name, day)
        )
        out[name] = {
            "rows_in": int(result.rows_in),
            "rows_out": int(result.rows_out),
            "rows_rejected": int(result.rows_rejected),
            "duplicates_removed": int(result.duplicates_removed),
            "partition": str(final),
            "files": sorted(p.relative_to(final).as_posix() for p in _files_under(final)),
        }
        log.info(
            "transform %s: %s %s -> %s rows in %s (%s rejected, %s duplicates removed)",
            day,
            name,
            f"{result.rows_in:,}",
            f"{result.rows_out:,}",
            final,
            f"{result.rows_rejected:,}",
            f"{result.duplicates_removed:,}",
        )
    return {"date": day.isoformat(), "tables": out}


def _files_under(folder: Path) -> list[Path]:
    """Regular files under ``folder``, hidden temporaries excluded (what gets uploaded)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


# ---------------------------------------------------------------------------------------------
# Load and verify: the object store
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _object_store_errors(client: Any, bucket: str) -> Iterator[None]:
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
    """Upload each table's partition to ``s3://<bucket>/<prefix>/<table>/dt=DAY/``.

    Module 1's ``upload_directory`` skips objects whose content is already there and fails in
    seconds, with one line, when the store is unreachable. Keys under the day's prefix that are
    not in the local partition (left by an earlier, different run) are deleted afterwards, so
    the store ends up holding exactly the local partition: nothing duplicated.
    """
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import (
        object_store_client,
        upload_directory,
    )

    settings = settings or get_settings()
    bucket = str(settings.s3_bucket)
    client = object_store_client(settings)
    objects: dict[str, str] = {}
    uploaded = skipped = deleted = 0
    for name in tables:
        prefix = object_prefix(settings, name, day)
        folder = processed_partition(settings, name, day)
        keys: set[str] = set()
        if _files_under(folder):
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
        with _object_store_errors(client, bucket):
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
        "bucket": bucket,
        "objects": objects,
        "uploaded": uploaded,
        "skipped": skipped,
        "deleted": deleted,
    }


def list_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under ``prefix`` (paginated)."""
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


def check_object(client: Any, bucket: str, key: str, path: Path) -> str | None:
    """Compare one stored object with its local file; return the problem, or None if equal.

    The size, the ``sha256`` metadata Module 1 writes, and the store's own SHA-256 checksum
    (whole-object, or composite for multipart uploads) must all agree with the local file.
    """
    from Module_1_Foundations.project.object_store import local_checksums, transfer_config

    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    sha = sha256_file(path)
    if head.get("ContentLength") != path.stat().st_size:
        return f"size {head.get('ContentLength')} != local {path.stat().st_size}"
    if head.get("Metadata", {}).get("sha256") != sha:
        return f"sha256 metadata {head.get('Metadata', {}).get('sha256')} != local {sha}"
    stored = head.get("ChecksumSHA256")
    config = transfer_config()
    if stored is not None and stored not in local_checksums(
        path, config.multipart_chunksize, config.multipart_threshold
    ):
        return f"stored checksum {stored} does not match the local file"
    return None


def verify(
    day: date, *, settings: Settings | None = None, tables: tuple[str, ...] = PIPELINE_TABLES
) -> dict[str, Any]:
    """Check that the store holds exactly the local partitions, byte for byte.

    Raises:
        UserError: an object is missing or extra, or differs from its local file.
    """
    from Module_1_Foundations.project.csv_to_parquet_to_s3 import object_store_client

    settings = settings or get_settings()
    bucket = str(settings.s3_bucket)
    client = object_store_client(settings)
    checked: dict[str, str] = {}
    with _object_store_errors(client, bucket):
        for name in tables:
            folder = processed_partition(settings, name, day)
            prefix = object_prefix(settings, name, day)
            local = {
                f"{prefix}/{p.relative_to(folder).as_posix()}": p for p in _files_under(folder)
            }
            remote = set(list_keys(client, bucket, prefix + "/"))
            if remote != set(local):
                raise UserError(
                    f"s3://{bucket}/{prefix}/ holds {sorted(remote)} but the local partition has "
                    f"{sorted(local)}: clear and rerun the load task"
                )
            for key, path in local.items():
                problem = check_object(client, bucket, key, path)
                if problem:
                    raise UserError(
                        f"s3://{bucket}/{key}: {problem}: clear and rerun the load task"
                    )
                checked[key] = sha256_file(path)
    log.info("verify %s: %d objects match their local files", day, len(checked))
    return {"date": day.isoformat(), "verified": len(checked), "objects": checked}


# ---------------------------------------------------------------------------------------------
# Publish: the run manifest, written last
# ---------------------------------------------------------------------------------------------


def build_manifest(
    day: date,
    *,
    extracted: dict[str, Any],
    validated: dict[str, Any],
    transformed: dict[str, Any],
    verified: dict[str, Any] | None,
    settings: Settings,
    run_id: str,
) -> dict[str, Any]:
    """The manifest of one day: what landed, what was rejected, what is where (pure)."""
    tables = {}
    for name, result in transformed["tables"].items():
        folder = Path(result["partition"] or raw_partition(settings, day))
        prefix = object_prefix(settings, name, day)
        tables[name] = {
            "rows_in": result["rows_in"],
            "rows_out": result["rows_out"],
            "rows_rejected": result["rows_rejected"],
            "duplicates_removed": result["duplicates_removed"],
            "contract_rejects": validated["tables"][name]["rejects"],
            "partition": result["partition"],
            "files": {
                part: {
                    "bytes": (folder / part).stat().st_size,
                    "sha256": sha256_file(folder / part),
                    "object": None if verified is None else f"{prefix}/{part}",
                }
                for part in result["files"]
            },
        }
    return {
        "pipeline": "loanbook_daily_etl",
        "date": day.isoformat(),
        "raw": {
            "dir": extracted["raw_dir"],
            "loans": extracted["loans"],
            "files": extracted["files"],
        },
        "tables": tables,
        "object_store": None
        if verified is None
        else {
            "bucket": settings.s3_bucket,
            "prefix": object_prefix(settings, "", day).rsplit("/", 2)[0],
            "verified_objects": verified["verified"],
        },
        "run": {"run_id": run_id, "published_at": datetime.now(UTC).isoformat(timespec="seconds")},
    }


def publish(
    day: date,
    manifest: dict[str, Any],
    *,
    settings: Settings | None = None,
    upload: bool = True,
) -> dict[str, Any]:
    """Write the day's manifest locally (atomically) and, when ``upload``, next to the data."""
    settings = settings or get_settings()
    path = manifest_file(settings, day)
    write_json_atomic(path, manifest)
    key = None
    if upload:
        from Module_1_Foundations.project.csv_to_parquet_to_s3 import object_store_client

        key = manifest_key(settings, day)
        from Module_1_Foundations.project.object_store import ensure_bucket

        client = object_store_client(settings)
        ensure_bucket(client, str(settings.s3_bucket), create=settings.is_local)
        with _object_store_errors(client, str(settings.s3_bucket)):
            client.put_object(
                Bucket=settings.s3_bucket,
                Key=key,
                Body=path.read_bytes(),
                ContentType="application/json",
            )
    where = f" and s3://{settings.s3_bucket}/{key}" if key else ""
    log.info("publish %s: manifest %s%s", day, path, where)
    return {"date": day.isoformat(), "manifest": str(path), "key": key}


# ---------------------------------------------------------------------------------------------
# The whole run, for the shell and the benchmark
# ---------------------------------------------------------------------------------------------


def run_day(
    day: date,
    *,
    loans: int = DEFAULT_LOANS,
    settings: Settings | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    skip_load: bool = False,
    run_id: str = "manual",
) -> dict[str, Any]:
    """extract -> validate -> transform -> load -> verify -> publish for one day."""
    settings = settings or get_settings()
    timings: dict[str, float] = {}

    def timed(step: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        timings[step] = round(time.perf_counter() - started, 3)
        return result

    extracted = timed("extract", extract, day, loans=loans, settings=settings)
    validated = timed("validate", validate, day, settings=settings, max_reject_rate=max_reject_rate)
    transformed = timed("transform", transform, day, settings=settings)
    verified = None
    if not skip_load:
        timed("load", load, day, settings=settings)
        verified = timed("verify", verify, day, settings=settings)
    manifest = build_manifest(
        day,
        extracted=extracted,
        validated=validated,
        transformed=transformed,
        verified=verified,
        settings=settings,
        run_id=run_id,
    )
    published = timed("publish", publish, day, manifest, settings=settings, upload=not skip_load)
    return {"date": day.isoformat(), "manifest": published["manifest"], "seconds": timings}


def _cli_date(text: str) -> date:
    try:
        return parse_day(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m Module_2_Pipelines.etl",
        description=(
            "Run the daily loan-book ETL for one date without Airflow: land the raw drop, check "
            "it against the contract, write clean Parquet partitions, upload them to the object "
            "store, verify the checksums and publish the run manifest. Rerunning a date "
            "replaces its outputs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--date", required=True, type=_cli_date, help="run date (YYYY-MM-DD)")
    parser.add_argument("--loans", type=int, default=DEFAULT_LOANS, help="loans in a new drop")
    parser.add_argument(
        "--max-reject-rate",
        type=float,
        default=DEFAULT_MAX_REJECT_RATE,
        help="share of rows per table allowed to break the contract",
    )
    parser.add_argument(
        "--skip-load", action="store_true", help="stop after transform (no object store needed)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        if not 0 <= args.max_reject_rate <= 1:
            raise UserError(f"--max-reject-rate={args.max_reject_rate}: give a share from 0 to 1")
        run_id = setup_logging(MODULE, "etl", log_dir=pipeline_log_dir())
        summary = run_day(
            args.date,
            loans=args.loans,
            max_reject_rate=args.max_reject_rate,
            skip_load=args.skip_load,
            run_id=run_id,
        )
        print(json.dumps(summary, indent=2))
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
