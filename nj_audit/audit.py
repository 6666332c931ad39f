"""The audit: upload files -> per-institution metrics, flags and the gate (SPEC sections 4-6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .forms import DISCHARGE_FORM, FORM_IDS, OUTPATIENT_FORM, REALTIME_FORM_IDS
from .metrics import (
    MISSING_ORG,
    NAT,
    FormCounts,
    Partial,
    form_counts,
    row_partial,
    upload_days_by_org,
)
from .policy import Flag, Policy, evaluate_flags, gate_passes, status_of
from .readahead import typed_chunks
from .reading import DEFAULT_CHUNK_ROWS, Chunk, InputFile, discover, stored_size
from .registry import Registry
from .schemas import load_schema
from .validation import TypedChunk, judge, type_frame
from .values import Period

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class FormResult:
    rows: int
    records: int
    valid_records: int
    realtime_records: int
    rate: float | None


@dataclass(frozen=True)
class InstitutionResult:
    org_code: str | None
    name: str | None
    district: str | None
    rows_uploaded: int | None
    records: int | None
    valid_records: int | None
    valid_ratio: float | None
    upload_days: int | None
    period_days: int | None
    upload_day_ratio: float | None
    forms_covered: int | None
    forms_required: int | None
    outpatient_rate: float | None
    discharge_rate: float | None
    status: str
    flags: tuple[Flag, ...]
    forms: dict[str, FormResult] = field(default_factory=dict)
    outpatient_visits: int | None = None  # records of outpatient_visit (门急诊人次)
    discharges: int | None = None  # records of inpatient_discharge (出院人次)

    @property
    def label(self) -> str:
        return self.name or self.org_code or MISSING_ORG


@dataclass(frozen=True)
class CheckCount:
    form: str
    column: str
    check: str
    failures: int


@dataclass(frozen=True)
class AuditResult:
    period: Period | None
    window_seconds: int
    passed: bool
    fail_on: str
    institutions: list[InstitutionResult]
    checks: list[CheckCount]
    skipped: list[Path] = field(default_factory=list)
    by: str = "institution"


ProgressHook = Callable[[int, int, int], None]  # rows just judged, bytes read so far, bytes in all


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
            count = int(keep[failure.rows].sum())
            if count:
                partial.check_failures[(file.form, failure.column, failure.check)] = count
        self.partial.merge(partial)
        return len(chunk.frame)

    def _in_period(self, upload: np.ndarray) -> np.ndarray:
        if self.period is None:
            return np.ones(len(upload), dtype=bool)
        start = np.int64((self.period.start - EPOCH).days) * 86_400 * 10**9
        end = np.int64((self.period.end - EPOCH).days + 1) * 86_400 * 10**9
        return (upload == NAT) | ((upload >= start) & (upload < end))


def run_audit(
    paths: Iterable[Path],
    *,
    policy: Policy,
    form: str | None = None,
    period: Period | None = None,
    registry: Registry | None = None,
    by: str = "institution",
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: ProgressHook | None = None,
) -> AuditResult:
    """Audit every input file and return the per-institution result with its verdict."""
    found = discover(list(paths), form)
    collector = Collector(policy, period)
    sizes = [stored_size(file.path) for file in found.files]
    for number, file in enumerate(found.files):
        spec = load_schema(file.form)
        for chunk, typed in typed_chunks(file.path, spec, encoding, chunk_rows, form=file.form):
            judged = collector.add(file, chunk, typed)
            if progress:
                progress(
                    judged, sum(sizes[:number]) + min(chunk.consumed, sizes[number]), sum(sizes)
                )
    return summarise(collector, policy, period, registry, by, found.skipped)


def summarise(
    collector: Collector,
    policy: Policy,
    period: Period | None,
    registry: Registry | None,
    by: str,
    skipped: list[Path],
) -> AuditResult:
    partial = collector.partial
    if period is None and partial.min_day is not None and partial.max_day is not None:
        period = Period(
            EPOCH + timedelta(days=partial.min_day), EPOCH + timedelta(days=partial.max_day)
        )
    counts = form_counts(partial)
    days = upload_days_by_org(partial)
    names = {index: code for code, index in collector.org_index.items()}
    members: dict[str, list[int]] = {}
    for index, code in names.items():
        group = code
        if by == "district":
            group = (registry.district_of(code) if registry else None) or "(unknown district)"
        members.setdefault(group, []).append(index)
    institutions = [
        _institution(group, indexes, counts, days, period, policy, registry, by, names)
        for group, indexes in members.items()
    ]
    institutions.sort(key=lambda i: i.org_code or i.name or "")
    checks = [CheckCount(f, c, k, n) for (f, c, k), n in sorted(partial.check_failures.items())]
    passed = gate_passes([i.status for i in institutions], policy.fail_on)
    return AuditResult(
        period, policy.window_seconds, passed, policy.fail_on, institutions, checks, skipped, by
    )


def _institution(
    group: str,
    indexes: list[int],
    counts: dict[tuple[int, str], FormCounts],
    days: dict[int, np.ndarray],
    period: Period | None,
    policy: Policy,
    registry: Registry | None,
    by: str,
    names: dict[int, str],
) -> InstitutionResult:
    per_form: dict[str, FormCounts] = {}
    covered: set[str] = set()
    for index in indexes:
        for form in FORM_IDS:
            c = counts.get((index, form))
            if c is None:
                continue
            per_form[form] = per_form.get(form, FormCounts()) + c
            if form in REALTIME_FORM_IDS and c.realtime_records >= policy.coverage_min_records:
                covered.add(form)
    all_days = np.unique(
        np.concatenate([days.get(i, np.zeros(0, dtype=np.int64)) for i in indexes])
    )
    total = sum(per_form.values(), FormCounts())
    period_days = period.days if period else 0
    upload_days = len(all_days)
    valid_ratio = total.valid_records / total.records if total.records else None
    day_ratio = upload_days / period_days if period_days else None
    outpatient = per_form.get(OUTPATIENT_FORM, FormCounts())
    discharge = per_form.get(DISCHARGE_FORM, FormCounts())
    if by == "district":
        org_code, name, district, registered = None, group, group, None
    else:
        org_code, name, district = group, None, None
        registered = None
        if registry is not None:
            entry = registry.get(group)
            registered = entry is not None and group != MISSING_ORG
            if entry is not None:
                name, district = entry.name, entry.district
    flags = evaluate_flags(
        policy,
        forms_covered=len(covered),
        forms_required=len(REALTIME_FORM_IDS),
        outpatient_rate=outpatient.rate,
        discharge_rate=discharge.rate,
        upload_day_ratio=day_ratio,
        valid_ratio=valid_ratio,
        registered=registered,
    )
    return InstitutionResult(
        org_code=org_code,
        name=name,
        district=district,
        rows_uploaded=total.rows,
        records=total.records,
        valid_records=total.valid_records,
        valid_ratio=valid_ratio,
        upload_days=upload_days,
        period_days=period_days,
        upload_day_ratio=day_ratio,
        forms_covered=len(covered),
        forms_required=len(REALTIME_FORM_IDS),
        outpatient_rate=outpatient.rate,
        discharge_rate=discharge.rate,
        status=status_of(flags),
        flags=tuple(flags),
        forms={
            f: FormResult(c.rows, c.records, c.valid_records, c.realtime_records, c.rate)
            for f, c in per_form.items()
        },
        outpatient_visits=outpatient.records,
        discharges=discharge.records,
    )
