"""Pure, mergeable reductions: judged rows -> per-record state -> per-institution, per-form counts.

The shape lets a file be streamed in chunks (or a batch be split over a cluster): each chunk gives a
`Partial` (row counts, upload days, one `RecordState` row per data row), partials merge by
concatenation, and `RecordState.reduce` folds corrections (several rows of one record) with the
contract's rule (docs/contract.md § 4.3): the earliest upload decides real-time, the latest upload
(ties: the later row in file order) decides validity. Reducing early or late gives the same result,
so chunk size never matters.

A record is keyed by (institution, form, 64-bit hash of record_id). Two different record_ids of the
same institution and form collide with probability about n^2 / 2^65: 1.5e-3 for the largest
hospital's whole year (234 million rows), which the README states.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .arrays import arrow_text
from .forms import FORM_IDS
from .hashing import text_hashes
from .reading import ReadFindings

# NaT as int64: a missing upload time. For "latest" it sorts before every known one.
NAT = np.iinfo(np.int64).min
EARLIEST_NEVER = np.iinfo(np.int64).max  # for "earliest", it sorts after every known one
NS_PER_DAY = 86_400 * 10**9
_DAY_BITS = 24  # an upload-day code is org * 2^24 + (days since 1970 + _DAY_SHIFT)
_DAY_SHIFT = 1 << 23

# Delay buckets of contract § 4.9: bucket i (after `negative`) starts at DELAY_EDGES[i - 1]
# seconds and ends before DELAY_EDGES[i]; half-open, the last unbounded.
DELAY_BUCKETS = ("negative", "under_1h", "1h_to_6h", "6h_to_24h", "1d_to_2d", "2d_to_7d", "over_7d")
DELAY_EDGES = (0, 3600, 21600, 86400, 172800, 604800)
NO_DELAY = -1  # a record whose earliest upload lacks a time: in no bucket


@dataclass
class RecordState:
    """One entry per row or per record; arrays of equal length."""

    org: np.ndarray  # int32 index into the institution dictionary
    form: np.ndarray  # int16 index into FORM_IDS (+ 1000 for a row without record_id)
    key: np.ndarray  # uint64 record_id hash, or the row's order when record_id is missing
    first_upload: np.ndarray  # int64 ns of the earliest known upload (EARLIEST_NEVER if none)
    first_order: np.ndarray  # int64 row order of that upload
    first_realtime: np.ndarray  # bool: that upload was within the window
    last_upload: np.ndarray  # int64 ns of the latest upload (NAT if none)
    last_order: np.ndarray  # int64 row order of that upload
    last_valid: np.ndarray  # bool: that upload was a valid row
    first_delay: np.ndarray  # int8 delay bucket of the earliest upload (NO_DELAY: none)

    def __len__(self) -> int:
        return len(self.org)

    @classmethod
    def empty(cls) -> RecordState:
        dtypes = (np.int32, np.int16, np.uint64, np.int64, np.int64, bool, np.int64, np.int64, bool,
                  np.int8)  # fmt: skip
        return cls(*(np.zeros(0, dtype=d) for d in dtypes))

    @classmethod
    def concat(cls, states: list[RecordState]) -> RecordState:
        if not states:
            return cls.empty()
        if len(states) == 1:
            return states[0]
        return cls(*(np.concatenate([getattr(s, f.name) for s in states]) for f in fields(cls)))

    def take(self, index: np.ndarray) -> RecordState:
        return RecordState(*(getattr(self, f.name)[index] for f in fields(self)))

    def mixed_keys(self) -> np.ndarray:
        """One uint64 per entry, equal for entries of the same record (and, rarely, for others:
        it only picks the candidates that `_reduce_sorted` then compares exactly)."""
        return (
            self.key
            ^ (self.org.astype(np.uint64) << np.uint64(40))
            ^ (self.form.astype(np.uint64) << np.uint64(20))
        )

    def reduce(self) -> RecordState:
        """One entry per record. Only entries whose record appears more than once are sorted."""
        if len(self) == 0:
            return self
        repeated = repeated_keys(self.mixed_keys())
        if not repeated.any():
            return self
        single = self.take(np.flatnonzero(~repeated))
        multi = self.take(np.flatnonzero(repeated))
        return RecordState.concat([single, multi._reduce_sorted()])

    def _reduce_sorted(self) -> RecordState:
        order = np.lexsort((self.last_order, self.last_upload, self.key, self.form, self.org))
        s = self.take(order)
        new_group = np.ones(len(s), dtype=bool)
        new_group[1:] = (
            (s.org[1:] != s.org[:-1]) | (s.form[1:] != s.form[:-1]) | (s.key[1:] != s.key[:-1])
        )
        starts = np.flatnonzero(new_group)
        ends = np.append(starts[1:], len(s)) - 1
        group = np.cumsum(new_group) - 1
        # earliest: smallest (first_upload, first_order) within each group
        early = np.lexsort((s.first_order, s.first_upload, group))
        early_first = early[np.flatnonzero(np.r_[True, group[early][1:] != group[early][:-1]])]
        return RecordState(
            org=s.org[starts],
            form=s.form[starts],
            key=s.key[starts],
            first_upload=s.first_upload[early_first],
            first_order=s.first_order[early_first],
            first_realtime=s.first_realtime[early_first],
            last_upload=s.last_upload[ends],
            last_order=s.last_order[ends],
            last_valid=s.last_valid[ends],
            first_delay=s.first_delay[early_first],
        )


def repeated_keys(keys: np.ndarray) -> np.ndarray:
    """Which entries share their key with another entry: `duplicated(keep=False)` without hashing
    every key (which grows faster than the data); one sort finds the repeated values, then only
    membership in those is asked."""
    ordered = np.sort(keys)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(len(keys), dtype=bool)
    return pd.Series(keys).isin(np.unique(ordered[1:][same])).to_numpy()


# (org index, form id, column, check) -> failing rows
CheckCounts = dict[tuple[int, str, str, str], int]


@dataclass
class Partial:
    """Everything the audit keeps from some rows; merges with `merge`."""

    rows: dict[tuple[int, int], int] = field(default_factory=dict)  # (org, form) -> rows
    days: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )  # distinct day_codes(org, day)
    day_rows: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )  # rows uploaded on each of `days`
    states: list[RecordState] = field(default_factory=list)
    check_failures: CheckCounts = field(default_factory=dict)
    min_day: int | None = None
    max_day: int | None = None

    def merge(self, other: Partial) -> None:
        for row_key, count in other.rows.items():
            self.rows[row_key] = self.rows.get(row_key, 0) + count
        for check_key, count in other.check_failures.items():
            self.check_failures[check_key] = self.check_failures.get(check_key, 0) + count
        self.days, self.day_rows = summed_codes(
            np.concatenate([self.days, other.days]),
            np.concatenate([self.day_rows, other.day_rows]),
        )
        self.states.extend(other.states)
        for attr, pick in (("min_day", min), ("max_day", max)):
            ours, theirs = getattr(self, attr), getattr(other, attr)
            setattr(
                self,
                attr,
                theirs if ours is None else ours if theirs is None else pick(ours, theirs),
            )

    def remapped(self, lookup: np.ndarray) -> Partial:
        """The partial with institution index i renamed lookup[i] (to merge partials made with
        dictionaries of their own)."""
        orgs, days = split_day_codes(self.days)
        codes, day_rows = summed_codes(day_codes(lookup[orgs], days), self.day_rows)
        return Partial(
            rows={(int(lookup[org]), form): count for (org, form), count in self.rows.items()},
            days=codes,
            day_rows=day_rows,
            states=[replace(state, org=lookup[state.org]) for state in self.states],
            check_failures={
                (int(lookup[org]), form, column, check): n
                for (org, form, column, check), n in self.check_failures.items()
            },
            min_day=self.min_day,
            max_day=self.max_day,
        )

    def compact(self) -> None:
        """Fold corrections now, to keep memory in step with records rather than rows."""
        self.states = [RecordState.concat(self.states).reduce()]


def summed_codes(codes: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes (unsorted: a hash is cheaper than a sort) and each one's summed count."""
    if len(codes) == 0:
        return codes.astype(np.int64), counts.astype(np.int64)
    index, distinct = pd.factorize(codes)
    summed = np.bincount(index, weights=counts, minlength=len(distinct))  # exact below 2^53
    return np.asarray(distinct, dtype=np.int64), summed.astype(np.int64)


