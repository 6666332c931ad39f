"""Folded counts -> the report's rows: per-institution (or per-district) metrics, flags and status,
and the gate's verdict (docs/contract.md § 4 and § 5).

Nobody is missing: with a registry, every registered institution is listed, those without a row
in the period with zero counts and the flag `no_uploads`; an unreadable file flags the institution
its path names (`unreadable_file`), else the row `(unknown)`. An org_code that is a person's ID
number or name is shown masked (rows are still grouped by the raw value)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .forms import DISCHARGE_FORM, FORM_IDS, OUTPATIENT_FORM, REALTIME_FORM_IDS
from .metrics import FormCounts, Tally
from .period import Period
from .pii import mask_id_numbers, shown_label, shown_org_code
from .policy import (
    FAIL,
    OK,
    WARN,
    Policy,
    evaluate_flags,
    gate_passes,
    members_flag,
    status_of,
    unreadable_flag,
)
from .reading import institution_of_path
from .requests import AuditRequest
from .residents import ARCHIVE_FORMS
from .results import (
    MISSING_ORG,
    UNKNOWN_DISTRICT,
    UNKNOWN_ORG,
    AuditResult,
    CheckCount,
    DistrictResult,
    Flag,
    FormResult,
    InstitutionResult,
    Unreadable,
)

EPOCH = date(1970, 1, 1)
_PLACEHOLDERS = (MISSING_ORG, UNKNOWN_ORG)


def summarise(tally: Tally, request: AuditRequest) -> AuditResult:
    """Per-institution (or per-district) metrics, flags and status, and the gate's verdict."""
    policy, registry = request.policy, request.registry
    period = request.period
    if period is None and tally.min_day is not None and tally.max_day is not None:
        period = Period(
            EPOCH + timedelta(days=tally.min_day), EPOCH + timedelta(days=tally.max_day)
        )
    rows = np.zeros(len(tally.org_codes), dtype=np.int64)
    for (index, _), counts in tally.counts.items():
        rows[index] += counts.rows
    # who is listed: every institution with a row in the period, every registered one, and the
    # institution of every unreadable file
    codes = [code for index, code in enumerate(tally.org_codes) if rows[index]]
    if registry is not None:
        codes += list(registry.entries)
    owners = [institution_of_path(u.path) or UNKNOWN_ORG for u in tally.findings.unreadable]
    codes += owners
    codes = list(dict.fromkeys(codes))
    unreadable_of: dict[str, int] = {}
    for owner in owners:
        unreadable_of[owner] = unreadable_of.get(owner, 0) + 1
    index_of = {code: index for index, code in enumerate(tally.org_codes)}
    over_orgs: dict[tuple[str, str, str], int] = {}
    by_org: dict[int, list[tuple[str, str, str, int]]] = {}
    for (org, form, column, check), n in tally.check_failures.items():
        over_orgs[(form, column, check)] = over_orgs.get((form, column, check), 0) + n
        by_org.setdefault(org, []).append((form, column, check, n))

    def rows_of(groups: dict[str, list[str]], pooled: bool) -> dict[str, InstitutionResult]:
        of_group = np.full(len(tally.org_codes), -1, dtype=np.int64)
        for number, members in enumerate(groups.values()):
            of_group[[index_of[c] for c in members if c in index_of]] = number
        residents = tally.residents.grouped(of_group)
        return {
            group: replace(
                _institution(
                    group, members, tally, index_of, unreadable_of, period, request, by_org, pooled
                ),
                residents={f: residents.get((n, f), 0) for f in ARCHIVE_FORMS},
            )
            for n, (group, members) in enumerate(groups.items())
        }

    by_code = rows_of({code: [code] for code in codes}, pooled=False)
    listed = sorted(by_code.items(), key=lambda pair: (pair[1].org_code or "", pair[0]))
    institutions = tuple(inst for _, inst in listed)
    districts: tuple[DistrictResult, ...] = ()
    statuses = [i.status for i in institutions]
    if request.by == "district":
        groups: dict[str, list[str]] = {}
        for code in codes:
            groups.setdefault(_district_of(code, request), []).append(code)
        pooled = rows_of(groups, pooled=True)
        districts = tuple(
            _district(pooled[name], [by_code[c] for c in groups[name]], policy)
            for name in sorted(groups)
        )
        statuses = [d.row.status for d in districts]
    checks = [CheckCount(f, c, k, n) for (f, c, k), n in sorted(over_orgs.items())]
    empty = int(rows.sum()) == 0
    passed = gate_passes(statuses, policy.fail_on)
    passed = passed and (not empty or request.allow_empty)
    return AuditResult(
        period,
        policy.window_seconds,
        passed,
        policy.fail_on,
        institutions,
        tuple(checks),
        tuple(_shown_path(p, request) for p in tally.skipped),
        request.by,
        tuple(
            Unreadable(
                mask_id_numbers(str(u.path), request.show_pii),
                u.reason,
                mask_id_numbers(u.message, request.show_pii),
                _shown_code(owner, request),
                u.line,
            )
            for u, owner in zip(tally.findings.unreadable, owners)
        ),
        tuple(_shown_path(p, request) for p in tally.findings.reports),
        empty,
        policy,
        districts=districts,
    )


def _district_of(code: str, request: AuditRequest) -> str:
    district = request.registry.district_of(code) if request.registry else None
    return district or UNKNOWN_DISTRICT


