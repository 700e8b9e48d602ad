"""What one conversion did: the :class:`ConversionResult` and the run manifest that records it.

The manifest (``_manifest.json`` in the dataset folder) holds the input's checksum and sniffed
dialect, every column's plan (type, rules, and how the type was decided), the schema, the counts
with the identity ``rows_in = rows_out + rows_rejected + duplicates_removed``, every output file
with its checksum, and the timings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.io import sha256_file
from Module_1_Foundations.project.column_plans import ColumnPlan
from Module_1_Foundations.project.csv_sniffing import CsvDialect
from Module_1_Foundations.project.dataset_writing import ROW_GROUP_ROWS, DatasetWriter

CONVERTER_VERSION = "1.0"


@dataclass
class ConversionResult:
    """What one conversion did. ``rows_in == rows_out + rows_rejected + duplicates_removed``."""

    input_path: Path
    output_dir: Path
    table: str | None
    rows_in: int
    rows_out: int
    rows_rejected: int
    duplicates_removed: int
    output_files: list[Path]
    manifest_path: Path
    rejects_path: Path
    reject_reasons: dict[str, int] = field(default_factory=dict)
    input_sha256: str = ""
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_rejected + self.duplicates_removed

    def summary(self) -> str:
        """One line: the identity with this run's numbers."""
        return (
            f"{self.input_path.name}: rows_in {self.rows_in:,} = rows_out {self.rows_out:,}"
            f" + rows_rejected {self.rows_rejected:,}"
            f" + duplicates_removed {self.duplicates_removed:,}"
            f" ({'balanced' if self.balanced else 'NOT BALANCED'}, {self.seconds:.1f} s)"
        )


def build_manifest(
    result: ConversionResult,
    dialect: CsvDialect,
    plans: list[ColumnPlan],
    writer: DatasetWriter,
    staged: Path,
    staged_rejects: Path,
    ignored: list[str],
    partition: tuple[str, str] | None,
    memory: dict[str, int],
    started_at: str,
) -> dict[str, Any]:
    """The run's record: input, decisions, schema, counts, outputs with checksums, timings."""
    outputs = []
    for key, path in sorted(writer.paths.items(), key=lambda kv: str(kv[1])):
        outputs.append(
            {
                "path": str(path.relative_to(staged)),
                "rows": writer.rows[key],
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
            }
        )
    input_stat = result.input_path.stat()
    return {
        "tool": "csv_to_parquet_to_s3",
        "version": CONVERTER_VERSION,
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {
            "path": str(result.input_path.resolve()),
            "bytes": input_stat.st_size,
            "sha256": result.input_sha256,
            "encoding": dialect.encoding,
            "bom": dialect.bom,
            "delimiter": dialect.delimiter,
            "header": dialect.has_header,
        },
        "table": result.table,
        "contract": "loanbook_schema" if result.table else None,
        "ignored_columns": ignored,
        "columns": [p.describe() for p in plans],
        "schema": [{"name": f.name, "type": str(f.type)} for f in writer.schema],
        "partitioning": (
            {"column": partition[0], "grain": partition[1], "style": "hive"} if partition else None
        ),
        "counts": {
            "rows_in": result.rows_in,
            "rows_out": result.rows_out,
            "rows_rejected": result.rows_rejected,
            "duplicates_removed": result.duplicates_removed,
            "identity": "rows_in = rows_out + rows_rejected + duplicates_removed",
            "balanced": result.balanced,
            "reject_reasons": result.reject_reasons,
        },
        "outputs": outputs,
        "rejects": {
            "path": str(result.rejects_path),
            "rows": result.rows_rejected,
            "sha256": sha256_file(staged_rejects),
        },
        "parquet": {"compression": "zstd", "row_group_rows": ROW_GROUP_ROWS},
        "timings": {
            "seconds": result.seconds,
            "rows_per_second": round(result.rows_in / result.seconds) if result.seconds else None,
            "input_mb_per_second": (
                round(input_stat.st_size / 1e6 / result.seconds, 1) if result.seconds else None
            ),
        },
        "memory": memory,
        "row_order": "input",
    }
