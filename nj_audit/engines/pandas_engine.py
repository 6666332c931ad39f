"""The default engine: the files read, judged and folded on this machine, chunk by chunk, while
a second thread reads ahead (readahead.py). The per-record states go to a `StateFolder`, which keeps
them in memory under `--memory-limit` and spills them to bucket files past it (spill.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ..forms import FORM_IDS
from ..metrics import NAT, ROW_BITS, STATE_BYTES, Partial, RecordState, Tally, row_partial
from ..period import Period
from ..policy import Policy
from ..readahead import prefetched, typed_chunks
from ..reading import Chunk, Findings, InputFile, discover, stored_size
from ..requests import AuditRequest, ProgressHook
from ..residents import resident_hashes
from ..results import MISSING_ORG
from ..rules import TypedChunk, judge, type_frame
from ..schemas import load_schema
from .batching import BATCH_ROWS, SMALL_FILE_BYTES, Batches, ReadFile, read_whole, runs
from .memory import block_bytes_for, chunk_rows_for, state_budget
from .spill import StateFolder

EPOCH = date(1970, 1, 1)


def _org_codes(chunk: Chunk, typed: TypedChunk) -> tuple[np.ndarray, list[str]]:
    """Each row's index into the chunk's distinct institution codes, and those codes (the column's
    encoding from typing, when it was encoded for its GB 32100 check)."""
    if "org_code" not in chunk.frame.columns:
        return np.zeros(len(chunk.frame), dtype=np.intp), [MISSING_ORG]
    if "org_code" in typed.distinct:
        codes, uniques = typed.distinct["org_code"]
        missing = codes < 0
        if not missing.any():
            return codes, uniques.tolist()
        return np.where(missing, len(uniques), codes), [*uniques.tolist(), MISSING_ORG]
    codes, uniques = pd.factorize(chunk.frame["org_code"], use_na_sentinel=False)
    return codes, [MISSING_ORG if pd.isna(u) else str(u) for u in uniques]


def _times(typed: pd.DataFrame, column: str) -> np.ndarray:
    if column not in typed.columns:
        return np.full(len(typed), NAT, dtype=np.int64)
    return typed[column].to_numpy("datetime64[ns]").view(np.int64)


@dataclass(frozen=True)
class JudgedRows:
    """A chunk's rows of one form, judged and inside the period: what folding them needs."""

    form: str
    org: np.ndarray  # int32 index into the collector's institution codes
    record_id: pd.Series
    event: np.ndarray  # local ns, NAT when unreadable
    upload: np.ndarray
    valid: np.ndarray
    order: np.ndarray  # int64: file number << ROW_BITS | row in the file
    failures: list[tuple[str, str, np.ndarray]]  # (column, check, positions of failing rows)
    resident: np.ndarray | None = None  # uint64 hash of an archive form's id_card (0: none)

    def take(self, index: np.ndarray) -> JudgedRows:
        """The rows at `index` (positions, in the order wanted), failures renumbered."""
        position = np.full(len(self.org), -1, dtype=np.int64)
        position[index] = np.arange(len(index))
        failures = [(c, k, position[rows][position[rows] >= 0]) for c, k, rows in self.failures]
        return JudgedRows(
            self.form,
            self.org[index],
            self.record_id.iloc[index].reset_index(drop=True),
            self.event[index],
            self.upload[index],
            self.valid[index],
            self.order[index],
            failures,
            None if self.resident is None else self.resident[index],
        )

    def partial(self, window_seconds: int) -> Partial:
        partial = row_partial(
            org=self.org,
            form=FORM_IDS.index(self.form),
            record_id=self.record_id,
            event=self.event,
            upload=self.upload,
            valid=self.valid,
            order=self.order,
            window_seconds=window_seconds,
            resident=self.resident,
        )
        for column, check, rows in self.failures:
            if len(rows):
                per_org = np.bincount(self.org[rows])
                for org in np.flatnonzero(per_org).tolist():
                    partial.check_failures[(org, self.form, column, check)] = int(per_org[org])
        return partial


