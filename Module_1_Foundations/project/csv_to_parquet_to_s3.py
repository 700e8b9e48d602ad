"""CSV -> clean Parquet -> S3: the converter's command line, and the API other modules import.

    python -m Module_1_Foundations.project.csv_to_parquet_to_s3 convert data/raw/x.csv --out DIR
    python -m Module_1_Foundations.project.csv_to_parquet_to_s3 loanbook --upload
    python -m Module_1_Foundations.project.csv_to_parquet_to_s3 upload DIR --prefix some/where

Library use (Modules 2 and 3)::

    from Module_1_Foundations.project.csv_to_parquet_to_s3 import (
        convert_csv, convert_loanbook, upload_directory, ConversionResult, UploadResult,
        object_store_client,
    )

Every conversion prints and records ``rows_in = rows_out + rows_rejected + duplicates_removed``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.lake import DATASET, LakeLayout
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.common.settings import Settings, get_settings
from Module_1_Foundations.datasets.loanbook_schema import TABLES
from Module_1_Foundations.project.conversion import (
    BLOCK_SIZE,
    MANIFEST_NAME,
    ConversionResult,
    convert_csv,
)

if TYPE_CHECKING:  # at run time, on first use: see __getattr__
    from Module_1_Foundations.project.object_store import (
        UploadResult,
        object_store_client,
        upload_directory,
    )

__all__ = [
    "MANIFEST_NAME",
    "ConversionResult",
    "UploadResult",
    "convert_csv",
    "convert_loanbook",
    "main",
    "object_store_client",
    "upload_directory",
]

#: Names this module offers from ``object_store``, imported on first use: boto3 and botocore
#: take 9 MB and 0.1 s to import, which a conversion alone (Module 2's contract step, the
#: benchmark's converter process) never needs.
_FROM_OBJECT_STORE = ("UploadResult", "object_store_client", "upload_directory")


def __getattr__(name: str) -> Any:
    if name in _FROM_OBJECT_STORE:
        from Module_1_Foundations.project import object_store

        return getattr(object_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


log = logging.getLogger(__name__)
PROG = "python -m Module_1_Foundations.project.csv_to_parquet_to_s3"


def convert_loanbook(
    raw_dir: Path, processed_dir: Path, *, show_progress: bool = False
) -> dict[str, ConversionResult]:
    """Convert ``raw_dir/{borrowers,loans,repayments,loan_truth}.csv`` under their contracts.

    Each table lands in ``processed_dir/<table>/`` (Parquet, ``_manifest.json``, ``_rejects/``).
    With the lake's roots (``LakeLayout.from_settings()``: ``raw_root``, ``processed_root``)
    this is the snapshot Module 3's dbt sources read.
    """
    raw_dir, processed_dir = Path(raw_dir), Path(processed_dir)
    layout = LakeLayout(raw_root=raw_dir, processed_root=processed_dir, bucket=None, prefix="")
    missing = [t for t in TABLES if not layout.raw_csv(t).is_file()]
    if missing:
        raise UserError(
            f"{raw_dir}: no {', '.join(m + '.csv' for m in missing)}; generate the loan book "
            "first with 'make generate'"
        )
    return {
        table: convert_csv(
            layout.raw_csv(table),
            layout.snapshot_table(table),
            table=table,
            show_progress=show_progress,
            keep_load_partitions=True,  # Module 2's daily loads live in the table folders
        )
        for table in TABLES
    }


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _add_upload_options(parser: argparse.ArgumentParser, *, optional: bool) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    if optional:
        parser.add_argument(
            "--upload", action="store_true", help="upload the output to the object store"
        )
    parser.add_argument("--bucket", help="bucket [default: HDP_S3_BUCKET, locally loanbook-lake]")
    parser.add_argument("--prefix", help="key prefix [default: HDP_S3_PREFIX/<folder name>]")
    parser.add_argument(
        "--create-bucket", action="store_true", help="create the bucket if it does not exist"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description=(
            "Convert any CSV into clean, typed Parquet (zstd) with a rejects file and a run "
            "manifest, and upload it to S3 (the local SeaweedFS by default). Every run prints "
            "rows_in = rows_out + rows_rejected + duplicates_removed."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    convert = sub.add_parser(
        "convert",
        help="convert one CSV file into a Parquet dataset folder",
        description="Convert one CSV into a Parquet dataset folder, atomically.",
    )
    convert.add_argument("input", type=Path, help="the CSV file")
    convert.add_argument(
        "--out",
        type=Path,
        help="output dataset folder [default: <processed_dir>/<file stem>]",
    )
    convert.add_argument(
        "--table",
        choices=sorted(TABLES),
        help="enforce this loan-book table's contract (else infer types)",
    )
    convert.add_argument(
        "--partition-by",
        metavar="COLUMN[:GRAIN]",
        help="Hive-partition by a date column; GRAIN is day, month (default) or year",
    )
    convert.add_argument(
        "--rejects-dir", type=Path, help="folder for <name>_rejects.csv [default: OUT/_rejects]"
    )
    convert.add_argument("--encoding", help="override the detected encoding, e.g. latin-1")
    convert.add_argument("--delimiter", help="override the detected delimiter, e.g. ';'")
    header = convert.add_mutually_exclusive_group()
    header.add_argument(
        "--header", dest="header", action="store_true", default=None, help="first line is a header"
    )
    header.add_argument(
        "--no-header", dest="header", action="store_false", help="first line is data"
    )
    convert.add_argument(
        "--remove-control-chars",
        action="store_true",
        help="delete NUL and other C0 control characters from cells (default: reject the row)",
    )
    convert.add_argument(
        "--block-mb",
        type=int,
        default=BLOCK_SIZE >> 20,
        help="MiB of CSV per batch (memory grows with it)",
    )
    _add_upload_options(convert, optional=True)

    book = sub.add_parser(
        DATASET,
        help="convert the generated loan book (all four tables) under their contracts",
        description="Convert <raw_dir>/loanbook/*.csv into <processed_dir>/loanbook/<table>/.",
    )
    book.add_argument("--raw-dir", type=Path, help="[default: <raw_dir>/loanbook]")
    book.add_argument("--processed-dir", type=Path, help="[default: <processed_dir>/loanbook]")
    _add_upload_options(book, optional=True)

    upload = sub.add_parser(
        "upload",
        help="upload a folder (idempotent, verified)",
        description="Upload every file under a folder to s3://BUCKET/PREFIX/<relative path>.",
    )
    upload.add_argument("folder", type=Path, help="local folder (or one file)")
    _add_upload_options(upload, optional=False)
    return parser


def _upload(args: argparse.Namespace, folder: Path, default_prefix: str, settings: Settings):
    from Module_1_Foundations.project.object_store import upload_directory

    prefix = args.prefix if args.prefix is not None else default_prefix
    result = upload_directory(
        folder,
        bucket=args.bucket,
        prefix=prefix,
        settings=settings,
        create_bucket=args.create_bucket,
        show_progress=not args.quiet,
    )
    print(result.summary())
    return result


def _print_conversion(result: ConversionResult) -> None:
    print(result.summary())
    reasons = ", ".join(f"{k} {v:,}" for k, v in result.reject_reasons.items()) or "none"
    print(f"  parquet: {result.output_dir}  rejects: {result.rejects_path} ({reasons})")


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        settings = get_settings()
        setup_logging("Module_1_Foundations", "csv_to_parquet_to_s3")
        progress = not args.quiet
        if args.command == "convert":
            if args.block_mb < 1:
                raise UserError(f"--block-mb={args.block_mb} must be at least 1")
            out = args.out or settings.processed_dir / args.input.stem
            result = convert_csv(
                args.input,
                out,
                table=args.table,
                partition_by=args.partition_by,
                rejects_dir=args.rejects_dir,
                encoding=args.encoding,
                delimiter=args.delimiter,
                header=args.header,
                block_size=args.block_mb << 20,
                show_progress=progress,
                control_chars="remove" if args.remove_control_chars else "reject",
            )
            _print_conversion(result)
            if args.upload:
                _upload(args, out, f"{settings.s3_prefix}/{out.name}".strip("/"), settings)
        elif args.command == DATASET:
            lake = LakeLayout.from_settings(settings)
            raw = args.raw_dir or lake.raw_root
            processed = args.processed_dir or lake.processed_root
            results = convert_loanbook(raw, processed, show_progress=progress)
            for result in results.values():
                _print_conversion(result)
            if args.upload:
                _upload(args, processed, settings.s3_prefix, settings)
        else:
            default = f"{settings.s3_prefix}/{args.folder.name}".strip("/")
            _upload(args, args.folder, default, settings)
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
