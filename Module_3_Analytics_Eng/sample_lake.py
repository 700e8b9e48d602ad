"""Build a processed loan-book lake for Module 3's tests and benchmark.

The layout is the contract with Module 1 (``Module_1_Foundations/common/lake.py``): one folder
a table, ``<lake root>/<table>/**/*.parquet``, written by Module 1's converter
(``convert_loanbook``), optionally with load-date partition folders (``lake.partition_name``)
as Module 2's DAG adds them. ``split_day`` moves the last day of events into its own load-date
partition, which is how the tests and the benchmark "append one more day".
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from Module_1_Foundations.common.lake import PARTITION_KEY, TABLES, partition_name
from Module_1_Foundations.project.csv_to_parquet_to_s3 import convert_loanbook

#: The date that places a row of each table on a day (loan_truth follows its loan).
EVENT_DATE = {"borrowers": "created_date", "loans": "issue_date", "repayments": "due_date"}
PARQUET_NAME = "part-0.parquet"


def build_lake(raw_dir: Path, lake_root: Path) -> Path:
    """Convert the loan book's CSVs in ``raw_dir`` into ``lake_root`` with Module 1's converter."""
    convert_loanbook(Path(raw_dir), Path(lake_root))
    return Path(lake_root)


def write_table(table: pa.Table, lake_root: Path, name: str, partition: date | None = None) -> Path:
    """Write one table's rows as a Parquet file: the base folder, or a load-date partition."""
    folder = Path(lake_root) / name
    if partition is not None:
        folder = folder / partition_name(partition)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PARQUET_NAME
    pq.write_table(table, path, row_group_size=1_000_000)
    return path


def read_table(lake_root: Path, name: str) -> pa.Table:
    """Every row of one table, over all its files (base and partitions)."""
    files = sorted((Path(lake_root) / name).rglob("*.parquet"))
    return pa.concat_tables(pq.read_table(f) for f in files)


def split_day(lake_root: Path, day: date, *, hold_back: Path | None = None) -> dict[str, int]:
    """Move every row whose event date is on or after ``day`` out of the base files.

    The generator's due dates stop at the 28th of a month, so the book's last day of
    instalments can be followed by a few days of issues only: the split takes the tail of the
    book from ``day`` on, which is the one daily load that lands as the partition of ``day``.

    With ``hold_back`` the moved rows go to ``<hold_back>/<table>/<partition of day>/`` (to
    append later with :func:`append_held_back`); without it they go straight into the lake's
    own partition of ``day``. Returns the number of rows moved per table.
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
    """Move held-back load-date partitions into the lake (the new day lands)."""
    for folder in sorted(Path(hold_back).glob(f"*/{PARTITION_KEY}=*")):
        target = Path(lake_root) / folder.parent.name / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(target))
