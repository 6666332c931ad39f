"""Folding per-record states into the counts of records and the residents with archives.

`fold_records` takes every state of each record it is given (a bucket, or all) and applies the
contract's rule (docs/contract.md § 4.3) through `RecordState`: a record is counted once, real-time
by its earliest upload, valid (and, for an archive form, its resident counted) by its latest.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .delays import DELAY_BUCKETS
from .forms import FORM_IDS
from .metrics import Counts, FormCounts, RecordState, add_counts, repeated_keys
from .residents import Residents


class Folded:
    """What folding some buckets gives: record counts per (org index, form index) and the
    distinct residents; `add` puts another bucket's in. The buckets' resident sets are joined
    once, when `residents` is first read (one sort, not one per bucket)."""

    def __init__(self, counts: Counts | None = None, residents: Residents | None = None):
        self.counts: Counts = counts if counts is not None else {}
        self._parts: list[Residents] = [residents] if residents is not None else []

    @property
    def residents(self) -> Residents:
        if len(self._parts) != 1:
            self._parts = [Residents.empty().union(*self._parts)]
        return self._parts[0]

    @residents.setter
    def residents(self, value: Residents) -> None:
        self._parts = [value]

    def add(self, other: Folded) -> None:
        add_counts(self.counts, other.counts)
        self._parts += [part for part in other._parts if len(part)]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Folded)
            and self.counts == other.counts
            and self.residents == other.residents
        )


def fold_records(states: Iterable[RecordState]) -> Folded:
    """(org index, form index) -> records, valid and real-time records, after folding every
    correction, and the residents of the valid archive records: `states` must hold every state of
    each record they hold (a bucket, or all).

    Memory: the states are never copied whole; one uint64 per entry finds the repeated records,
    only those are gathered and folded, and the rest are counted where they lie."""
    states = [s for s in states if len(s)]
    if not states:
        return Folded()
    width = len(FORM_IDS)
    size = (max(int(s.org.max()) for s in states) + 1) * width
    sums = np.zeros((3, size), dtype=np.int64)  # records, valid, realtime per org * width + form
    slots = len(DELAY_BUCKETS) + 1  # NO_DELAY, then the buckets
    delays = np.zeros(size * slots, dtype=np.int64)
    residents: list[Residents] = []

    def count(state: RecordState, keep: np.ndarray | None = None) -> None:
        def column(name: str) -> np.ndarray:
            values = state.columns[name]
            return values if keep is None else values[keep]

        org, form, valid = column("org"), column("form"), column("last_valid")
        code = org.astype(np.int64) * width + form
        realtime = column("first_realtime") & valid
        delays[:] += np.bincount(code * slots + column("first_delay") + 1, minlength=size * slots)
        sums[0] += np.bincount(code, minlength=size)
        sums[1] += np.bincount(code, weights=valid, minlength=size).astype(np.int64)
        sums[2] += np.bincount(code, weights=realtime, minlength=size).astype(np.int64)
        residents.append(Residents.of(org[valid], form[valid], column("resident")[valid]))

    repeated = repeated_keys(np.concatenate([s.mixed_keys() for s in states]))
    folded: list[RecordState] = []
    start = 0
    for state in states:
        mask = repeated[start : start + len(state)]
        start += len(state)
        if mask.any():
            folded.append(state.take(np.flatnonzero(mask)))
            count(state, np.flatnonzero(~mask))
        else:
            count(state)
    if folded:
        count(RecordState.concat(folded)._reduce_sorted())
    per_bucket = delays.reshape(size, slots)[:, 1:]
    counts = {
        divmod(int(code), width): FormCounts(
            0,
            int(sums[0, code]),
            int(sums[1, code]),
            int(sums[2, code]),
            tuple(int(n) for n in per_bucket[code]),
        )
        for code in np.flatnonzero(sums[0])
    }
    return Folded(counts, Residents.empty().union(*residents))
