"""Which 64-bit row fingerprints has this run already seen? Exact duplicates across a whole file.

:class:`BoundedDedup` (end of the file) bounds this for any input size: in memory up to a
budget, then hash-partitioned spill files on disk, deduplicated one at a time at the end.

Memory is 8 bytes per distinct row, kept as a few sorted NumPy runs (a small log-structured
merge): a batch is checked with ``searchsorted`` against each run, then added as a new run; runs
of similar size are merged. Two different rows share a fingerprint with probability about
``n**2 / 2**65`` (1e-5 for 20 million rows); such a pair would be counted as a duplicate.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

#: Runs are not merged beyond this many fingerprints (32 MiB), to bound the merge's peak memory.
MAX_RUN = 4 << 20
#: A new run is merged into the previous one while that is at most this many times larger:
#: few runs to search (merges are linear, so cheap), about log_8 of the batches.
MERGE_FACTOR = 8


def merge_sorted(
    a: np.ndarray, b: np.ndarray, a_values: np.ndarray | None = None, b_values=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Merge two sorted, disjoint arrays (and values riding along) in linear time, no sort."""
    at = np.searchsorted(a, b) + np.arange(len(b))
    from_b = np.zeros(len(a) + len(b), dtype=bool)
    from_b[at] = True
    keys = np.empty(len(a) + len(b), dtype=a.dtype)
    keys[at] = b
    keys[~from_b] = a
    values = None
    if a_values is not None:
        values = np.empty(len(keys), dtype=a_values.dtype)
        values[at] = b_values
        values[~from_b] = a_values
    return keys, values


