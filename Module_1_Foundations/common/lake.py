"""The lake layout: the one place that names the loan-book datasets, tables, folders and keys.

Every module reads and writes the same lake, so every path into it is built here and nowhere
else (Module 1 converts into it, Module 2's DAG adds daily partitions, Module 3's dbt sources
read it, the capstone publishes from it). On disk and in the object store the layout is::

    <raw_dir>/loanbook/<table>.csv                         the full-book export (CSV)
    <raw_dir>/loanbook/manifest.json                       ... and its generator manifest
    <raw_dir>/loanbook/daily/dt=YYYY-MM-DD/<table>.csv     a day's drop (write-once)
    <processed_dir>/loanbook/<table>/part-*.parquet        the snapshot, one folder a table
    <processed_dir>/loanbook/<table>/_manifest.json        ... with its conversion manifest
    <processed_dir>/loanbook/<table>/dt=YYYY-MM-DD/        a day's clean partition of the table
    <processed_dir>/loanbook/daily/_staged/<table>/dt=../  a day's partition, validated, not yet in
    <processed_dir>/loanbook/daily/_rejects/<table>/dt=../ the rows that day refused, with reasons
    <processed_dir>/loanbook/daily/_manifests/dt=...json   the day's run manifest
    s3://<bucket>/<prefix>/...                             the processed tree, key for path

The snapshot and the daily partitions form ONE lake: a reader globs ``<table>/**/*.parquet``
and gets both, and dbt's staging models keep one row per key, the newest load winning (a file
outside any ``dt=`` folder is the initial load). The daily bookkeeping (staging, rejects, run
manifests) lives under ``daily/``, outside every table folder, so no reader mistakes it for data.

``dt=`` is the Hive partition key of a load date; :func:`partition_name` spells it and
:func:`partition_date` reads it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings name their defaults after DATASET: import them lazily
    from Module_1_Foundations.common.settings import Settings

#: The dataset's name: its folder under raw/ and processed/, and the default key prefix.
DATASET = "loanbook"
#: Every table of a loan-book export, in load order (a loan names its borrower).
TABLES: tuple[str, ...] = ("borrowers", "loans", "repayments", "loan_truth")
#: The tables a daily drop carries to the lake: all of them. ``loan_truth`` is the generator's
#: ground truth (true default probabilities): evaluation only, never a feature. Without it in
#: the daily partitions, no loan issued after the snapshot would have a true PD to measure the
#: model against.
PIPELINE_TABLES: tuple[str, ...] = TABLES
#: The tables a drop may lack: a real vendor delivers no ground truth, and its day still counts.
OPTIONAL_TABLES: tuple[str, ...] = ("loan_truth",)
#: The daily drops' raw folder, and the folder of their bookkeeping beside the table folders.
DAILY = "daily"
#: Hive partition key of a load date.
PARTITION_KEY = "dt"
REJECTS = "_rejects"
MANIFESTS = "_manifests"
STAGED = "_staged"
#: The generator's manifest beside an export's CSV files (its config names the book).
EXPORT_MANIFEST = "manifest.json"
#: The conversion manifest Module 1 writes into each table folder.
TABLE_MANIFEST = "_manifest.json"

_PARTITION_RE = re.compile(rf"(?:^|/){PARTITION_KEY}=(\d{{4}}-\d{{2}}-\d{{2}})(?:/|$)")


def partition_name(day: date) -> str:
    """The partition folder of a load date: ``dt=2024-01-05``."""
    return f"{PARTITION_KEY}={day.isoformat()}"


def partition_date(path: str | Path) -> date | None:
    """The load date of the first ``dt=`` folder in ``path``, or ``None`` outside a partition."""
    match = _PARTITION_RE.search(PurePosixPath(Path(path).as_posix()).as_posix())
    return date.fromisoformat(match.group(1)) if match else None


@dataclass(frozen=True)
class LakeLayout:
    """Where each part of the loan-book lake lives, locally and in the object store."""

    raw_root: Path
    processed_root: Path
    bucket: str | None
    prefix: str

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> LakeLayout:
        from Module_1_Foundations.common.settings import get_settings

        settings = settings or get_settings()
        return cls(
            raw_root=Path(settings.raw_dir) / DATASET,
            processed_root=Path(settings.processed_dir) / DATASET,
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix.strip("/"),
        )

    # --- raw CSV --------------------------------------------------------------------------
    def raw_csv(self, table: str) -> Path:
        """The full-book export of one table: ``<raw>/loanbook/loans.csv``."""
        return self.raw_root / f"{table}.csv"

    def raw_manifest(self) -> Path:
        """The full-book export's generator manifest: ``<raw>/loanbook/manifest.json``."""
        return self.raw_root / EXPORT_MANIFEST

    def raw_daily(self, day: date) -> Path:
        """A day's raw drop folder: ``<raw>/loanbook/daily/dt=DAY``."""
        return self.raw_root / DAILY / partition_name(day)

    # --- processed Parquet: the snapshot ------------------------------------------------------
    def snapshot_table(self, table: str) -> Path:
        """The snapshot folder of one table: ``<processed>/loanbook/loans``."""
        return self.processed_root / table

    # --- processed Parquet: the daily partitions ---------------------------------------------
    def daily_root(self) -> Path:
        return self.processed_root / DAILY

    def daily_table(self, table: str, day: date) -> Path:
        """A day's clean partition, inside the table: ``<processed>/loanbook/loans/dt=DAY``."""
        return self.snapshot_table(table) / partition_name(day)

    def daily_staged(self, table: str, day: date) -> Path:
        """A day's partition once validated, before it is swapped into the table."""
        return self.daily_root() / STAGED / table / partition_name(day)

    def daily_rejects(self, table: str, day: date) -> Path:
        return self.daily_root() / REJECTS / table / partition_name(day)

    def daily_manifest(self, day: date) -> Path:
        """The day's run manifest: ``<processed>/loanbook/daily/_manifests/dt=DAY.json``."""
        return self.daily_root() / MANIFESTS / f"{partition_name(day)}.json"

    # --- the object store ---------------------------------------------------------------------
    def key(self, *parts: str) -> str:
        """An object key under the lake's prefix: ``key("loans")`` -> ``loanbook/loans``."""
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/"))

    def daily_table_key(self, table: str, day: date) -> str:
        """Key prefix of a day's partition: ``loanbook/loans/dt=2024-01-05``."""
        return self.key(table, partition_name(day))

    def daily_manifest_key(self, day: date) -> str:
        return self.key(DAILY, MANIFESTS, partition_name(day), "manifest.json")

    def daily_asset_uri(self) -> str:
        """The daily dataset as an Airflow Asset URI: where each day's run manifest is
        published (``s3://<bucket>/<prefix>/daily``); an event means a day is complete."""
        return f"{self.s3_root()}/{DAILY}"

    def s3_root(self) -> str:
        """The lake's root URL in the object store: ``s3://<bucket>/<prefix>``."""
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")