def delay_buckets(event: np.ndarray, upload: np.ndarray) -> np.ndarray:
    """Each row's delay bucket (an index into DELAY_BUCKETS, int8), NO_DELAY where a time is
    missing (int64 ns, NAT when missing)."""
    known = (event != NAT) & (upload != NAT)
    delay = upload - np.where(known, event, upload)
    edges = np.asarray(DELAY_EDGES, dtype=np.int64) * 10**9
    bucket = np.searchsorted(edges, delay, side="right")
    return np.where(known, bucket, NO_DELAY).astype(np.int8)


def realtime_rows(event: np.ndarray, upload: np.ndarray, window_seconds: int) -> np.ndarray:
    """0 <= upload - event <= window, where both times are known (int64 ns, NAT when missing)."""
    known = (event != NAT) & (upload != NAT)
    delay = upload - np.where(known, event, upload)
    return known & (delay >= 0) & (delay <= np.int64(window_seconds) * 10**9)


def row_partial(
    org: np.ndarray,
    form: int,
    record_id: pd.Series,
    event: np.ndarray,
    upload: np.ndarray,
    valid: np.ndarray,
    order_start: int,
    window_seconds: int,
) -> Partial:
    """The partial of some judged rows of one form. `org` holds institution indexes (int32);
    `event`/`upload` are local times as int64 ns (NAT when unreadable)."""
    n = len(org)
    order = np.arange(order_start, order_start + n, dtype=np.int64)
    has_id = record_id.notna().to_numpy()
    hashed = text_hashes(arrow_text(record_id))
    key = np.where(has_id, hashed, order.astype(np.uint64))
    forms = np.where(has_id, form, form + 1000).astype(np.int16)
    rt = realtime_rows(event, upload, window_seconds)
    known = upload != NAT
    state = RecordState(
        org=org.astype(np.int32),
        form=forms,
        key=key.astype(np.uint64),
        first_upload=np.where(known, upload, EARLIEST_NEVER),
        first_order=order,
        first_realtime=rt,
        last_upload=upload,
        last_order=order,
        last_valid=valid.astype(bool),
        first_delay=delay_buckets(event, upload),
    )
    counts = np.bincount(org, minlength=0) if n else np.zeros(0, dtype=np.int64)
    rows = {(int(o), form): int(c) for o, c in enumerate(counts) if c}
    day = upload[known] // NS_PER_DAY
    codes, day_rows = summed_codes(day_codes(org[known], day), np.ones(len(day), dtype=np.int64))
    partial = Partial(rows=rows, days=codes, day_rows=day_rows, states=[state])
    if len(day):
        partial.min_day, partial.max_day = int(day.min()), int(day.max())
    return partial


