"""Folded counts -> the report's rows: per-institution (or per-district) metrics, flags and status,
and the gate's verdict (contract sections 4 and 5)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .forms import DISCHARGE_FORM, FORM_IDS, OUTPATIENT_FORM, REALTIME_FORM_IDS
from .metrics import FormCounts, Tally
from .period import Period
from .policy import evaluate_flags, gate_passes, status_of
from .requests import AuditRequest
from .results import (
    MISSING_ORG,
    UNKNOWN_DISTRICT,
    AuditResult,
    CheckCount,
    FormResult,
    InstitutionResult,
)

EPOCH = date(1970, 1, 1)


def summarise(tally: Tally, request: AuditRequest) -> AuditResult:
    """Per-institution (or per-district) metrics, flags and status, and the gate's verdict."""
    policy, registry = request.policy, request.registry
    period = request.period
    if period is None and tally.min_day is not None and tally.max_day is not None:
        period = Period(
            EPOCH + timedelta(days=tally.min_day), EPOCH + timedelta(days=tally.max_day)
        )
    members: dict[str, list[int]] = {}
    for index, code in enumerate(tally.org_codes):
        group = code
        if request.by == "district":
            group = (registry.district_of(code) if registry else None) or UNKNOWN_DISTRICT
        members.setdefault(group, []).append(index)
    institutions = [
        _institution(group, indexes, tally, period, request) for group, indexes in members.items()
    ]
    institutions.sort(key=lambda i: i.org_code or i.name or "")
    per_check: dict[tuple[str, str, str], int] = {}
    for (_, form, column, check), rows in tally.check_failures.items():  # over institutions
        per_check[(form, column, check)] = per_check.get((form, column, check), 0) + rows
    checks = [CheckCount(f, c, k, n) for (f, c, k), n in sorted(per_check.items())]
    passed = gate_passes([i.status for i in institutions], policy.fail_on)
    return AuditResult(
        period,
        policy.window_seconds,
        passed,
        policy.fail_on,
        tuple(institutions),
        tuple(checks),
        tally.skipped,
        request.by,
    )


def _institution(
    group: str, indexes: list[int], tally: Tally, period: Period | None, request: AuditRequest
) -> InstitutionResult:
    """One row: an institution, or a district of the institutions at `indexes`."""
    policy, registry = request.policy, request.registry
    counts, days = tally.counts, tally.days
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
    if request.by == "district":
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
