"""The duplicate check of one conversion: exact repeats over the whole file, in bounded memory.

Two questions, each answered by a :class:`dedup.BoundedDedup` (in memory up to a budget, then
spilled to hash-partitioned files and decided at the end):

* a valid row is a duplicate when its *cleaned* values equal an earlier row's (fingerprints
  from ``fingerprints.py``); under a keyed contract, a row with an earlier row's key but other
  values is a *key conflict*, rejected;
* a rejected row is a duplicate when its *raw* text repeats an earlier rejected row's.

Rows the check cannot decide yet (past the budget) are set aside and come back, deduplicated
and in input order, from :meth:`DuplicateCheck.drain_valid` and
:meth:`DuplicateCheck.drain_rejected`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from Module_1_Foundations.project.dedup import LINE, BoundedDedup, SpillLog, spill_partitions
from Module_1_Foundations.project.fingerprints import combine_hashes, hash_column, hash_strings


@dataclass(frozen=True)
class Verdict:
    """Masks over the checked rows: exact duplicate, key conflict, set aside until the end."""

    duplicate: np.ndarray
    conflict: np.ndarray
    deferred: np.ndarray


class DuplicateCheck:
    """Exact duplicates among valid and among rejected rows of one file (see the module doc)."""

    def __init__(
        self,
        key_positions: list[int] | None,
        budget: int,
        spill_dir: Path,
        input_bytes: int,
    ) -> None:
        self.key_positions = key_positions
        self.spill_dir = spill_dir
        partitions = spill_partitions(input_bytes)
        keyed = bool(key_positions)
        self.rows = BoundedDedup(keyed, budget, spill_dir / "rows", partitions)
        self.rejects = BoundedDedup(False, budget, spill_dir / "rejects", partitions)
        #: Raw text of the batches whose rows were set aside (keyed tables: the text of a key
        #: conflict found at the end is read back from here).
        self.raw_log = SpillLog(spill_dir / "raw.arrow")

    def expect_rows(self, rows: int) -> None:
        """About how many rows the file holds (sizes the in-memory table once, up front)."""
        self.rows.expect(rows)

    @staticmethod
    def column_hashes(columns: list[pa.Array]) -> list[np.ndarray]:
        """The per-column hashes :meth:`check_valid` combines (pure: any thread may compute
        them, so the cleaning thread does, off the thread that checks and writes)."""
        return [hash_column(c) for c in columns]

    def check_valid(
        self,
        columns: list[pa.Array],
        hashes: list[np.ndarray],
        good: np.ndarray,
        schema: pa.Schema,
        raw_batch: pa.RecordBatch,
        batch_lines: np.ndarray,
    ) -> Verdict:
        """Judge the valid rows (positions ``good`` of the batch's cleaned ``columns``, whose
        :meth:`column_hashes` are ``hashes``); rows set aside are kept for the end. The
        verdict's masks run over ``good``.

        The columns come whole, not filtered down to the valid rows first: hashing the few
        rejected rows too is cheaper than copying every column (only the rows set aside are
        ever taken out). ``raw_batch`` and ``batch_lines`` are the whole batch as read (for
        key conflicts that are only found at the end).
        """
        n = len(batch_lines)
        row_fp = combine_hashes(hashes, n)
        key_fp = None
        if self.key_positions:
            key_fp = combine_hashes([hashes[i] for i in self.key_positions], n)
        if len(good) < n:
            row_fp = row_fp[good]
            key_fp = None if key_fp is None else key_fp[good]
        duplicate, conflict, deferred = self.rows.check(row_fp, key_fp)
        if deferred.any():
            take = pa.array(good[deferred])
            payload = pa.Table.from_arrays([c.take(take) for c in columns], schema=schema)
            if key_fp is not None:
                self.raw_log.append(
                    raw_batch.append_column(LINE, pa.array(batch_lines, pa.int64()))
                )
            self.rows.spill(
                batch_lines[good[deferred]],
                row_fp[deferred],
                None if key_fp is None else key_fp[deferred],
                payload,
            )
        return Verdict(duplicate, conflict, deferred)

    def check_rejected(
        self, raws: pa.Array, lines: np.ndarray, reasons: pa.Array, kinds: dict[str, np.ndarray]
    ) -> Verdict:
        """Judge rejected rows by their raw text; rows set aside keep their reasons for the end."""
        fingerprints = hash_strings(raws)
        repeat, conflict, deferred = self.rejects.check(fingerprints)
        if deferred.any():
            at = np.flatnonzero(deferred)
            kind_names = [",".join(sorted(k for k, mask in kinds.items() if mask[i])) for i in at]
            mask = pa.array(deferred)
            payload = pa.table(
                {
                    "line": pa.array(lines[deferred], pa.int64()),
                    "reason": reasons.filter(mask),
                    "raw": raws.filter(mask),
                    "kinds": pa.array(kind_names, pa.string()),
                }
            )
            self.rejects.spill(lines[deferred], fingerprints[deferred], None, payload)
        return Verdict(repeat, conflict, deferred)

    def drain_valid(self) -> Iterator[pa.Table]:
        """The valid rows that were set aside and are not duplicates, in input order."""
        yield from self.rows.drain()

    def conflicts_found_at_the_end(self, names: list[str]) -> Iterator[tuple[np.ndarray, pa.Table]]:
        """(line numbers, raw rows) of the key conflicts :meth:`drain_valid` found."""
        wanted = self.rows.conflict_lines
        if not len(wanted):
            return
        for raw_batch in self.raw_log.scan():  # rare: one sequential read of the raw log
            hit = np.isin(raw_batch.column(LINE).to_numpy(), wanted)
            if hit.any():
                rows = pa.Table.from_batches([raw_batch.filter(pa.array(hit))])
                yield rows.column(LINE).to_numpy(), rows.select(names)

    def drain_rejected(self) -> Iterator[pa.Table]:
        """The rejected rows set aside that are not repeats: ``line, reason, raw, kinds``."""
        yield from self.rejects.drain()

    @property
    def duplicates_found_at_the_end(self) -> int:
        """Duplicates among the rows set aside (known once both drains are done)."""
        return self.rows.duplicates + self.rejects.duplicates

    def memory_report(self) -> dict[str, int]:
        return {
            "duplicate_fingerprint_bytes": self.rows.nbytes + self.rejects.nbytes,
            "dedup_memory_budget_bytes": self.rows.budget,
            "spilled_rows": self.rows.spilled_rows + self.rejects.spilled_rows,
            "spill_partitions": self.rows.partitions,
        }

    def close(self) -> None:
        """Delete every spill file (on success and on failure alike)."""
        self.rows.close()
        self.rejects.close()
        self.raw_log.close()
        shutil.rmtree(self.spill_dir, ignore_errors=True)

    def __enter__(self) -> DuplicateCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
