"""Which 64-bit row fingerprints has this run already seen? Exact duplicates across a whole file.

:class:`BoundedDedup` (end of the file) bounds this for any input size: in memory up to a
budget, then hash-partitioned spill files on disk, deduplicated one at a time at the end.

In memory the fingerprints live in a :class:`BucketTable`: 8 bytes a slot for a plain set and
for a keyed one alike (44 bits of the key beside a 20-bit value; the bucket a key lives in
stands for its top bits), so the same memory holds 1.5 times the keyed rows of the 12-byte
open-addressing :class:`FingerprintTable` it replaced, which now only takes the few keys whose
buckets are full. A batch is looked up and added in one vectorised round, in bucket order: a
cache line a key, no probe chain, no merge. Two different rows share a fingerprint with
probability about ``n**2 / 2**65`` (1e-5 for 20 million rows), and the bucket table confuses
two keys with about ``n * 2**-40`` (1e-5 for 11 million); either would count as a duplicate.
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
#: :class:`BucketTable`: slots a bucket (8 x 8 bytes, one cache line), bits of value a slot
#: keeps beside 44 bits of key, and the top bits of a key that choose its two buckets.
BUCKET_SLOTS, VALUE_BITS, HIGH_BITS = 8, 20, 24
MIN_BUCKETS = 16
#: Keys per slot the buckets are sized for; at this load about OVERFLOW_SHARE of the keys find
#: both their buckets full and go to the side table (measured on random keys: 4.1 %).
PRIMARY_LOAD = 0.9
OVERFLOW_SHARE = 0.05
_SCRAMBLE = 0x9E3779  # odd: multiplying the top 24 bits by it mod 2**24 is a bijection
#: The word stored for a key (not 0: that is the stand-in's) whose 44 bits and value are all 0,
#: which would read as an empty slot: a 2**-64 chance a row, its value then reads as 1.
_ZERO_WORD = np.uint64(1)
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
    """A growing set of uint64 fingerprints, each with a uint32 value, vectorised per batch:
    the side table of a :class:`BucketTable`, for the keys whose buckets are full.

    :meth:`find` answers for a whole batch at once (in the batch's order) and, asked to, adds
    what it did not find. Repeats inside one batch are answered as a row-by-row loop would: the
    first occurrence is new, the later ones find it.
    """

    def __init__(self, expected: int = 0) -> None:
        self.slot_bytes = KEY_BYTES + VALUE_BYTES
        self.slots = _slots_for(expected)
        self.keys = np.zeros(self.slots, dtype=np.uint64)
        self.values = np.zeros(self.slots, dtype=np.uint32)
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.values.nbytes

    @property
    def load(self) -> float:
        return self.count / self.slots

    def grown_bytes(self, more: int) -> int:
        """The bytes the table would take after :meth:`reserve` of ``more`` keys."""
        need = self.count + more
        if need <= MAX_LOAD * self.slots:
            return self.nbytes
        return _slots_for(max(need, 2 * self.count)) * self.slot_bytes

    def reserve(self, more: int) -> None:
        """Make room for ``more`` keys (grow, to twice the keys at least, if that passes
        :data:`MAX_LOAD`)."""
        need = self.count + more
        if need <= MAX_LOAD * self.slots:
            return
        grown = _slots_for(max(need, 2 * self.count))
        live = self.keys != _EMPTY
        keys = self.keys[live]
        values = self.values[live]
        self.slots, self.count = grown, 0
        self.keys = np.zeros(grown, dtype=np.uint64)
        self.values = np.zeros(grown, dtype=np.uint32)
        self.find(keys, values, add=True)

    def find(
        self, keys: np.ndarray, values: np.ndarray | None = None, add: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per key: (in the table before it?, the value stored with it).

        With ``add``, a key not found is added with its ``values`` entry (the caller has
        reserved room); its own answer is then (False, its value). Without ``values``, keys
        added keep 0.
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


class BucketTable:
    """A set of uint64 fingerprints, each with a 20-bit value if ``value_bits``, in 8 bytes a
    slot: the compact table the duplicate check keeps in memory.

    Slots come in buckets of :data:`BUCKET_SLOTS` (one 64-byte cache line). A key may live in
    one of two buckets, both chosen by its top 24 bits; since the bucket is known from those
    bits, a slot needs only the low 44 bits of the key, and the other 20 hold the value (a
    plain set, ``value_bits=0``, keeps the whole key). A key goes to the first of its buckets
    with room; the few whose buckets are both full go to a :class:`FingerprintTable` beside
    it (whole keys, and it grows). Buckets fill front to back and nothing is ever deleted: a
    slot word of 0 means empty (key 0 is stored as ``_ZERO_STANDIN``, as in
    :class:`FingerprintTable`, and a word that would still be 0 as ``_ZERO_WORD``).

    A batch is handled in the order of its first buckets (two 16-bit radix passes), so they
    are read in address order and the new keys that land in one bucket are ranked for its free
    slots. A lookup reads the 8 slots of the first bucket, and the second only where the first
    is full (a key went there only then), in one round, with no probe chain. Two keys pass for
    one only if they share the 44 stored bits and a bucket: about ``2**-44 * 4 / buckets`` a
    pair, so ``n * 2**-40`` over ``n`` keys at the table's load (1e-5 for 11 million keys).

    The buckets are sized once, up front (:data:`PRIMARY_LOAD` of the expected keys); keys
    past that go to the side table, which grows unless that would pass ``max_bytes``: then the
    keys that do not fit are refused (and :attr:`full`), never the budget passed.
    """

    def __init__(self, expected: int = 0, value_bits: int = VALUE_BITS) -> None:
        self.value_bits = value_bits
        self.value_mask = np.uint64((1 << value_bits) - 1)
        self.tag_mask = np.uint64((1 << (64 - value_bits)) - 1)
        self.buckets = self._buckets_for(expected)
        if self.buckets > 1 << HIGH_BITS:
            raise ValueError(f"at most {1 << HIGH_BITS:,} buckets (the keys' top {HIGH_BITS} bits)")
        self.words = _cache_aligned_zeros(self.buckets, BUCKET_SLOTS)
        self.overflow = FingerprintTable(int(expected * OVERFLOW_SHARE))
        self.count = 0
        self._full = False

    @staticmethod
    def _buckets_for(keys: int) -> int:
        return max(MIN_BUCKETS, -(-int(keys / PRIMARY_LOAD) // BUCKET_SLOTS))

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        return self.words.nbytes + self.overflow.nbytes

    @property
    def full(self) -> bool:
        """A key was refused: the side table could not grow within its bytes."""
        return self._full

    @staticmethod
    def bytes_for(keys: int) -> int:
        """The bytes of a table sized for ``keys`` (buckets and the side table's start)."""
        side = _slots_for(int(keys * OVERFLOW_SHARE)) * (KEY_BYTES + VALUE_BYTES)
        return BucketTable._buckets_for(keys) * BUCKET_SLOTS * KEY_BYTES + side

    @staticmethod
    def keys_within(max_bytes: int) -> int:
        """The most keys a table sized up front can expect within ``max_bytes``."""
        low, high = 0, max(0, max_bytes)  # a key takes more than a byte
        while low < high:
            middle = (low + high + 1) // 2
            if BucketTable.bytes_for(middle) <= max_bytes:
                low = middle
            else:
                high = middle - 1
        return low

    def _homes(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each key's two buckets, from its top 24 bits (multiply-shift, and the same after an
        odd multiplier scrambles them: a bijection, so the pair is a function of those bits)."""
        top = keys >> np.uint64(64 - HIGH_BITS)
        n, shift = np.uint64(self.buckets), np.uint64(HIGH_BITS)
        scrambled = (top * np.uint64(_SCRAMBLE)) & np.uint64((1 << HIGH_BITS) - 1)
        return ((top * n) >> shift).astype(np.intp), ((scrambled * n) >> shift).astype(np.intp)

    def _read(self, buckets: np.ndarray, tags: np.ndarray) -> tuple[np.ndarray, ...]:
        """For keys (``tags``) in ``buckets``: (found?, the word found, slots used there)."""
        words = np.take(self.words, buckets, axis=0)  # whole rows: 7x faster than words[...]
        used = words != 0
        hits = ((words >> np.uint64(self.value_bits)) == tags[:, None]) & used
        # 8 booleans are one uint64: non-zero means a hit
        found = hits.view(np.uint64).ravel() != 0
        word = np.zeros(len(buckets), dtype=np.uint64)
        if found.any():
            at = np.flatnonzero(found)
            word[at] = words[at, hits[at].argmax(axis=1)]
        return found, word, _used_slots(used)

    def find(
        self,
        keys: np.ndarray,
        values: np.ndarray | None = None,
        add: bool = False,
        max_bytes: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per key: (in the table before it?, the value stored with it, refused?), as
        :meth:`FingerprintTable.find`; values are kept to their low ``value_bits`` bits.

        With ``add``, keys not found are added; repeats inside the batch are answered as rows
        coming one by one would be (the first is new, the later ones find it). With
        ``max_bytes``, a key that would make the table pass it is *refused* instead (neither
        found nor added; :attr:`full` turns true): the table never outgrows its budget.
        """
        keys = np.asarray(keys, dtype=np.uint64)
        if not keys.all():  # key 0 would be an empty word: the stand-in takes its place
            keys = np.where(keys == _EMPTY, _ZERO_STANDIN, keys)
        n = len(keys)
        found = np.zeros(n, dtype=bool)
        refused = np.zeros(n, dtype=bool)
        stored = np.zeros(n, dtype=np.uint32)
        if values is not None:
            stored[:] = np.asarray(values, dtype=np.uint64) & self.value_mask
        if n == 0:
            return found, stored, refused
        first, second = self._homes(keys)
        order = _bucket_order(first)
        keys, first, second = keys[order], first[order], second[order]
        tags = keys & self.tag_mask
        hit, word, used = self._read(first, tags)
        # A key is in its second bucket only if its first was full when it came, and in the
        # side table only if both were (buckets never empty): look there only for those.
        later = np.flatnonzero(~hit & (used == BUCKET_SLOTS))
        if len(later):
            hit2, word2, used_second = self._read(second[later], tags[later])
            hit[later[hit2]] = True
            word[later[hit2]] = word2[hit2]
            last = later[~hit2 & (used_second == BUCKET_SLOTS)]
            if len(last) and len(self.overflow):
                hit3, value = self.overflow.find(keys[last])
                hit[last[hit3]] = True
                word[last[hit3]] = value[hit3].astype(np.uint64)  # whole value: mask below
        sorted_stored = stored[order]
        sorted_stored[hit] = (word[hit] & self.value_mask).astype(np.uint32)
        if add and not hit.all():  # _add marks in-batch copies in hit and sorted_stored
            refused[order] = self._add(
                keys, tags, first, second, used, hit, sorted_stored, max_bytes
            )
        found[order] = hit
        stored[order] = sorted_stored
        return found, stored, refused

    def _add(
        self,
        keys: np.ndarray,
        tags: np.ndarray,
        first: np.ndarray,
        second: np.ndarray,
        used: np.ndarray,
        found: np.ndarray,
        stored: np.ndarray,
        max_bytes: int | None,
    ) -> np.ndarray:
        """Add the keys (in bucket order, then row order) not ``found``; the later copies of a
        key in the batch are marked found, with the first copy's value. Returns the keys
        refused (no room within ``max_bytes``)."""
        refused = np.zeros(len(keys), dtype=bool)
        new = np.flatnonzero(~found)
        # Copies of a key share its first bucket: look for them only among the keys that share
        # one (few: a batch spreads over many more buckets than it has keys).
        shared = np.zeros(len(new), dtype=bool)
        same = first[new[1:]] == first[new[:-1]]
        shared[1:] |= same
        shared[:-1] |= same
        if shared.any():
            group = new[shared]
            _, head_at, which = np.unique(keys[group], return_index=True, return_inverse=True)
            leader = group[head_at[which]]  # np.unique: the first occurrence in group order
            copies = leader != group
            if copies.any():
                found[group[copies]] = True
                stored[group[copies]] = stored[leader[copies]]
                new = new[~np.isin(new, group[copies])]
        words = (tags[new] << np.uint64(self.value_bits)) | stored[new]
        words[words == 0] = _ZERO_WORD
        placed = self._place(first[new], used[new], words)
        self.count += int(placed.sum())
        new, words = new[~placed], words[~placed]
        if not len(new):
            return refused
        # the first bucket is full for these; count the used slots of their second now (this
        # batch may just have filled some of them as first buckets)
        counts = _used_slots(np.take(self.words, second[new], axis=0) != 0)
        order = np.argsort(second[new], kind="stable")
        new, words, counts = new[order], words[order], counts[order]
        placed = self._place(second[new], counts, words)
        self.count += int(placed.sum())
        new = new[~placed]
        if len(new):  # both buckets full: the side table keeps the whole key
            side = self.overflow
            if max_bytes is None or self.words.nbytes + side.grown_bytes(len(new)) <= max_bytes:
                side.reserve(len(new))
            fit = max(0, int(MAX_LOAD * side.slots) - side.count)
            if len(new) > fit:  # it could not grow within the room: refuse the rest
                refused[new[fit:]] = True
                new = new[:fit]
                self._full = True
            side.find(keys[new], stored[new], add=True)
            self.count += len(new)
        return refused

    def _place(self, buckets: np.ndarray, used: np.ndarray, words: np.ndarray) -> np.ndarray:
        """Write ``words`` (distinct keys, ``buckets`` in order, ``used`` slots there before
        this batch) into the free slots; which fitted."""
        starts = np.ones(len(buckets), dtype=bool)
        starts[1:] = buckets[1:] != buckets[:-1]
        index = np.arange(len(buckets))
        slot = used + index - np.maximum.accumulate(np.where(starts, index, 0))
        fits = slot < BUCKET_SLOTS
        flat = self.words.reshape(-1)  # a view: the table is one C-contiguous block
        flat[buckets[fits] * BUCKET_SLOTS + slot[fits]] = words[fits]
        return fits


class FingerprintSet:
    """A growing set of uint64 fingerprints with a vectorised 'seen before?' test."""

    def __init__(self, expected: int = 0) -> None:
        self.table = BucketTable(expected, value_bits=0)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    def seen_then_add(
        self, fingerprints: np.ndarray, max_bytes: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each fingerprint: (seen before, in an earlier batch or earlier in this one?,
        refused?). All but the refused ones (none without ``max_bytes``) are in the set after.
        """
        seen, _, refused = self.table.find(fingerprints, add=True, max_bytes=max_bytes)
        return seen, refused

    def contains(self, fingerprints: np.ndarray) -> np.ndarray:
        """For each fingerprint: is it in the set? (The set does not change.)"""
        return self.table.find(fingerprints)[0]


class KeyedFingerprints:
    """Key fingerprint -> a 20-bit check of the first row with that key (tables with a key).

    One lookup answers both questions a keyed table asks: is this row an exact duplicate (same
    key, same row) or a key conflict (same key, different row)? 8 bytes a slot. A conflicting
    row passes for an exact duplicate only if its 20-bit check collides with the first row's
    (probability 2**-20, one in a million, per conflicting row).
    """

    def __init__(self, expected: int = 0) -> None:
        self.table = BucketTable(expected)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    def lookup_then_add(
        self, keys: np.ndarray, rows: np.ndarray, max_bytes: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each row: (key seen before?, is the row identical to the key's first row?,
        refused?).

        ``rows`` are 64-bit row fingerprints; the first row of each new key is remembered
        (unless refused: no room within ``max_bytes``).
        """
        check = row_check(rows)
        seen, stored, refused = self.table.find(keys, check, add=True, max_bytes=max_bytes)
        return seen, stored == check, refused

    def lookup(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (key in the set?, same row as the key's first?); the set is unchanged."""
        check = row_check(rows)
        found, stored, _ = self.table.find(keys)
        return found, found & (stored == check)


def _used_slots(used: np.ndarray) -> np.ndarray:
    """Per bucket row of ``used`` booleans (8 a row): how many are set (8 booleans are one
    uint64, and its set bits count them)."""
    return np.bitwise_count(used.view(np.uint64).ravel()).astype(np.intp)


def _cache_aligned_zeros(rows: int, columns: int) -> np.ndarray:
    """A zeroed ``(rows, columns)`` uint64 array starting on a 64-byte boundary: a bucket is
    then one cache line, not two (a large array from malloc starts 16 bytes past a page)."""
    raw = np.zeros(rows * columns + 8, dtype=np.uint64)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip : skip + rows * columns].reshape(rows, columns)


def _bucket_order(buckets: np.ndarray) -> np.ndarray:
    """A stable order of ``buckets`` (below 2**32): two radix passes of NumPy's 16-bit stable
    sort, four times faster than a stable sort of the whole numbers."""
    order = np.argsort((buckets & 0xFFFF).astype(np.uint16), kind="stable")
    high = (buckets[order] >> 16).astype(np.uint16)
    return order[np.argsort(high, kind="stable")]


def row_check(rows: np.ndarray) -> np.ndarray:
    """The 20-bit check of a row fingerprint that a keyed table stores (its top bits); the
    spill path compares the same bits, so both paths call the same rows conflicts."""
    shift = np.uint64(64 - VALUE_BITS)
    return (np.asarray(rows, dtype=np.uint64) >> shift).astype(np.uint32)


# ---------------------------------------------------------------------------------------------
# Bounded memory for any input size: in memory up to a budget, then hash-partitioned on disk
# ---------------------------------------------------------------------------------------------

#: Default bytes of fingerprints one deduplicator keeps in memory before it spills to disk.
#: 128 MiB of bucket table holds 13.7 M rows, keyed or not (the 1 GB repayments file's 13.3 M
#: without a spill); past it the spill path holds memory flat (measured: 392-400 MB at 32 MiB).
MEMORY_BUDGET = 128 << 20
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
            expected = min(max(0, rows), BucketTable.keys_within(self.budget))
            self.memory = KeyedFingerprints(expected) if self.keyed else FingerprintSet(expected)

    def check(
        self, row_fp: np.ndarray, key_fp: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks (duplicate, key conflict, to spill) for one batch's rows, in input order."""
        n = len(row_fp)
        none = np.zeros(n, dtype=bool)
        if not self.spilling:
            # rows refused for want of room are spilled: decided at the end with the rest
            if isinstance(self.memory, KeyedFingerprints):
                seen, same, refused = self.memory.lookup_then_add(key_fp, row_fp, self.budget)
                duplicate, conflict = seen & same, seen & ~same
            else:
                duplicate, refused = self.memory.seen_then_add(row_fp, self.budget)
                conflict = none
            if self.memory.nbytes > self.budget or self.memory.table.full:
                self.spilling = True  # from the next batch on: the set is full, never grows
            return duplicate, conflict, refused
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
            check = row_check(table.column(ROW_FP).to_numpy()[order])
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
