"""Which 64-bit row fingerprints has this run already seen? Exact duplicates across a whole file.

:class:`BoundedDedup` (end of the file) bounds this for any input size: in memory up to a
budget, then hash-partitioned spill files on disk, deduplicated one at a time at the end.

In memory the fingerprints live in one open-addressing hash table (:class:`FingerprintTable`):
a prime number of slots, double hashing, at most 80% full, 8 bytes a slot (the fingerprint;
12 with the 32-bit value a keyed table keeps beside it). A batch is looked up and added in a
handful of vectorised rounds: each round every pending row reads one slot, so the cost is a
few random reads a row, with no sort and no merge (the sorted runs this replaced spent most
of their time in binary searches that missed the CPU cache). Two different rows share a
fingerprint with probability about ``n**2 / 2**65`` (1e-5 for 20 million rows); such a pair
would be counted as a duplicate.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

#: The table is grown (or, at the memory budget, declared full) past this share of used slots:
#: with double hashing an absent key then costs about 1 / (1 - 0.8) = 5 reads.
MAX_LOAD = 0.8
#: Bytes per slot: the 64-bit fingerprint, and the 32-bit value of a table that keeps values.
KEY_BYTES, VALUE_BYTES = 8, 4
MIN_SLOTS = 1 << 10
#: Slot content meaning "empty". A fingerprint equal to it is stored as ``_ZERO_STANDIN``
#: (two fingerprints, 0 and the stand-in, then count as equal: a 2**-64 chance per row).
_EMPTY = np.uint64(0)
_ZERO_STANDIN = np.uint64(0x7C3F5A1B9E2D4C61)
_NO_ROW = np.uint64(0xFFFFFFFFFFFFFFFF)


def _next_prime(n: int) -> int:
    """The smallest prime >= ``n`` (a prime table size makes every probe step cover it all)."""
    n = max(n, 3) | 1
    while any(n % d == 0 for d in range(3, int(n**0.5) + 1, 2)):
        n += 2
    return n


def _slots_for(keys: int) -> int:
    return _next_prime(max(MIN_SLOTS, int(keys / MAX_LOAD) + 1))


class FingerprintTable:
    """A growing set of uint64 fingerprints, each with a uint32 value if ``with_values``,
    vectorised per batch.

    :meth:`find` answers for a whole batch at once (in the batch's order) and, asked to, adds
    what it did not find. Repeats inside one batch are answered as a row-by-row loop would: the
    first occurrence is new, the later ones find it. A plain set keeps no values: 8 bytes a
    slot instead of 12, so the same memory holds 1.5 times the rows before anything spills.
    """

    def __init__(self, expected: int = 0, with_values: bool = True) -> None:
        self.slot_bytes = KEY_BYTES + (VALUE_BYTES if with_values else 0)
        self.slots = _slots_for(expected)
        self.keys = np.zeros(self.slots, dtype=np.uint64)
        self.values = np.zeros(self.slots, dtype=np.uint32) if with_values else None
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + (0 if self.values is None else self.values.nbytes)

    @property
    def load(self) -> float:
        return self.count / self.slots

    def reserve(self, more: int, max_bytes: int | None = None) -> None:
        """Make room for ``more`` keys: grow unless that would pass ``max_bytes`` and the keys
        still fit (above :data:`MAX_LOAD`: the caller sees :attr:`load` and stops adding)."""
        need = self.count + more
        if need <= MAX_LOAD * self.slots:
            return
        grown = _slots_for(max(need, 2 * self.count))
        if (
            max_bytes is not None
            and grown * self.slot_bytes > max_bytes
            and need < 0.95 * self.slots
        ):
            return
        live = self.keys != _EMPTY
        keys = self.keys[live]
        values = None if self.values is None else self.values[live]
        self.slots, self.count = grown, 0
        self.keys = np.zeros(grown, dtype=np.uint64)
        if self.values is not None:
            self.values = np.zeros(grown, dtype=np.uint32)
        self.find(keys, values, add=True)

    def find(
        self, keys: np.ndarray, values: np.ndarray | None = None, add: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per key: (in the table before it?, the value stored with it).

        With ``add``, a key not found is added with its ``values`` entry (the caller has
        reserved room); its own answer is then (False, its value). A table without values
        answers 0 for every value.
        """
        keys = np.asarray(keys, dtype=np.uint64)
        if not keys.all():
            keys = np.where(keys == _EMPTY, _ZERO_STANDIN, keys)
        n = len(keys)
        found = np.zeros(n, dtype=bool)
        stored = np.zeros(n, dtype=np.uint32) if values is None else values.astype(np.uint32)
        slots = np.uint64(self.slots)
        # Home slot from the high half (multiply-shift), step from the low half (computed for
        # the few rows that need a second read): two independent hashes, so keys that share
        # a home part ways at once.
        pos = (((keys >> np.uint64(32)) * slots) >> np.uint64(32)).astype(np.intp)
        step: np.ndarray | None = None
        rows = np.arange(n, dtype=np.intp)
        while len(rows):
            current = self.keys[pos]
            hit = current == keys
            if hit.any():
                found[rows[hit]] = True
                if self.values is not None:
                    stored[rows[hit]] = self.values[pos[hit]]
            stay = None  # rows that re-read the same slot next round
            done = hit
            empty = current == _EMPTY
            if add and empty.any():
                at = np.flatnonzero(empty)
                where = pos[at]
                self.keys[where] = keys[at]
                # Different keys racing for one slot: one of them got it, the others go on.
                mine = self.keys[where] == keys[at]
                at, where = at[mine], where[mine]
                # The same key more than once in this batch: the earliest row claims the slot,
                # the later ones find it next round (as if the rows came one by one). The slots
                # themselves hold the claims for a moment (row numbers, never a fingerprint
                # another round could look for: these slots were empty and only these rows
                # reach them in this round), then get their key back.
                claimant = rows[at].astype(np.uint64)
                self.keys[where] = _NO_ROW
                np.minimum.at(self.keys, where, claimant)
                first = self.keys[where] == claimant
                self.keys[where] = keys[at]
                if self.values is not None:
                    self.values[where[first]] = stored[rows[at[first]]]
                self.count += int(first.sum())
                done = done.copy()
                done[at[first]] = True
                if not first.all():
                    stay = np.zeros(len(rows), dtype=bool)
                    stay[at[~first]] = True
            elif empty.any():
                done = done | empty
            going = ~done
            rows, pos, keys = rows[going], pos[going], keys[going]
            if step is None:
                low = keys & np.uint64(0xFFFFFFFF)
                step = (np.uint64(1) + low % (slots - np.uint64(1))).astype(np.intp)
            else:
                step = step[going]
            moved = pos + step
            if stay is not None:
                moved = np.where(stay[going], pos, moved)
            pos = np.where(moved >= self.slots, moved - self.slots, moved)
        return found, stored


class FingerprintSet:
    """A growing set of uint64 fingerprints with a vectorised 'seen before?' test."""

    def __init__(self, expected: int = 0) -> None:
        self.table = FingerprintTable(expected, with_values=False)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    def seen_then_add(self, fingerprints: np.ndarray, max_bytes: int | None = None) -> np.ndarray:
        """For each fingerprint: True if it was seen before (earlier batch or earlier in this one).

        All of them are in the set afterwards.
        """
        self.table.reserve(len(fingerprints), max_bytes)
        return self.table.find(fingerprints, add=True)[0]

    def contains(self, fingerprints: np.ndarray) -> np.ndarray:
        """For each fingerprint: is it in the set? (The set does not change.)"""
        return self.table.find(fingerprints)[0]


class KeyedFingerprints:
    """Key fingerprint -> a 32-bit check of the first row with that key (tables with a key).

    One lookup answers both questions a keyed table asks: is this row an exact duplicate (same
    key, same row) or a key conflict (same key, different row)? 12 bytes per slot. A
    conflicting row passes for an exact duplicate only if its 32-bit check collides with the
    first row's (probability 2**-32 per conflicting row).
    """

    def __init__(self, expected: int = 0) -> None:
        self.table = FingerprintTable(expected)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    def lookup_then_add(
        self, keys: np.ndarray, rows: np.ndarray, max_bytes: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each row: (key seen before?, is the row identical to the key's first row?).

        ``rows`` are 64-bit row fingerprints; the first row of each new key is remembered.
        """
        check = _row_check(rows)
        self.table.reserve(len(keys), max_bytes)
        seen, stored = self.table.find(keys, check, add=True)
        return seen, stored == check

    def lookup(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (key in the set?, same row as the key's first?); the set is unchanged."""
        check = _row_check(rows)
        found, stored = self.table.find(keys)
        return found, found & (stored == check)


def _row_check(rows: np.ndarray) -> np.ndarray:
    """The 32-bit check of a row fingerprint that a keyed table stores (its high half)."""
    return (np.asarray(rows, dtype=np.uint64) >> np.uint64(32)).astype(np.uint32)


# ---------------------------------------------------------------------------------------------
# Bounded memory for any input size: in memory up to a budget, then hash-partitioned on disk
# ---------------------------------------------------------------------------------------------

#: Default bytes of fingerprints one deduplicator keeps in memory before it spills to disk.
#: 96 MiB of hash table holds 6.7 M keyed rows or 10 M plain ones on the fast path; past it
#: the spill path holds memory flat (measured: 392-400 MB at 32 MiB).
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
    a :class:`FingerprintTable`, sized by :meth:`expect` when the caller can tell). Past the
    budget the set is frozen: a later row whose fingerprint (or key) is in it is still answered
    at once, because its first occurrence is an earlier, already kept row. Every other row is
    *spilled* (:meth:`spill`):

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
        self.memory: KeyedFingerprints | FingerprintSet = (
            KeyedFingerprints() if keyed else FingerprintSet()
        )
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

    def expect(self, rows: int) -> None:
        """Size the table for about ``rows`` distinct rows (within the budget) before the first
        batch: no growth on the way, so no moment with the old and the new table both alive."""
        if len(self.memory) == 0:
            slot_bytes = KEY_BYTES + (VALUE_BYTES if self.keyed else 0)
            # The table's size is rounded up to a prime: leave room for that (prime gaps below
            # 2**32 are under 400 slots), or a table sized to the budget passes it by a few
            # bytes and every row after the first batch spills (seen: 12.95 M of 13.3 M rows)
            most = int(max(0, self.budget // slot_bytes - 1024) * MAX_LOAD)
            expected = max(0, min(rows, most))
            self.memory = KeyedFingerprints(expected) if self.keyed else FingerprintSet(expected)

    def check(
        self, row_fp: np.ndarray, key_fp: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks (duplicate, key conflict, to spill) for one batch's rows, in input order."""
        n = len(row_fp)
        none = np.zeros(n, dtype=bool)
        if not self.spilling:
            if isinstance(self.memory, KeyedFingerprints):
                seen, same = self.memory.lookup_then_add(key_fp, row_fp, self.budget)
                duplicate, conflict = seen & same, seen & ~same
            else:
                duplicate, conflict = self.memory.seen_then_add(row_fp, self.budget), none
            if self.memory.nbytes > self.budget or self.memory.table.load > MAX_LOAD:
                self.spilling = True  # from the next batch on: the set is full, never grows
            return duplicate, conflict, none
        if isinstance(self.memory, KeyedFingerprints):
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