@dataclass(frozen=True)
class FormCounts:
    rows: int = 0
    records: int = 0
    valid_records: int = 0
    realtime_records: int = 0

    @property
    def rate(self) -> float | None:
        return self.realtime_records / self.records if self.records else None

    def __add__(self, other: FormCounts) -> FormCounts:
        return FormCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


Delays = dict[tuple[int, str], tuple[int, ...]]  # (org index, form id) -> records per bucket


def form_counts(partial: Partial) -> tuple[dict[tuple[int, str], FormCounts], Delays]:
    """(org index, form id) -> counts, and -> records per delay bucket, after folding every
    correction.

    Memory: the states are never copied whole; one uint64 per entry finds the repeated records,
    only those are gathered and folded, and the rest are counted where they lie."""
    states = [s for s in partial.states if len(s)]
    width = len(FORM_IDS)
    size = (max((int(s.org.max()) for s in states), default=-1) + 1) * width
    sums = np.zeros((3, size), dtype=np.int64)  # records, valid, realtime per org * width + form
    slots = len(DELAY_BUCKETS) + 1  # NO_DELAY, then the buckets
    delays = np.zeros(size * slots, dtype=np.int64)

    def count(state: RecordState, keep: np.ndarray | None = None) -> None:
        code = state.org.astype(np.int64) * width + state.form % 1000
        valid = state.last_valid
        realtime = state.first_realtime & valid
        bucket = state.first_delay
        if keep is not None:
            code, valid, realtime, bucket = code[keep], valid[keep], realtime[keep], bucket[keep]
        delays[:] += np.bincount(code * slots + bucket + 1, minlength=size * slots)
        sums[0] += np.bincount(code, minlength=size)
        sums[1] += np.bincount(code, weights=valid, minlength=size).astype(np.int64)
        sums[2] += np.bincount(code, weights=realtime, minlength=size).astype(np.int64)

    repeated = repeated_keys(np.concatenate([s.mixed_keys() for s in states])) if states else None
    folded: list[RecordState] = []
    start = 0
    for state in states:
        mask = repeated[start : start + len(state)]  # type: ignore[index]
        start += len(state)
        if mask.any():
            folded.append(state.take(np.flatnonzero(mask)))
            count(state, ~mask)
        else:
            count(state)
    if folded:
        count(RecordState.concat(folded)._reduce_sorted())
    result: dict[tuple[int, str], FormCounts] = {}
    per_bucket = delays.reshape(size, slots)[:, 1:]
    delay_counts: Delays = {}
    for code in np.flatnonzero(sums[0]):
        org, form = divmod(int(code), width)
        result[(org, FORM_IDS[form])] = FormCounts(
            0, int(sums[0, code]), int(sums[1, code]), int(sums[2, code])
        )
        delay_counts[(org, FORM_IDS[form])] = tuple(int(n) for n in per_bucket[code])
    for (org, form), rows in partial.rows.items():
        key = (org, FORM_IDS[form])
        result[key] = FormCounts(rows, 0, 0, 0) + result.get(key, FormCounts())
    return result, delay_counts


