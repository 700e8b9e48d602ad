"""Build a processed loan-book lake for Module 3's tests and benchmark.

The layout is the contract with Module 1: ``<root>/<table>/**/*.parquet`` with the schema's
snake_case column names and types string/int64/float64/date32, optionally Hive-partitioned by
load date (``dt=YYYY-MM-DD/``) as Module 2's DAG writes it. ``root`` is
``<settings.processed_dir>/loanbook``.

Module 1's ``convert_loanbook`` is used when it exists; until then (and for the clean CSVs of a
fault-free book, where both give the same Parquet) ``csv_to_lake`` reads the generator's CSVs
with the schema's types. ``split_day`` moves the last day of events into its own ``dt=``
partition, which is how the tests and the benchmark "append one more day".
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from Module_1_Foundations.datasets.loanbook_schema import TABLES, TableSpec

ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "date": pa.date32()}
#: The date that places a row of each table on a day (loan_truth follows its loan).
EVENT_DATE = {"borrowers": "created_date", "loans": "issue_date", "repayments": "due_date"}
PARQUET_NAME = "part-0.parquet"


def arrow_schema(spec: TableSpec) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type], c.nullable) for c in spec.columns])


def read_clean_csv(path: Path, spec: TableSpec) -> pa.Table:
    """Read one clean (fault-free) generator CSV with the contract's names and types."""
    schema = arrow_schema(spec)
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=spec.column_names, skip_rows=1),
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: f.type for f in schema}, strings_can_be_null=True
        ),
    )
    return table.select(spec.column_names).cast(schema)


def csv_to_lake(raw_dir: Path, lake_root: Path) -> dict[str, int]:
    """Convert the generator's clean CSVs into ``<lake_root>/<table>/part-0.parquet``."""
    counts = {}
    for name, spec in TABLES.items():
        table = read_clean_csv(Path(raw_dir) / f"{name}.csv", spec)
        write_table(table, Path(lake_root), name)
        counts[name] = table.num_rows
    return counts


def build_lake(raw_dir: Path, processed_dir: Path) -> tuple[Path, str]:
    """Fill ``<processed_dir>/loanbook`` from ``raw_dir``; return the root and the method used."""
    try:
        from Module_1_Foundations.project.csv_to_parquet_to_s3 import (
            convert_loanbook,
        )
    except ImportError:
        csv_to_lake(raw_dir, Path(processed_dir) / "loanbook")
        return Path(processed_dir) / "loanbook", "sample_lake.csv_to_lake"
    root = Path(processed_dir) / "loanbook"
    convert_loanbook(Path(raw_dir), root)
    return root, "Module_1 convert_loanbook"


def write_table(table: pa.Table, lake_root: Path, name: str, partition: date | None = None) -> Path:
    folder = Path(lake_root) / name
    if partition is not None:
        folder = folder / f"dt={partition.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PARQUET_NAME
    pq.write_table(table, path, row_group_size=1_000_000)
    return path


def read_table(lake_root: Path, name: str) -> pa.Table:
    files = sorted((Path(lake_root) / name).rglob("*.parquet"))
    return pa.concat_tables(pq.read_table(f) for f in files)


def split_day(lake_root: Path, day: date, *, hold_back: Path | None = None) -> dict[str, int]:
    """Move every row whose event date is on or after ``day`` out of the base files.

    The generator's due dates stop at the 28th of a month, so the book's last day of
    instalments can be followed by a few days of issues only: the split takes the tail of the
    book from ``day`` on, which is the one daily load that lands as ``dt=<day>``.

    With ``hold_back`` the moved rows go to ``<hold_back>/<table>/dt=<day>/`` (to append later
    with :func:`append_held_back`); without it they go straight into the lake's own ``dt=<day>``
    partition. Returns the number of rows moved per table.
    """
    lake_root = Path(lake_root)
    moved: dict[str, int] = {}
    loans = read_table(lake_root, "loans")
    day_loans = pc.filter(loans, pc.greater_equal(loans["issue_date"], pa.scalar(day, pa.date32())))
    day_loan_ids = day_loans["loan_id"]
    for name in TABLES:
        table = read_table(lake_root, name)
        if name in EVENT_DATE:
            on_day = pc.greater_equal(table[EVENT_DATE[name]], pa.scalar(day, pa.date32()))
        else:
            on_day = pc.is_in(table["loan_id"], value_set=day_loan_ids)
        shutil.rmtree(lake_root / name)
        write_table(table.filter(pc.invert(on_day)), lake_root, name)
        write_table(table.filter(on_day), hold_back or lake_root, name, partition=day)
        moved[name] = int(pc.sum(on_day.cast(pa.int64())).as_py() or 0)
    return moved


def append_held_back(hold_back: Path, lake_root: Path) -> None:
    """Move held-back ``dt=`` partitions into the lake (the new day lands)."""
    for folder in sorted(Path(hold_back).glob("*/dt=*")):
        target = Path(lake_root) / folder.parent.name / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(target))
