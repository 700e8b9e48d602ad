"""Which 64-bit row fingerprints has this run already seen? Exact duplicates across a whole file.

Memory is 8 bytes per distinct row, kept as a few sorted NumPy runs (a small log-structured
merge): a batch is checked with ``searchsorted`` against each run, then added as a new run; runs
of similar size are merged. Two different rows share a fingerprint with probability about
``n**2 / 2**65`` (1e-5 for 20 million rows); such a pair would be counted as a duplicate.
"""

from __future__ import annotations

import numpy as np

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

    def lookup_then_add(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = np.asarray(keys, dtype=np.uint64)
        rows = np.asarray(rows, dtype=np.uint64)
        order, bounds = self._split(keys)
        seen = np.empty(len(keys), dtype=bool)
        same = np.empty(len(keys), dtype=bool)
        for i, part in enumerate(self.parts):
            at = order[bounds[i] : bounds[i + 1]]
            if len(at):
                seen[at], same[at] = part.lookup_then_add(keys[at], rows[at])
        return seen, same
