"""`state add`: upload files judged once, their folded states and tallies added to a store.

Each row goes to the partition of its local upload date (rows without a readable upload_time to
the undated one), so that a period selects whole partitions. Per partition the store keeps the
per-record states (parts.py; corrections within one add are folded before they are written) and,
in the manifest, the rows, the records without record_id and the check failures per institution
and form. A file already in the store with the same content is left alone; a file whose path is
in the store with other content is refused: a correction must come as a new file. States are held
under `--memory-limit` and written out as partition files whenever they pass it (a day may then
have several files; `state compact` folds them into one).

A file that cannot be read is a finding, as in an audit: the rows read before the failure are
added, the file is listed in the store's `unreadable` table (and in its `files`, so that adding
it again changes nothing), and `audit --state` lists it as the audit of the files would.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..engines.memory import block_bytes_for, chunk_rows_for, state_budget
from ..engines.pandas_engine import Collector, JudgedRows
from ..engines.spill import split_by_bucket
from ..errors import UnreadableFile, UsageError
from ..forms import FORM_IDS
from ..metrics import (
    DELAY_BUCKETS,
    NAT,
    NS_PER_DAY,
    FormCounts,
    Partial,
    RecordState,
    add_counts,
    delay_buckets,
    lone_delays,
    realtime_rows,
)
from ..readahead import typed_chunks
from ..reading import Findings, InputFile, Unreadable, discover
from ..reading.encoding import open_binary
from ..requests import ProgressHook, StateAddRequest
from ..schemas import load_schema
from .manifest import UNDATED, Store
from .parts import write_part
from .settings import StoreSettings


@dataclass(frozen=True)
class AddResult:
    store: Path
    added: tuple[Path, ...]  # files judged and added
    known: tuple[Path, ...]  # files already in the store with the same content: left alone
    skipped: tuple[Path, ...]  # files whose name names no form
    unreadable: tuple[Unreadable, ...]  # files found unreadable by this add
    rows: int
    states: int  # per-record states written
    parts: int  # partition files written


@dataclass
class _Written:
    name: str
    day: int
    states: int
    bytes: int


class DayCollector(Collector):
    """A `Collector` that keeps a partial per upload day and writes the states out as partition
    files (one per day each time the held states pass `budget`)."""

    def __init__(
        self,
        request: StateAddRequest,
        store: Store,
        orgs: dict[str, int],
        add_id: int,
        buckets: int,
        budget: int,
    ):
        super().__init__(request.policy, None)
        self.org_index = dict(orgs)
        self.store, self.add_id, self.buckets, self.budget = store, add_id, buckets, budget
        self.by_day: dict[int, Partial] = {}
        self.held: dict[int, list[RecordState]] = {}
        self.held_bytes = 0
        self.written: list[_Written] = []

    def fold(self, rows: JudgedRows) -> None:
        """The chunk's states and tallies, each to the partition of its row's upload day (all
        at once: a year-long file's chunk holds rows of hundreds of days)."""
        window = self.policy.window_for(rows.form)
        form = FORM_IDS.index(rows.form)
        day = np.where(rows.upload != NAT, rows.upload // NS_PER_DAY, UNDATED)
        days, day_of_row = np.unique(day, return_inverse=True)
        width = int(rows.org.max()) + 1 if len(rows.org) else 1
        code = day_of_row * width + rows.org  # (day, institution) of each row
        lone = rows.record_id.isna().to_numpy()
        valid = rows.valid.astype(bool)
        realtime = realtime_rows(rows.event, rows.upload, window) & valid & lone
        size = len(days) * width
        sums = [np.bincount(code, weights=w, minlength=size) for w in (None, lone, lone & valid)]
        sums.append(np.bincount(code, weights=realtime, minlength=size))
        delays = lone_delays(code, delay_buckets(rows.event, rows.upload), lone, size)
        for c in np.flatnonzero(sums[0]).tolist():
            lone_delay = tuple(int(n) for n in delays[c]) if delays is not None else ()
            total, records, valid_records, realtime_records = (int(s[c]) for s in sums)
            counts = FormCounts(total, records, valid_records, realtime_records, lone_delay)
            add_counts(self._day(days[c // width]).counts, {(c % width, form): counts})
        for column, check, positions in rows.failures:
            failing = np.bincount(code[positions], minlength=size)
            for c in np.flatnonzero(failing).tolist():
                key = (c % width, rows.form, column, check)
                add_counts(self._day(days[c // width]).check_failures, {key: int(failing[c])})
        states = RecordState.concat(rows.partial(window).states)
        if len(states):
            state_day = day_of_row[~lone]
            order = np.argsort(state_day, kind="stable")
            bounds = np.searchsorted(state_day[order], np.arange(len(days) + 1))
            ordered = states.take(order)
            for index in np.flatnonzero(np.diff(bounds)).tolist():
                piece = ordered.take(slice(bounds[index], bounds[index + 1]))
                self.held.setdefault(int(days[index]), []).append(piece)
            self.held_bytes += states.nbytes
        if self.held_bytes > self.budget:
            self.flush()

    def _day(self, day: int) -> Partial:
        return self.by_day.setdefault(int(day), Partial())

    def flush(self) -> None:
        """Every day's held states, folded per bucket, written as a new partition file."""
        for day in sorted(self.held):
            state = RecordState.concat(self.held.pop(day))
            buckets = [piece.reduce() for piece in split_by_bucket(state, self.buckets)]
            del state
            name = f"{self.add_id:06d}-{len(self.written) + 1:03d}"
            size = write_part(self.store.part_path(day, name), buckets)
            self.written.append(_Written(name, day, sum(len(b) for b in buckets), size))
        self.held_bytes = 0


def digest(path: Path) -> str:
    """The file's SHA-256; UnreadableFile (as the reader says it) when it cannot be read."""
    try:
        with open(path, "rb") as source:
            return hashlib.file_digest(source, "sha256").hexdigest()
    except OSError:
        open_binary(path).close()  # the reader's words for it (permission denied, ...)
        raise UnreadableFile("cannot read", path, reason="read_error") from None


def add_files(
    request: StateAddRequest,
    progress: ProgressHook | None = None,
    on_wait: Callable[[], None] | None = None,
) -> AddResult:
    """Judge the request's files that the store does not hold yet and add them, atomically."""
    store = Store(request.store)
    found = discover([Path(p) for p in request.paths], request.form)
    findings = Findings(found)
    # a file is known by its real path (a link or another spelling is the same file) and content
    shown = {file.path.resolve(): file.path for file in found.files}  # the paths as given
    files = [InputFile(file.path.resolve(), file.form) for file in found.files]
    settings = StoreSettings.of(request.policy, request.buckets or 0)
    with store.writing(settings, on_wait) as db:
        store.remove_unlisted(db)
        buckets = Store.settings(db).buckets  # type: ignore[union-attr]
        known = dict(db.execute("SELECT path, digest FROM files").fetchall())
        new: list[tuple[InputFile, str]] = []
        same: list[Path] = []
        for file in files:
            content = None
            with findings.reading(shown[file.path]):
                content = digest(file.path)
            if content is None:  # not even its bytes: only the finding is kept
                continue
            if str(file.path) not in known:
                new.append((file, content))
            elif known[str(file.path)] == content:
                same.append(file.path)
            else:
                raise UsageError(
                    "already in the store with other content: a correction must come as a new"
                    " file (with later upload times)",
                    file.path,
                )
        skipped = tuple(found.skipped)  # as given, as the audit of the files shows them
        if not new:
            _commit_findings(db, skipped, findings.unreadable)
            unreadable = tuple(findings.unreadable)
            return AddResult(store.folder, (), tuple(same), skipped, unreadable, 0, 0, 0)
        first_id = (db.execute("SELECT MAX(id) FROM files").fetchone()[0] or 0) + 1
        add_id = (db.execute("SELECT MAX(id) FROM adds").fetchone()[0] or 0) + 1
        orgs = dict(db.execute("SELECT code, id FROM orgs").fetchall())
        limit = request.memory_limit
        collector = DayCollector(request, store, orgs, add_id, buckets, state_budget(limit) // 2)
        try:
            rows = _judge(collector, new, first_id, request, progress, findings, shown)
            collector.flush()
            at = datetime.now(UTC).isoformat(timespec="seconds")
            db.execute("BEGIN IMMEDIATE")
            try:
                _commit(db, collector, new, rows, first_id, add_id, at)
                _commit_findings(db, skipped, findings.unreadable, add_id)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except BaseException:  # an error or Ctrl-C: the files this add wrote go too
            for written in collector.written:
                store.part_path(written.day, written.name).unlink(missing_ok=True)
            raise
    states = sum(w.states for w in collector.written)
    added = tuple(file.path for file, _ in new)
    return AddResult(
        store.folder,
        added,
        tuple(same),
        skipped,
        tuple(findings.unreadable),
        sum(rows),
        states,
        len(collector.written),
    )


def _judge(
    collector: DayCollector,
    new: list[tuple[InputFile, str]],
    first_id: int,
    request: StateAddRequest,
    progress: ProgressHook | None,
    findings: Findings,
    shown: dict[Path, Path],
) -> list[int]:
    """Every new file judged into the collector; the rows of each (of an unreadable file, those
    read before it failed, as an audit counts them)."""
    limit = request.memory_limit
    block, chunk_rows = block_bytes_for(limit), chunk_rows_for(limit, request.chunk_rows)
    sizes = [file.path.stat().st_size for file, _ in new]
    rows = []
    for number, (file, _) in enumerate(new):
        collector.start_file(first_id + number)
        spec = load_schema(file.form)
        count = 0
        with findings.reading(shown[file.path]):
            for chunk, typed in typed_chunks(
                file.path, spec, request.encoding, chunk_rows, file.form, block_bytes=block
            ):
                judged = collector.add(file, chunk, typed)
                count += judged
                if progress:
                    done = sum(sizes[:number]) + min(chunk.consumed, sizes[number])
                    progress(judged, done, sum(sizes))
        rows.append(count)
    return rows


def _commit(
    db: sqlite3.Connection,
    collector: DayCollector,
    new: list[tuple[InputFile, str]],
    rows: list[int],
    first_id: int,
    add_id: int,
    at: str,
) -> None:
    states = sum(w.states for w in collector.written)
    db.execute(
        "INSERT INTO adds VALUES (?, 'add', ?, ?, ?, ?)", (add_id, at, len(new), sum(rows), states)
    )
    db.executemany(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                first_id + n,
                str(file.path),
                file.form,
                file.path.stat().st_size,
                content,
                count,
                at,
                add_id,
            )
            for n, ((file, content), count) in enumerate(zip(new, rows))
        ],
    )
    known = dict(db.execute("SELECT code, id FROM orgs").fetchall())
    db.executemany(
        "INSERT INTO orgs VALUES (?, ?)",
        [(index, code) for code, index in collector.org_index.items() if code not in known],
    )
    db.executemany(
        "INSERT INTO parts VALUES (?, ?, ?, ?, ?)",
        [(w.name, w.day, w.states, w.bytes, add_id) for w in collector.written],
    )
    db.executemany(
        f"INSERT INTO counts VALUES (?, ?, ?, ?, ?, ?, ?, {', '.join('?' * len(DELAY_BUCKETS))})"
        " ON CONFLICT DO UPDATE SET"
        " rows = rows + excluded.rows, records = records + excluded.records,"
        " valid = valid + excluded.valid, realtime = realtime + excluded.realtime, "
        + ", ".join(f"d{n} = d{n} + excluded.d{n}" for n in range(len(DELAY_BUCKETS))),
        [
            (
                day,
                org,
                form,
                c.rows,
                c.records,
                c.valid_records,
                c.realtime_records,
                *(c.delays or (0,) * len(DELAY_BUCKETS)),
            )  # fmt: skip
            for day, partial in collector.by_day.items()
            for (org, form), c in partial.counts.items()
        ],
    )
    db.executemany(
        "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
        " rows = rows + excluded.rows",
        [
            (day, org, form, column, check, count)
            for day, partial in collector.by_day.items()
            for (org, form, column, check), count in partial.check_failures.items()
        ],
    )


def _commit_findings(
    db: sqlite3.Connection,
    skipped: tuple[Path, ...],
    unreadable: list[Unreadable],
    add_id: int = 0,
) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO skipped VALUES (?, ?)", [(str(p), add_id) for p in skipped]
    )
    db.executemany(
        "INSERT OR IGNORE INTO unreadable VALUES (?, ?, ?, ?, ?)",
        [(str(u.path), u.reason, u.message, u.line, add_id) for u in unreadable],
    )