def upload_days_by_org(partial: Partial) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """org index -> its sorted distinct upload days (days since 1970), and the rows of each."""
    order = np.argsort(partial.days, kind="stable")
    codes, rows = partial.days[order], partial.day_rows[order]
    orgs, days = split_day_codes(codes)
    return {int(o): (days[orgs == o], rows[orgs == o]) for o in np.unique(orgs)}


def day_codes(org: np.ndarray, day: np.ndarray) -> np.ndarray:
    """(institution index, upload day) pairs as one int64 each (days since 1970)."""
    return (org.astype(np.int64) << _DAY_BITS) | (day + _DAY_SHIFT)


def split_day_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`day_codes` undone: the institution indexes and the days."""
    return codes >> _DAY_BITS, (codes & ((1 << _DAY_BITS) - 1)) - _DAY_SHIFT


@dataclass(frozen=True)
class Tally:
    """What an engine hands back: every correction folded, only counts left. Institution index i
    is `org_codes[i]`."""

    org_codes: tuple[str, ...]
    counts: dict[tuple[int, str], FormCounts]  # (org index, form id) -> counts
    days: dict[int, np.ndarray]  # org index -> sorted distinct upload days (days since 1970)
    day_rows: dict[int, np.ndarray]  # org index -> rows uploaded on each of its `days`
    delays: Delays  # (org index, form id) -> records per delay bucket (contract § 4.9)
    check_failures: CheckCounts  # (org index, form, column, check) -> failing rows
    min_day: int | None
    max_day: int | None
    skipped: tuple[Path, ...] = ()  # inputs whose name names no form
    findings: ReadFindings = ReadFindings()  # files that could not be read, reports left out

    @classmethod
    def of(cls, org_codes: list[str], partial: Partial, skipped: list[Path]) -> Tally:
        """Fold a partial's corrections and count."""
        counts, delays = form_counts(partial)
        days = upload_days_by_org(partial)
        return cls(
            tuple(org_codes),
            counts,
            {org: d for org, (d, _) in days.items()},
            {org: rows for org, (_, rows) in days.items()},
            delays,
            dict(partial.check_failures),
            partial.min_day,
            partial.max_day,
            tuple(skipped),
        )