class FingerprintSet:
    """A growing set of uint64 fingerprints with a vectorised 'seen before?' test."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    @property
    def nbytes(self) -> int:
        return sum(run.nbytes for run in self._runs)

    def seen_then_add(self, fingerprints: np.ndarray) -> np.ndarray:
        """For each fingerprint: True if it was seen before (earlier batch or earlier in this one).

        All of them are in the set afterwards.
        """
        fingerprints = np.asarray(fingerprints, dtype=np.uint64)
        seen = np.ones(len(fingerprints), dtype=bool)
        if not len(fingerprints):
            return seen
        unique, first = np.unique(fingerprints, return_index=True)
        before = np.zeros(len(unique), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, unique)
            at[at == len(run)] = len(run) - 1
            before |= run[at] == unique
        seen[first[~before]] = False
        new = unique[~before]
        if len(new):
            self._runs.append(new)
            self._merge()
        return seen

    def contains(self, fingerprints: np.ndarray) -> np.ndarray:
        """For each fingerprint: is it in the set? (The set does not change.)"""
        fingerprints = np.asarray(fingerprints, dtype=np.uint64)
        found = np.zeros(len(fingerprints), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, fingerprints)
            at[at == len(run)] = len(run) - 1
            found |= run[at] == fingerprints
        return found

    def _merge(self) -> None:
        runs = self._runs
        while (
            len(runs) > 1
            and len(runs[-2]) <= MERGE_FACTOR * len(runs[-1])
            and len(runs[-2]) + len(runs[-1]) <= MAX_RUN
        ):
            last = runs.pop()
            runs.append(merge_sorted(runs.pop(), last)[0])


class KeyedFingerprints:
    """Key fingerprint -> a 32-bit check of the first row with that key (tables with a key).

    One lookup answers both questions a keyed table asks: is this row an exact duplicate (same
    key, same row) or a key conflict (same key, different row)? 12 bytes per distinct key. A
    conflicting row passes for an exact duplicate only if its 32-bit check collides with the
    first row's (probability 2**-32 per conflicting row).
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._runs)

    @property
    def nbytes(self) -> int:
        return sum(keys.nbytes + values.nbytes for keys, values in self._runs)

    def lookup_then_add(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row: (key seen before?, is the row identical to the key's first row?).

        ``rows`` are 64-bit row fingerprints; the first row of each new key is remembered.
        """
        keys = np.asarray(keys, dtype=np.uint64)
        rows = (np.asarray(rows, dtype=np.uint64) >> np.uint64(32)).astype(np.uint32)
        seen = np.ones(len(keys), dtype=bool)
        if not len(keys):
            return seen, rows.copy()
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        found = np.zeros(len(unique), dtype=bool)
        stored = rows[first]
        for run_keys, run_rows in self._runs:
            at = np.searchsorted(run_keys, unique)
            at[at == len(run_keys)] = len(run_keys) - 1
            hit = run_keys[at] == unique
            found |= hit
            stored[hit] = run_rows[at[hit]]
        seen[first[~found]] = False
        if (~found).any():
            self._runs.append((unique[~found], rows[first[~found]]))
            self._merge()
        return seen, stored[inverse] == rows

    def lookup(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (key in the set?, same row as the key's first?); the set is unchanged."""
        keys = np.asarray(keys, dtype=np.uint64)
        rows = (np.asarray(rows, dtype=np.uint64) >> np.uint64(32)).astype(np.uint32)
        found = np.zeros(len(keys), dtype=bool)
        same = np.zeros(len(keys), dtype=bool)
        for run_keys, run_rows in self._runs:
            at = np.searchsorted(run_keys, keys)
            at[at == len(run_keys)] = len(run_keys) - 1
            hit = run_keys[at] == keys
            found |= hit
            same[hit] = run_rows[at[hit]] == rows[hit]
        return found, same

    def _merge(self) -> None:
        runs = self._runs
        while (
            len(runs) > 1
            and len(runs[-2][0]) <= MERGE_FACTOR * len(runs[-1][0])
            and len(runs[-2][0]) + len(runs[-1][0]) <= MAX_RUN
        ):
            k2, v2 = runs.pop()
            k1, v1 = runs.pop()
            runs.append(merge_sorted(k1, k2, v1, v2))


class Partitioned:
    """Splits fingerprints by their top bits over independent sets: each set stays small enough
    for its binary searches to hit the CPU cache (a search in one 12-million-entry array
    misses the cache at almost every step). Same answers as one big set."""

    def __init__(self, factory: type, bits: int = 6) -> None:
        self.parts = [factory() for _ in range(1 << bits)]
        self._shift = np.uint64(64 - bits)

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.parts)

    def _split(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        part = (keys >> self._shift).astype(np.uint8)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(len(self.parts) + 1))
        return order, bounds

    def seen_then_add(self, fingerprints: np.ndarray) -> np.ndarray:
        fingerprints = np.asarray(fingerprints, dtype=np.uint64)
        order, bounds = self._split(fingerprints)
        seen = np.empty(len(fingerprints), dtype=bool)
        for i, part in enumerate(self.parts):
            rows = order[bounds[i] : bounds[i + 1]]
            if len(rows):
                seen[rows] = part.seen_then_add(fingerprints[rows])
        return seen

    def contains(self, fingerprints: np.ndarray) -> np.ndarray:
        fingerprints = np.asarray(fingerprints, dtype=np.uint64)
        order, bounds = self._split(fingerprints)
        found = np.zeros(len(fingerprints), dtype=bool)
        for i, part in enumerate(self.parts):
            rows = order[bounds[i] : bounds[i + 1]]
            if len(rows):
                found[rows] = part.contains(fingerprints[rows])
        return found

    def lookup(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._per_partition("lookup", keys, rows)

    def lookup_then_add(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._per_partition("lookup_then_add", keys, rows)

    def _per_partition(
        self, method: str, keys: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Call ``method`` of each partition on its share of (keys, rows); gather both results."""
        keys = np.asarray(keys, dtype=np.uint64)
        rows = np.asarray(rows, dtype=np.uint64)
        order, bounds = self._split(keys)
        first = np.zeros(len(keys), dtype=bool)
        second = np.zeros(len(keys), dtype=bool)
        for i, part in enumerate(self.parts):
            at = order[bounds[i] : bounds[i + 1]]
            if len(at):
                first[at], second[at] = getattr(part, method)(keys[at], rows[at])
        return first, second


# ---------------------------------------------------------------------------------------------
# Bounded memory for any input size: in memory up to a budget, then hash-partitioned on disk
# ---------------------------------------------------------------------------------------------

#: Default bytes of fingerprints one deduplicator keeps in memory before it spills to disk.
#: 96 MiB keeps a ~1 GB CSV (about 8 M distinct rows) on the fast path at 476 MB peak; past it
#: the spill path holds memory flat (measured: 392-400 MB at 32 MiB) at about 0.46x DuckDB.
MEMORY_BUDGET = 96 << 20
#: Spilled fingerprints (24 bytes a row) buffered before they are split over the partitions.
SPILL_FLUSH_BYTES = 8 << 20
#: Aim for partition files of about this many bytes: one is read back whole and sorted.
PARTITION_BYTES = 16 << 20
#: Partitions a spill uses at least and at most (each is one open file while spilling).
MIN_PARTITIONS, MAX_PARTITIONS = 8, 1024
#: Bytes of fingerprints per input byte, about (24 bytes per spilled row; CSV rows >= 24 bytes).
FINGERPRINT_EXPANSION = 1.0
LINE, ROW_FP, KEY_FP = "__line", "__row_fp", "__key_fp"


def spill_partitions(input_bytes: int) -> int:
    """Partition files for a spill of an input of ``input_bytes``."""
    wanted = int(input_bytes * FINGERPRINT_EXPANSION) // PARTITION_BYTES + 1
    return max(MIN_PARTITIONS, min(MAX_PARTITIONS, wanted))


class SpillLog:
    """An append-only Arrow IPC file of record batches, read back in order once.

    Uncompressed and in input order: an append is about a memcpy into the page cache, and the
    read back at the end is one sequential scan.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None

    def append(self, batch: pa.RecordBatch | pa.Table) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pa.ipc.new_stream(str(self.path), batch.schema)
        if isinstance(batch, pa.Table):
            self._writer.write_table(batch)
        else:
            self._writer.write_batch(batch)

    def scan(self) -> Iterator[pa.RecordBatch]:
        """The batches, in the order appended; the file is deleted once read."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        # A plain file, not a memory map (what ``open_stream(path)`` uses): mapped pages a scan
        # touched count in the process's RSS until the map closes, so RSS grew with the log.
        with pa.OSFile(str(self.path)) as source, pa.ipc.open_stream(source) as reader:
            yield from reader
        self.path.unlink()

    def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self.path.unlink(missing_ok=True)


class BoundedDedup:
    """Exact first-occurrence deduplication by 64-bit fingerprint, in bounded memory.

    While its fingerprints fit ``budget`` bytes it answers per batch, in memory (the fast path:
    :class:`Partitioned` sets). Past the budget the set is frozen: a later row whose fingerprint
    (or key) is in it is still answered at once, because its first occurrence is an earlier,
    already kept row. Every other row is *spilled* (:meth:`spill`):

    * its line number and fingerprints (24 bytes) go to one of ``partitions`` Arrow files chosen
      by fingerprint bits, so all copies of a row (or key) share a file;
    * its payload (the cleaned columns) goes to one log, in input order.

    :meth:`drain` then deduplicates each partition file on its own with the same rule (lowest
    line number wins), marks the losing line numbers in a bitmap, and scans the log once,
    yielding the payload rows that survive, *in input order*. Same answers as the in-memory
    path, and the same output order; memory is one partition file plus the bitmap (one bit per
    line spilled: 16 MB for a 130-million-row file).

    With ``keyed``, rows are grouped by key fingerprint: a later row with the same key is a
    duplicate when its 32-bit row check equals the first row's, a key conflict otherwise (as
    :class:`KeyedFingerprints`); conflicts end in :attr:`conflict_lines`.
    """

    def __init__(
        self, keyed: bool, budget: int, spill_dir: Path, partitions: int = MIN_PARTITIONS
    ) -> None:
        self.keyed = keyed
        self.budget = budget
        self.spill_dir = spill_dir
        self.partitions = partitions
        self.memory = Partitioned(KeyedFingerprints if keyed else FingerprintSet)
        self.spilling = False
        self.spilled_rows = 0
        #: Filled by :meth:`drain`: duplicates found among spilled rows, and key conflicts.
        self.duplicates = 0
        self.conflict_lines = np.empty(0, dtype=np.int64)
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
        self._schema: pa.Schema | None = None
        self._log = SpillLog(spill_dir / "payload.arrow")
        self._first_line: int | None = None
        self._last_line = 0

    @property
    def nbytes(self) -> int:
        return self.memory.nbytes

    def check(
        self, row_fp: np.ndarray, key_fp: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks (duplicate, key conflict, to spill) for one batch's rows, in input order."""
        n = len(row_fp)
        none = np.zeros(n, dtype=bool)
        if not self.spilling:
            if self.keyed:
                seen, same = self.memory.lookup_then_add(key_fp, row_fp)
                duplicate, conflict = seen & same, seen & ~same
            else:
                duplicate, conflict = self.memory.seen_then_add(row_fp), none
            if self.memory.nbytes > self.budget:
                self.spilling = True  # from the next batch on: the set is full, never grows
            return duplicate, conflict, none
        if self.keyed:
            found, same = self.memory.lookup(key_fp, row_fp)
            return found & same, found & ~same, ~found
        found = self.memory.contains(row_fp)
        return found, none, ~found

    def spill(
        self,
        lines: np.ndarray,
        row_fp: np.ndarray,
        key_fp: np.ndarray | None,
        payload: pa.Table,
    ) -> None:
        """Set rows aside for :meth:`drain` (the ones :meth:`check` marked to spill)."""
        if not len(lines):
            return
        lines = np.asarray(lines, dtype=np.int64)
        if self._first_line is None:
            self._first_line = int(lines[0])
        self._last_line = int(lines[-1])
        columns = {LINE: pa.array(lines), ROW_FP: pa.array(row_fp, pa.uint64())}
        if self.keyed:
            columns[KEY_FP] = pa.array(key_fp, pa.uint64())
        fingerprints = pa.table(columns)
        self._buffer.append(fingerprints)
        self._buffered += fingerprints.nbytes
        self._log.append(payload.append_column(LINE, columns[LINE]))
        self.spilled_rows += len(lines)
        if self._buffered >= SPILL_FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        table = pa.concat_tables(self._buffer).combine_chunks()
        self._buffer, self._buffered = [], 0
        # Low bits: the in-memory sets split by the top bits, so these are independent of them.
        fp = table.column(KEY_FP if self.keyed else ROW_FP).to_numpy()
        part = (fp % np.uint64(self.partitions)).astype(np.int64)
        order = np.argsort(part, kind="stable")  # stable: lines stay increasing in each file
        bounds = np.searchsorted(part[order], np.arange(self.partitions + 1))
        table = table.take(pa.array(order))
        if self._schema is None:
            self._schema = table.schema
            self.spill_dir.mkdir(parents=True, exist_ok=True)
        for p in range(self.partitions):
            lo, hi = int(bounds[p]), int(bounds[p + 1])
            if lo == hi:
                continue
            writer = self._writers.get(p)
            if writer is None:
                path = self.spill_dir / f"part-{p:04d}.arrow"
                writer = pa.ipc.new_stream(str(path), self._schema)
                self._writers[p] = writer
            writer.write_table(table.slice(lo, hi - lo))

    def drain(self) -> Iterator[pa.Table]:
        """The spilled payload rows that survive deduplication, in input order.

        Partition files are deduplicated one at a time (and deleted), then the payload log is
        scanned once; :attr:`duplicates` and :attr:`conflict_lines` are set on the way.
        """
        if self._first_line is None:
            return
        self._flush()
        for writer in self._writers.values():
            writer.close()
        first = self._first_line
        dropped = np.zeros((self._last_line - first) // 8 + 1, dtype=np.uint8)
        conflicts = []
        for p in sorted(self._writers):
            path = self.spill_dir / f"part-{p:04d}.arrow"
            with pa.OSFile(str(path)) as source, pa.ipc.open_stream(source) as reader:
                table = reader.read_all().combine_chunks()
            path.unlink()
            drop, conflict = self._losers(table)
            at = table.column(LINE).to_numpy()[drop] - first
            np.bitwise_or.at(dropped, at >> 3, (1 << (at & 7)).astype(np.uint8))
            conflicts.append(table.column(LINE).to_numpy()[conflict])
            self.duplicates += int(drop.sum() - conflict.sum())
        self._writers.clear()
        self.conflict_lines = np.sort(np.concatenate(conflicts))
        for batch in self._log.scan():
            at = batch.column(LINE).to_numpy() - first
            lost = (dropped[at >> 3] >> (at & 7).astype(np.uint8)) & 1
            keep = pa.array(lost == 0)
            yield pa.Table.from_batches([batch.filter(keep)]).drop_columns([LINE])

    def _losers(self, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """Masks over one partition's rows: (not the first of its group, key conflict)."""
        group = table.column(KEY_FP if self.keyed else ROW_FP).to_numpy()
        # Rows were spilled in input order, so a stable sort by fingerprint puts each group's
        # lowest line first: the occurrence the in-memory path would have kept.
        order = np.argsort(group, kind="stable")
        grouped = group[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = grouped[1:] != grouped[:-1]
        drop = np.zeros(len(order), dtype=bool)
        drop[order] = ~first
        conflict = np.zeros(len(order), dtype=bool)
        if self.keyed:
            check = table.column(ROW_FP).to_numpy()[order] >> np.uint64(32)
            head = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
            conflict[order] = ~first & (check != check[head])
        return drop, conflict

    def close(self) -> None:
        """Close and delete the spill files (on success and on failure alike)."""
        for writer in self._writers.values():
            with contextlib.suppress(Exception):
                writer.close()
        self._writers.clear()
        self._buffer.clear()
        self._log.close()
        shutil.rmtree(self.spill_dir, ignore_errors=True)
