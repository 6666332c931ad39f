"""The default engine: the files read, judged and folded on this machine, chunk by chunk, while
a second thread reads ahead (readahead.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ..forms import FORM_IDS
from ..metrics import NAT, Partial, Tally, row_partial
from ..period import Period
from ..policy import Policy
from ..readahead import typed_chunks
from ..reading import Chunk, Findings, InputFile, discover, stored_size
from ..requests import AuditRequest, ProgressHook
from ..results import MISSING_ORG
from ..rules import TypedChunk, judge, type_frame
from ..schemas import load_schema

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


class Collector:
    """Folds judged chunks into one Partial; holds the institution dictionary."""

    def __init__(self, policy: Policy, period: Period | None):
        self.policy, self.period = policy, period
        self.org_index: dict[str, int] = {}
        self.partial = Partial()
        self.order = 0

    def add(self, file: InputFile, chunk: Chunk, typed: TypedChunk | None = None) -> int:
        """Judge a chunk of `file` and fold it in; the number of rows judged."""
        spec = load_schema(file.form)
        typed = typed or type_frame(chunk.frame, spec)
        verdict = judge(chunk, spec, typed)
        upload = _times(verdict.typed, "upload_time")
        keep = self._in_period(upload)
        codes, uniques = _org_codes(chunk, typed)
        lookup = np.array(
            [self.org_index.setdefault(u, len(self.org_index)) for u in uniques], dtype=np.int32
        )
        org = lookup[codes] if len(codes) else np.zeros(0, dtype=np.int32)
        record_id = (
            chunk.frame["record_id"]
            if "record_id" in chunk.frame.columns
            else pd.Series([None] * len(chunk.frame), dtype="str")
        )
        event = _times(verdict.typed, "event_time")
        index = np.flatnonzero(keep) if not keep.all() else None
        pick = (lambda a: a[index]) if index is not None else (lambda a: a)
        partial = row_partial(
            org=pick(org),
            form=FORM_IDS.index(file.form),
            record_id=record_id.iloc[index].reset_index(drop=True)
            if index is not None
            else record_id,
            event=pick(event),
            upload=pick(upload),
            valid=pick(verdict.valid),
            order_start=self.order,
            window_seconds=self.policy.window_for(file.form),
        )
        self.order += len(chunk.frame)
        for failure in verdict.failures:
            failing = failure.rows[keep[failure.rows]]
            if len(failing):
                per_org = np.bincount(org[failing])
                for o in np.flatnonzero(per_org).tolist():
                    key = (o, file.form, failure.column, failure.check)
                    partial.check_failures[key] = int(per_org[o])
        self.partial.merge(partial)
        return len(chunk.frame)

    def _in_period(self, upload: np.ndarray) -> np.ndarray:
        if self.period is None:
            return np.ones(len(upload), dtype=bool)
        start = np.int64((self.period.start - EPOCH).days) * 86_400 * 10**9
        end = np.int64((self.period.end - EPOCH).days + 1) * 86_400 * 10**9
        return (upload == NAT) | ((upload >= start) & (upload < end))


class PandasEngine:
    name = "pandas"

    def tally(self, request: AuditRequest, progress: ProgressHook | None = None) -> Tally:
        found = discover([Path(p) for p in request.paths], request.form, request.outputs)
        findings = Findings(found, request.strict)
        collector = Collector(request.policy, request.period)
        sizes = [stored_size(file.path) for file in found.files]
        for number, file in enumerate(found.files):
            spec = load_schema(file.form)
            chunks = typed_chunks(
                file.path, spec, request.encoding, request.chunk_rows, file.form, request.max_bytes
            )
            with findings.reading(file.path, request.strict):  # an unreadable file: a finding
                for chunk, typed in chunks:
                    judged = collector.add(file, chunk, typed)
                    if progress:
                        done = sum(sizes[:number]) + min(chunk.consumed, sizes[number])
                        progress(judged, done, sum(sizes))
        tally = Tally.of(list(collector.org_index), collector.partial, found.skipped)
        return replace(tally, findings=findings.frozen())
