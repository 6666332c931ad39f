"""Pure, mergeable reductions: judged rows -> per-record state -> per-institution, per-form counts.

The shape lets a file be streamed in chunks, spilled to disk, kept in a store or split over a
cluster: each chunk gives a `Partial` (row counts, upload days, check failures, and one
`RecordState` entry per row that has a record_id), partials merge by addition and concatenation,
and `RecordState.reduce` folds corrections (several rows of one record) with the contract's rule
(docs/contract.md § 4.3): the earliest upload decides real-time, the latest upload (ties: the later
row in file order) decides validity. Reducing early or late, whole or bucket by bucket, gives the
same result, so chunk size, memory and the number of buckets never matter. A row without record_id
is a record of its own: it is counted at once and keeps no state.

A record is keyed by (institution, form, 64-bit hash of record_id). Two different record_ids of the
same institution and form collide with probability about n^2 / 2^65: 1.5e-3 for the largest
hospital's whole year (234 million rows), which the README states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .arrays import arrow_text
from .days import counted_days, day_codes, split_day_codes, summed_codes, upload_days_by_org
from .delays import (
    DELAY_BUCKETS,  # noqa: F401 - the delay buckets are part of the metrics
    NAT,
    delay_buckets,
    lone_delays,
    realtime_rows,
)
from .forms import FORM_IDS
from .hashing import text_hashes
from .reading import ReadFindings
from .residents import Residents

EARLIEST_NEVER = np.iinfo(np.int64).max  # for "earliest", it sorts after every known one
NS_PER_DAY = 86_400 * 10**9
ROW_BITS = 40  # a row's order is file rank << ROW_BITS | row within the file


# The per-record state, one table for everything that builds, folds, spills or stores states (a
# new fixed-width column is one line here, and its value one line in `row_partial`). The role says
# what a column follows when corrections fold: "key" columns name the record, "first" ones come
# from its earliest upload, "last" ones from its latest.
STATE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("org", "int32", "key"),  # index into the run's (or the store's) institution codes
    ("form", "int16", "key"),  # index into FORM_IDS
    ("key", "uint64", "key"),  # hash of record_id
    ("first_upload", "int64", "first"),  # local ns of the earliest upload (EARLIEST_NEVER: none)
    ("first_order", "int64", "first"),  # its row order
    ("first_realtime", "bool", "first"),  # it was within the window
    ("last_upload", "int64", "last"),  # local ns of the latest upload (NAT: none)
    ("last_order", "int64", "last"),  # its row order
    ("last_valid", "bool", "last"),  # it was a valid row
    ("first_delay", "int8", "first"),  # delay bucket of the earliest upload (NO_DELAY: none)
    ("resident", "uint64", "last"),  # hash of an archive form's id_card (0: none; residents.py)
)
STATE_NAMES = tuple(name for name, _, _ in STATE_COLUMNS)
STATE_DTYPE = np.dtype([(name, dtype) for name, dtype, _ in STATE_COLUMNS])  # packed, one record
STATE_BYTES = STATE_DTYPE.itemsize


class RecordState:
    """One entry per row or per record: the columns of `STATE_COLUMNS`, arrays of equal length,
    read as attributes (`state.org`)."""

    __slots__ = ("columns",)

    def __init__(self, **columns: np.ndarray):
        if set(columns) != set(STATE_NAMES):
            raise TypeError(f"a RecordState has the columns {', '.join(STATE_NAMES)}")
        self.columns = {name: columns[name] for name in STATE_NAMES}

    def __getattr__(self, name: str) -> np.ndarray:
        if name == "columns":  # while unpickling, before the slot is set
            raise AttributeError(name)
        try:
            return self.columns[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt, (self.columns,))

    def __len__(self) -> int:
        return len(self.columns["org"])

    @property
    def nbytes(self) -> int:
        return sum(column.nbytes for column in self.columns.values())

    @classmethod
    def empty(cls) -> RecordState:
        return cls(**{name: np.zeros(0, dtype=dtype) for name, dtype, _ in STATE_COLUMNS})

    @classmethod
    def concat(cls, states: list[RecordState]) -> RecordState:
        if not states:
            return cls.empty()
        if len(states) == 1:
            return states[0]
        return cls(
            **{name: np.concatenate([s.columns[name] for s in states]) for name in STATE_NAMES}
        )

    def take(self, index: np.ndarray | slice) -> RecordState:
        return RecordState(**{name: column[index] for name, column in self.columns.items()})

    def replaced(self, **columns: np.ndarray) -> RecordState:
        return RecordState(**{**self.columns, **columns})

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
        picks = {"key": starts, "first": early_first, "last": ends}
        return RecordState(
            **{name: s.columns[name][picks[role]] for name, _, role in STATE_COLUMNS}
        )


def _rebuilt(columns: dict[str, np.ndarray]) -> RecordState:
    return RecordState(**columns)


def repeated_keys(keys: np.ndarray) -> np.ndarray:
    """Which entries share their key with another entry: `duplicated(keep=False)` without hashing
    every key (which grows faster than the data); one sort finds the repeated values, then only
    membership in those is asked."""
    ordered = np.sort(keys)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(len(keys), dtype=bool)
    return pd.Series(keys).isin(np.unique(ordered[1:][same])).to_numpy()


@dataclass(frozen=True)
class FormCounts:
    rows: int = 0
    records: int = 0
    valid_records: int = 0
    realtime_records: int = 0
    delays: tuple[int, ...] = ()  # records (with a record_id) per delay bucket; () is all 0

    @property
    def rate(self) -> float | None:
        return self.realtime_records / self.records if self.records else None

    def __add__(self, other: FormCounts) -> FormCounts:
        ours, theirs = self.delays, other.delays
        delays = tuple(a + b for a, b in zip(ours, theirs)) if ours and theirs else ours or theirs
        return FormCounts(
            self.rows + other.rows,
            self.records + other.records,
            self.valid_records + other.valid_records,
            self.realtime_records + other.realtime_records,
            delays,
        )


# (org index, form index) -> counts
Counts = dict[tuple[int, int], FormCounts]
# (org index, form id, column, check) -> failing rows
CheckCounts = dict[tuple[int, str, str, str], int]


def add_counts(into: dict, more: dict) -> None:
    """`into += more`, key by key (FormCounts or ints)."""
    for key, value in more.items():
        ours = into.get(key)
        into[key] = value if ours is None else ours + value


@dataclass
class Partial:
    """Everything the audit keeps from some rows; merges with `merge`."""

    counts: Counts = field(default_factory=dict)  # rows, and the records without record_id
    days: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # day_codes
    day_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per day
    states: list[RecordState] = field(default_factory=list)
    check_failures: CheckCounts = field(default_factory=dict)
    min_day: int | None = None
    max_day: int | None = None

    def merge(self, other: Partial) -> None:
        add_counts(self.counts, other.counts)
        add_counts(self.check_failures, other.check_failures)
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
            counts={(int(lookup[org]), form): c for (org, form), c in self.counts.items()},
            days=codes,
            day_rows=day_rows,
            states=[state.replaced(org=lookup[state.org]) for state in self.states],
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


def row_partial(
    org: np.ndarray,
    form: int,
    record_id: pd.Series,
    event: np.ndarray,
    upload: np.ndarray,
    valid: np.ndarray,
    order: np.ndarray,
    window_seconds: int,
    resident: np.ndarray | None = None,
) -> Partial:
    """The partial of some judged rows of one form. `org` holds institution indexes (int32);
    `event`/`upload` are local times as int64 ns (NAT when unreadable); `order` each row's order;
    `resident` the hash of each row's id_card (0: none; None: none in any row)."""
    has_id = record_id.notna().to_numpy()
    rt = realtime_rows(event, upload, window_seconds)
    known = upload != NAT
    valid = valid.astype(bool)
    lone = ~has_id
    bucket = delay_buckets(event, upload)
    counts: Counts = {}
    if len(org):
        size = int(org.max()) + 1
        rows_per_org = np.bincount(org, minlength=size)
        if lone.any():  # rows without record_id: records of their own
            weights = (lone, lone & valid, lone & valid & rt)
            per_org = [rows_per_org, *(np.bincount(org, w, minlength=size) for w in weights)]
        else:
            per_org = [rows_per_org, *[np.zeros(size, dtype=np.int64)] * 3]
        per_delay = lone_delays(org, bucket, lone, size)
        for o in np.flatnonzero(per_org[0]).tolist():
            delays = tuple(int(n) for n in per_delay[o]) if per_delay is not None else ()
            rows, records, valid_records, realtime_records = (int(c[o]) for c in per_org)
            counts[(o, form)] = FormCounts(rows, records, valid_records, realtime_records, delays)
    ids = None if has_id.all() else np.flatnonzero(has_id)
    pick = (lambda a: a) if ids is None else (lambda a: a[ids])
    keys = arrow_text(record_id)
    keys = keys if ids is None else keys.take(pa.array(ids))  # arrow's take: pandas' iloc is slow
    kept_upload = pick(upload)
    state = RecordState(
        org=pick(org).astype(np.int32),
        form=np.full(len(kept_upload), form, dtype=np.int16),
        key=text_hashes(keys),
        first_upload=np.where(kept_upload != NAT, kept_upload, EARLIEST_NEVER),
        first_order=pick(order),
        first_realtime=pick(rt),
        last_upload=kept_upload,
        last_order=pick(order),
        last_valid=pick(valid),
        first_delay=pick(bucket),
        resident=pick(resident) if resident is not None else np.zeros(len(kept_upload), np.uint64),
    )
    day = upload[known] // NS_PER_DAY
    codes, day_rows = counted_days(org[known], day)
    partial = Partial(
        counts=counts, days=codes, day_rows=day_rows, states=[state] if len(state) else []
    )
    if len(day):
        partial.min_day, partial.max_day = int(day.min()), int(day.max())
    return partial