def _district(
    row: InstitutionResult, members: list[InstitutionResult], policy: Policy
) -> DistrictResult:
    """A district: its pooled row, with the `members` flag when members fail, and its members."""
    failing = sorted(m.label for m in members if m.status == FAIL)
    flag = members_flag(policy, len(failing), len(members))
    flags = (*row.flags, flag) if flag is not None else row.flags
    by_status = {s: sum(1 for m in members if m.status == s) for s in (OK, WARN, FAIL)}
    return DistrictResult(
        row=replace(row, flags=flags, status=status_of(list(flags))),
        members=tuple(sorted(m.label for m in members)),
        members_by_status=by_status,
        worst_status=status_of([Flag("", m.status, "") for m in members if m.status != OK]),
        failing=tuple(failing),
    )


def _shown_code(code: str, request: AuditRequest) -> str:
    return code if code in _PLACEHOLDERS else shown_org_code(code, request.show_pii)


def _shown_path(path: Path, request: AuditRequest) -> Path:
    return Path(mask_id_numbers(str(path), request.show_pii))


def _institution(
    group: str,
    codes: list[str],
    tally: Tally,
    index_of: dict[str, int],
    unreadable_of: dict[str, int],
    period: Period | None,
    request: AuditRequest,
    checks_by_org: dict[int, list[tuple[str, str, str, int]]],
    pooled: bool = False,
) -> InstitutionResult:
    """One row: an institution, or a district of the institutions `codes`."""
    policy, registry = request.policy, request.registry
    counts, days = tally.counts, tally.days
    indexes = [index_of[code] for code in codes if code in index_of]
    per_form: dict[str, FormCounts] = {}
    delays: dict[str, np.ndarray] = {}
    covered: set[str] = set()
    member_rows: dict[str, int] = {}
    for code in codes:
        index = index_of.get(code)
        for form in FORM_IDS:
            c = counts.get((index, form)) if index is not None else None
            if c is None:
                continue
            member_rows[code] = member_rows.get(code, 0) + c.rows
            per_form[form] = per_form.get(form, FormCounts()) + c
            if c.delays:
                delays[form] = delays.get(form, 0) + np.array(c.delays, dtype=np.int64)
            if form in REALTIME_FORM_IDS and c.realtime_records >= policy.coverage_min_records:
                covered.add(form)
    none = np.zeros(0, dtype=np.int64)
    member_days = np.concatenate([days.get(i, none) for i in [*indexes, -1]])
    all_days, at = np.unique(member_days, return_inverse=True)
    rows_per_day = np.bincount(
        at, weights=np.concatenate([tally.day_rows.get(i, none) for i in [*indexes, -1]])
    )
    total = sum(per_form.values(), FormCounts())
    period_days = period.days if period else None  # no readable upload_time: no period
    upload_days = len(all_days)
    valid_ratio = total.valid_records / total.records if total.records else None
    day_ratio = upload_days / period_days if period_days else None
    outpatient = per_form.get(OUTPATIENT_FORM, FormCounts())
    discharge = per_form.get(DISCHARGE_FORM, FormCounts())
    registered = [code for code in codes if registry is not None and registry.get(code)]
    silent = sum(1 for code in registered if not member_rows.get(code))
    unreadable = sum(unreadable_of.get(code, 0) for code in codes)
    if pooled:
        org_code, name, district, known = None, group, group, None
    else:
        org_code, name, district = _shown_code(group, request), None, None
        known = None if registry is None else bool(registered) and group != MISSING_ORG
        if registered:
            entry = registry.get(group) if registry is not None else None
            name, district = (entry.name, entry.district) if entry else (None, None)
    name, district = shown_label(name, request.show_pii), shown_label(district, request.show_pii)
    if group == UNKNOWN_ORG and not pooled:
        flags = [unreadable_flag(unreadable)]  # not an institution: no metric to judge
    else:
        flags = evaluate_flags(
            policy,
            forms_covered=len(covered),
            forms_required=len(REALTIME_FORM_IDS),
            outpatient_rate=outpatient.rate,
            discharge_rate=discharge.rate,
            upload_day_ratio=day_ratio,
            valid_ratio=valid_ratio,
            registered=known,
            silent=silent,
            district=pooled,
            unreadable_files=unreadable,
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
            f: FormResult(
                c.rows,
                c.records,
                c.valid_records,
                c.realtime_records,
                c.rate,
                tuple(int(n) for n in delays[f]) if f in delays else None,
            )
            for f, c in per_form.items()
        },
        outpatient_visits=outpatient.records,
        discharges=discharge.records,
        day_rows=tuple(
            (EPOCH + timedelta(days=int(d)), int(n)) for d, n in zip(all_days, rows_per_day)
        ),
        checks=_checks_of([checks_by_org.get(i, []) for i in indexes]),
    )


def _checks_of(members: list[list[tuple[str, str, str, int]]]) -> tuple[CheckCount, ...]:
    """The failing checks of these institutions (one, or a district's members), summed."""
    summed: dict[tuple[str, str, str], int] = {}
    for checks in members:
        for form, column, check, n in checks:
            summed[(form, column, check)] = summed.get((form, column, check), 0) + n
    return tuple(CheckCount(f, c, k, n) for (f, c, k), n in sorted(summed.items()))