class Collector:
    """Folds judged chunks into one Partial; holds the institution dictionary. The per-record
    states go to `sink` (a `StateFolder`) when there is one, else they stay in the partial."""

    def __init__(
        self,
        policy: Policy,
        period: Period | None,
        sink: Callable[[RecordState], None] | None = None,
    ):
        self.policy, self.period, self.sink = policy, period, sink
        self.org_index: dict[str, int] = {}
        self.partial = Partial()
        self.order = 0

    def start_file(self, number: int) -> None:
        """Rows of the file numbered `number` (in path order) come next."""
        self.order = number << ROW_BITS

    def add(self, file: InputFile, chunk: Chunk, typed: TypedChunk | None = None) -> int:
        """Judge a chunk of `file` and fold it in; the number of rows judged."""
        return self.add_rows(file.form, chunk, typed)

    def add_rows(self, form: str, chunk: Chunk, typed: TypedChunk | None = None) -> int:
        """Judge a chunk of rows of `form` (of one file or of several, batched) and fold it in."""
        self.fold(self.judged(form, chunk, typed))
        return chunk.rows

    def judged(self, form: str, chunk: Chunk, typed: TypedChunk | None = None) -> JudgedRows:
        """The chunk judged, its rows outside the period left out. Its rows' order keys are its
        own (`chunk.order`, a batch of several files), else the next ones of this file."""
        spec = load_schema(form)
        typed = typed or type_frame(chunk.frame, spec)
        verdict = judge(chunk, spec, typed)
        upload = _times(verdict.typed, "upload_time")
        codes, uniques = _org_codes(chunk, typed)
        lookup = np.array(
            [self.org_index.setdefault(u, len(self.org_index)) for u in uniques], dtype=np.int32
        )
        n = chunk.rows
        record_id = (
            chunk.frame["record_id"]
            if "record_id" in chunk.frame.columns
            else pd.Series([None] * n, dtype="str")
        )
        if chunk.order is not None:
            order = chunk.order
        else:
            order = np.arange(self.order, self.order + n, dtype=np.int64)
            self.order += n
        rows = JudgedRows(
            form=form,
            org=lookup[codes] if len(codes) else np.zeros(0, dtype=np.int32),
            record_id=record_id,
            event=_times(verdict.typed, "event_time"),
            upload=upload,
            valid=verdict.valid,
            order=order,
            failures=[(f.column, f.check, f.rows) for f in verdict.failures],
            resident=resident_hashes(form, chunk.frame),
        )
        keep = self._in_period(upload)
        return rows if keep.all() else rows.take(np.flatnonzero(keep))

    def fold(self, rows: JudgedRows) -> None:
        partial = rows.partial(self.policy.window_for(rows.form))
        if self.sink is not None:
            for state in partial.states:
                self.sink(state)
            partial.states = []
        self.partial.merge(partial)

    def _in_period(self, upload: np.ndarray) -> np.ndarray:
        if self.period is None:
            return np.ones(len(upload), dtype=bool)
        start = np.int64((self.period.start - EPOCH).days) * 86_400 * 10**9
        end = np.int64((self.period.end - EPOCH).days + 1) * 86_400 * 10**9
        return (upload == NAT) | ((upload >= start) & (upload < end))


class PandasEngine:
    name = "pandas"

    def __init__(self) -> None:
        self.spilled_bytes = 0  # of the last run: 0 when its states stayed in memory

    def tally(self, request: AuditRequest, progress: ProgressHook | None = None) -> Tally:
        if request.state is not None:  # a state store instead of files (store/folding.py)
            from ..store.folding import StoreFold

            return StoreFold().tally(request, progress)
        found = discover(
            [Path(p) for p in request.paths], request.form, request.outputs, request.allow_empty
        )
        findings = Findings(found, request.strict)
        sizes = [stored_size(file.path) for file in found.files]
        limit = request.memory_limit
        block, chunk_rows = block_bytes_for(limit), chunk_rows_for(limit, request.chunk_rows)
        done = [0, 0]  # bytes read, states made: the folder's guess of the states to come
        with StateFolder(
            state_budget(limit),
            request.temp_dir,
            request.buckets,
            expected=lambda: done[1] * sum(sizes) * STATE_BYTES // max(done[0], 1),
        ) as folder:

            def sink(state: RecordState) -> None:
                done[1] += len(state)
                folder.add(state)

            collector = Collector(request.policy, request.period, sink)
            reading = _Reading(request, found.files, sizes, findings, collector, progress, done)
            reading.run(chunk_rows, block)
            records = folder.counts()
            self.spilled_bytes = folder.spilled_bytes
        tally = Tally.of(
            list(collector.org_index),
            collector.partial,
            records.counts,
            found.skipped,
            records.residents,
        )
        return replace(tally, findings=findings.frozen())


@dataclass
class _Reading:
    """A run's files read and judged in path order: a large file chunk by chunk, read ahead; the
    small ones around it batched per form (batching.py), each row keeping its order key."""

    request: AuditRequest
    files: list[InputFile]
    sizes: list[int]
    findings: Findings
    collector: Collector
    progress: ProgressHook | None
    done: list[int]  # [bytes read, states made]

    def run(self, chunk_rows: int, block: int) -> None:
        request, collector, findings = self.request, self.collector, self.findings
        batches = Batches(collector.add_rows, min(chunk_rows, BATCH_ROWS))
        for run in runs(self.sizes):
            if self.sizes[run[0]] >= SMALL_FILE_BYTES:  # a large file: read ahead chunk by chunk
                number = run[0]
                file, size, before = self.files[number], self.sizes[number], self.done[0]
                self.judged(batches.flush(file.form))  # its form's small files before it
                collector.start_file(number)
                spec = load_schema(file.form)
                chunks = typed_chunks(
                    file.path, spec, request.encoding, chunk_rows, file.form, request.max_bytes,
                    block,
                )  # fmt: skip
                with findings.reading(file.path, request.strict):  # an unreadable file: a finding
                    for chunk, typed in chunks:
                        rows = collector.add_rows(file.form, chunk, typed)
                        self.done[0] = before + min(chunk.consumed, size)
                        self.judged(rows)
                self.done[0] = before + size
                continue
            files = [(number, self.files[number]) for number in run]
            for read, _ in prefetched(
                read_whole(files, request, chunk_rows, block), ReadFile.parse
            ):
                read.parse()  # unless the reading thread had time to
                for rank in read.finished:  # files read to their end, their rows in bodies
                    with findings.reading(self.files[rank].path, request.strict):
                        self.done[0] += self.sizes[rank]
                if read.file is None:  # rows of several files, parsed together
                    for chunk in read.chunks:
                        self.judged(batches.add(read.form, chunk))
                    continue
                with findings.reading(read.file.path, request.strict):  # unreadable: a finding
                    for chunk in read.chunks:
                        self.judged(batches.add(read.form, chunk))
                    if read.error is not None:
                        raise read.error
                self.done[0] += self.sizes[read.rank]
        self.judged(batches.flush_all())

    def judged(self, rows: int) -> None:
        if self.progress and rows:
            self.progress(rows, self.done[0], sum(self.sizes))