@dataclass(frozen=True)
class Tally:
    """What an engine hands back: every correction folded, only counts left (never a per-record
    state). Institution index i is `org_codes[i]`."""

    org_codes: tuple[str, ...]
    counts: dict[tuple[int, str], FormCounts]  # (org index, form id) -> counts
    days: dict[int, np.ndarray]  # org index -> sorted distinct upload days (days since 1970)
    day_rows: dict[int, np.ndarray]  # org index -> rows uploaded on each of its `days`
    check_failures: CheckCounts  # (org index, form, column, check) -> failing rows
    min_day: int | None
    max_day: int | None
    skipped: tuple[Path, ...] = ()  # inputs whose name names no form
    findings: ReadFindings = ReadFindings()  # files that could not be read, reports left out
    residents: Residents = field(default_factory=Residents.empty)  # of the valid archive records

    @classmethod
    def of(
        cls,
        org_codes: list[str],
        partial: Partial,
        records: Counts,
        skipped: list[Path],
        residents: Residents | None = None,
    ) -> Tally:
        """A partial's rows, days and checks with the records (and residents) folded from its
        states."""
        counts = dict(partial.counts)
        add_counts(counts, records)
        days = upload_days_by_org(partial.days, partial.day_rows)
        return cls(
            tuple(org_codes),
            {(org, FORM_IDS[form]): c for (org, form), c in sorted(counts.items())},
            {org: d for org, (d, _) in days.items()},
            {org: rows for org, (_, rows) in days.items()},
            dict(partial.check_failures),
            partial.min_day,
            partial.max_day,
            tuple(skipped),
            residents=residents if residents is not None else Residents.empty(),
        )
