"""The daily loan-book ETL as plain Python: one function per step, the same ones the DAG calls.

    python -m Module_2_Pipelines.etl --date 2024-01-05            # the whole run for one day
    python -m Module_2_Pipelines.etl --date 2024-01-05 --skip-load  # without the object store

Every step is keyed by the run date ``day`` and writes only that day's partition, so running a
day again replaces its outputs instead of adding to them. Paths and keys come from the lake
layout (:class:`~Module_1_Foundations.common.lake.LakeLayout`; ``<day>`` below is the day's
partition folder, :func:`~Module_1_Foundations.common.lake.partition_name`):

- extract: the vendor (Module 1's generator) lands ``<raw>/loanbook/daily/<day>/*.csv``,
  write-once: the day's new loans and the live book's repayment events due that day.
- validate (:mod:`.contract`): converts each table under its contract into a staged partition;
  fails, staging nothing, on a broken drop.
- transform: swaps the staged partitions into the tables, ``<processed>/loanbook/<table>/<day>/``.
- load, verify (:mod:`.object_store_steps`): ``s3://<bucket>/<prefix>/<table>/<day>/``, checked
  against the checksums load computed.
- publish (:mod:`.run_manifest`): the run manifest, ``<processed>/loanbook/daily/_manifests/``
  and S3, written last.

Each step returns what the next ones need (counts, file lists, checksums), so nothing is read or
hashed twice. This module adds the date partitioning, the atomic swap and the orchestration;
Module 1 does the real work: :func:`convert_csv` cleans and types a CSV into Parquet and keeps
rejects with reasons, :func:`upload_directory` uploads a folder idempotently.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import atomic_directory, swap_directory
from Module_1_Foundations.common.lake import EXPORT_MANIFEST, PIPELINE_TABLES, LakeLayout
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.common.settings import Settings, get_settings
from Module_2_Pipelines.contract import ContractError, has_data_rows, validate
from Module_2_Pipelines.object_store_steps import list_keys, load, partition_files, verify
from Module_2_Pipelines.pipeline import DEFAULT_LOANS, DEFAULT_MAX_REJECT_RATE
from Module_2_Pipelines.run_log import MODULE, pipeline_log, pipeline_log_dir
from Module_2_Pipelines.run_manifest import build_manifest, publish, write_manifest

if TYPE_CHECKING:  # the generator imports numpy and scipy: only inside extract at run time
    from Module_1_Foundations.datasets.loanbook_generator import GeneratorConfig

__all__ = [
    "ContractError",
    "build_manifest",
    "extract",
    "list_keys",
    "load",
    "main",
    "parse_day",
    "pipeline_log",
    "pipeline_log_dir",
    "publish",
    "run_day",
    "transform",
    "validate",
    "verify",
    "write_manifest",
]

log = logging.getLogger(f"{MODULE}.etl")


# ---------------------------------------------------------------------------------------------
# Pure helpers: dates and seeds
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


# ---------------------------------------------------------------------------------------------
# Extract
# ---------------------------------------------------------------------------------------------


def live_book(layout: LakeLayout) -> GeneratorConfig:
    """The book the daily drops report repayments of: the full-book export's generator config
    (``<raw>/loanbook/manifest.json``), or the generator's defaults (``make generate``)."""
    from Module_1_Foundations.datasets.loanbook_generator import (
        GeneratorConfig,
        config_from_manifest,
    )

    path = layout.raw_manifest()
    if not path.is_file():
        return GeneratorConfig()
    try:
        return config_from_manifest(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"{path}: not a generator manifest ({exc}); regenerate the book with 'make generate'"
        ) from None


def extract(
    day: date,
    *,
    loans: int = DEFAULT_LOANS,
    settings: Settings | None = None,
    reland: bool = False,
    book: GeneratorConfig | None = None,
) -> dict[str, Any]:
    """Land the vendor's raw drop for ``day`` in ``<raw>/loanbook/daily/<day>/``.

    The vendor is simulated by Module 1's generator: the loans issued on ``day`` (ids prefixed
    with the date, seeded by the date) and the repayment events of the live book ``book``
    (default :func:`live_book`) falling due that day. A landed drop is write-once (the raw zone
    is the audit record): a rerun keeps it unless ``reland`` is set.
    """
    from Module_1_Foundations.datasets.loanbook_generator import GeneratorConfig, generate

    layout = LakeLayout.from_settings(settings)
    target = layout.raw_daily(day)
    landed = reland or not (target / EXPORT_MANIFEST).is_file()
    if landed:
        config = GeneratorConfig(
            loans=loans,
            seed=seed_for(day),
            start_date=day,
            end_date=day,
            as_of=day,
            id_prefix=id_prefix_for(day),
        )
        with atomic_directory(target) as staged:
            generate(config, staged, show_progress=False, live_book=book or live_book(layout))
        log.info("extract %s: landed a drop of %s loans in %s", day, f"{loans:,}", target)
    else:
        log.info("extract %s: drop already landed in %s, kept as delivered", day, target)
    manifest = json.loads((target / EXPORT_MANIFEST).read_text())
    return {
        "date": day.isoformat(),
        "landed": landed,
        "loans": int(manifest["config"]["loans"]),
        "live_book": manifest.get("live_book"),
        "files": {name: int(entry["data_lines"]) for name, entry in manifest["files"].items()},
    }


# ---------------------------------------------------------------------------------------------
# Transform: the validated partitions into the tables
# ---------------------------------------------------------------------------------------------


def transform(
    day: date, *, settings: Settings | None = None, tables: tuple[str, ...] = PIPELINE_TABLES
) -> dict[str, Any]:
    """Swap each table's staged partition (validate's output) in as
    ``<processed>/loanbook/<table>/<day>/``, replacing the day's previous one whole.

    A table without rows today ends with no partition for the day. A rerun after a success
    (nothing staged, the partition in place) keeps the partition.

    Raises:
        UserError: a table has rows in the drop but neither a staged nor a published partition.
    """
    layout = LakeLayout.from_settings(settings)
    out: dict[str, Any] = {}
    for name in tables:
        staged, final = layout.daily_staged(name, day), layout.daily_table(name, day)
        source = layout.raw_daily(day) / f"{name}.csv"
        if staged.is_dir():
            final.parent.mkdir(parents=True, exist_ok=True)  # the table's first partition
            swap_directory(staged, final)
        elif not (source.is_file() and has_data_rows(source)):
            shutil.rmtree(final, ignore_errors=True)
        elif not final.is_dir():
            raise UserError(
                f"{name} of {day}: nothing staged and no partition in {final}: run validate first"
            )
        files = [p.relative_to(final).as_posix() for p in partition_files(final)]
        out[name] = {"partition": str(final) if files else None, "files": files}
        log.info("transform %s: %s -> %s (%d files)", day, name, final, len(files))
    return {"date": day.isoformat(), "tables": out}


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
        result = fn(day, *args, settings=settings, **kwargs)
        timings[step] = round(time.perf_counter() - started, 3)
        return result

    extracted = timed("extract", extract, loans=loans)
    validated = timed("validate", validate, max_reject_rate=max_reject_rate)
    transformed = timed("transform", transform)
    verified = None
    if not skip_load:
        loaded = timed("load", load)
        verified = timed("verify", verify, loaded["objects"])
    published = timed(
        "publish",
        publish,
        extracted=extracted,
        validated=validated,
        transformed=transformed,
        verified=verified,
        run_id=run_id,
    )
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
