"""`audit --state STORE`: a store folded into the `metrics.Tally` an audit of its files would give.

Rows, records without record_id, check failures and upload days come from the manifest's tallies
of the partitions the period selects (every partition without `--period`; the undated one
always). The per-record states are folded bucket by bucket: a group of buckets is read from every
selected partition file, its rows' file ids renumbered to path ranks (parts.py), and folded by a
`StateFolder` under `--memory-limit` (which spills, should a group outgrow its share); records
never cross buckets, so the groups' counts add up to the store's.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..engines.memory import state_budget
from ..engines.spill import StateFolder
from ..folds import Folded
from ..metrics import DELAY_BUCKETS, STATE_BYTES, FormCounts, Partial, Tally, day_codes
from ..period import Period
from ..reading import ReadFindings, Unreadable
from ..requests import AuditRequest, ProgressHook
from .manifest import EPOCH, UNDATED, Store
from .parts import file_ranks, ranked, read_buckets
from .settings import StoreSettings, refuse_other_settings


@dataclass(frozen=True)
class PartFile:
    path: Path
    states: int


def period_clause(period: Period | None) -> tuple[str, tuple[int, ...]]:
    """SQL selecting the partitions of `period` (and the undated one)."""
    if period is None:
        return "1", ()
    first, last = ((d - EPOCH).days for d in (period.start, period.end))
    return "(day = ? OR day BETWEEN ? AND ?)", (UNDATED, first, last)


def bucket_groups(buckets: int, states: int, budget: int) -> list[tuple[int, int]]:
    """Consecutive bucket ranges, each expected to hold at most `budget` bytes of states."""
    per_bucket = max(states * STATE_BYTES / buckets, 1)
    size = max(1, min(buckets, math.floor(budget / per_bucket)))
    return [(start, min(start + size, buckets)) for start in range(0, buckets, size)]


def fold_group(
    parts: list[PartFile],
    start: int,
    stop: int,
    buckets: int,
    rank_of_file: np.ndarray,
    budget: int,
    temp_dir: Path | None,
) -> Folded:
    """The record counts and residents of buckets start .. stop - 1 of every part (also run on
    Dask workers)."""
    with StateFolder(budget, temp_dir, level=1) as folder:
        for part in parts:
            folder.add(ranked(read_buckets(part.path, start, stop, buckets), rank_of_file))
        return folder.counts()


@dataclass(frozen=True)
class StoreContents:
    """What an audit of a store reads from its manifest: everything but the folding."""

    org_codes: list[str]
    partial: Partial  # rows, lone records, upload days, checks of the selected partitions
    parts: list[PartFile]
    buckets: int
    rank_of_file: np.ndarray
    skipped: list[Path]
    unreadable: list[Unreadable]

    def tally(self, records: Folded) -> Tally:
        """The audit's tally from these contents and their folded records (either engine's)."""
        tally = Tally.of(
            self.org_codes, self.partial, records.counts, self.skipped, records.residents
        )
        return replace(tally, findings=ReadFindings(tuple(self.unreadable)))


def read_contents(store: Store, db: sqlite3.Connection, request: AuditRequest) -> StoreContents:
    stored = Store.settings(db)
    assert stored is not None
    refuse_other_settings(store.folder, stored, StoreSettings.of(request.policy, stored.buckets))
    where, params = period_clause(request.period)
    org_codes = [code for _, code in db.execute("SELECT id, code FROM orgs ORDER BY id")]
    partial = Partial()
    delays = ", ".join(f"SUM(d{n})" for n in range(len(DELAY_BUCKETS)))  # of lone records
    for org, form, rows, records, valid, realtime, *lone_delays in db.execute(
        f"SELECT org, form, SUM(rows), SUM(records), SUM(valid), SUM(realtime), {delays}"
        f" FROM counts WHERE {where} GROUP BY org, form",
        params,
    ):
        partial.counts[(org, form)] = FormCounts(
            rows, records, valid, realtime, tuple(int(n) for n in lone_delays)
        )
    for org, form, column, check, rows in db.execute(
        f"SELECT org, form, col, name, SUM(rows) FROM checks WHERE {where}"
        " GROUP BY org, form, col, name",
        params,
    ):
        partial.check_failures[(org, form, column, check)] = rows
    dated = db.execute(
        f"SELECT org, day, SUM(rows) FROM counts WHERE {where} AND day != ? AND rows > 0"
        " GROUP BY org, day",
        (*params, UNDATED),
    ).fetchall()
    if dated:
        orgs, days, day_rows = (np.array(column, dtype=np.int64) for column in zip(*dated))
        partial.days, partial.day_rows = day_codes(orgs, days), day_rows
        partial.min_day, partial.max_day = int(days.min()), int(days.max())
    parts = [
        PartFile(store.part_path(day, name), states)
        for name, day, states in db.execute(
            f"SELECT name, day, states FROM parts WHERE {where} ORDER BY day, name", params
        )
    ]
    rank_of_file, _ = file_ranks(dict(db.execute("SELECT id, path FROM files").fetchall()))
    skipped = sorted(Path(path) for (path,) in db.execute("SELECT path FROM skipped"))
    unreadable = [
        Unreadable(Path(path), reason, message, line)
        for path, reason, message, line in db.execute(
            "SELECT path, reason, message, line FROM unreadable ORDER BY path"
        )
    ]
    return StoreContents(
        org_codes, partial, parts, stored.buckets, rank_of_file, skipped, unreadable
    )


class StoreFold:
    """The pandas engine's way with `--state`: the store folded on this machine (no progress is
    told: reading states is quick next to judging rows)."""

    def tally(self, request: AuditRequest, progress: ProgressHook | None = None) -> Tally:
        assert request.state is not None
        store = Store(request.state)
        budget = state_budget(request.memory_limit, reading=False)
        with store.reading() as db:
            contents = read_contents(store, db, request)
            total_states = sum(p.states for p in contents.parts)
            records = Folded()
            groups = bucket_groups(contents.buckets, total_states, budget)
            for start, stop in groups:
                records.add(
                    fold_group(
                        contents.parts,
                        start,
                        stop,
                        contents.buckets,
                        contents.rank_of_file,
                        budget,
                        request.temp_dir,
                    ),
                )
        return contents.tally(records)
