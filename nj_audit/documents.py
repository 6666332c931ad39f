"""The JSON document read back into results: the inverse of `render.json.to_document`, so that a
stored run (`nj-audit history show`) can be rendered again in any format.

    result = result_of(json.loads(text))   # to_document(result) == the document again

What the document does not say is recovered where it can be: `fail_on` from the document's
`policy` block if it has one, else the least strict setting that explains its verdict; in a
document without `outpatient_visits` and `discharges` (before 0.2), an audit's from its forms'
records (a ranked table's stay unknown)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from .errors import AuditError
from .forms import DISCHARGE_FORM, OUTPATIENT_FORM
from .metrics import DELAY_BUCKETS
from .period import Period
from .policy import FAIL, FAIL_ON_CHOICES, SEVERITY_RANK, THRESHOLD_KEYS, WARN, Policy, Threshold
from .results import (
    UNKNOWN_DISTRICT,
    AuditResult,
    CheckCount,
    DistrictResult,
    Flag,
    FormResult,
    InstitutionResult,
    Unreadable,
)


class DocumentError(AuditError):
    """A JSON document that is not an audit's."""


def result_of(document: Mapping[str, Any], by: str = "institution") -> AuditResult:
    """The AuditResult whose JSON document is `document` (DocumentError if it is not one)."""
    if not isinstance(document, Mapping):
        raise DocumentError("not an audit document (not a JSON object)")
    institutions = tuple(
        _institution(item, n) for n, item in enumerate(_list(document, "institutions"))
    )
    passed = document.get("passed")
    if not isinstance(passed, bool):
        raise DocumentError("not an audit document (no passed verdict)")
    checks = tuple(_check(item, n) for n, item in enumerate(_list(document, "checks")))
    districts = tuple(
        _district(item, n, institutions) for n, item in enumerate(_list(document, "districts"))
    )
    return AuditResult(
        period=_period(document.get("period")),
        window_seconds=_whole(document.get("window_seconds"), "window_seconds"),
        passed=passed,
        fail_on=_fail_on(document, tuple(d.row for d in districts) or institutions, passed),
        institutions=institutions,
        checks=checks,
        by="district" if districts else by,
        districts=districts,
        unreadable=tuple(
            _unreadable(item, n) for n, item in enumerate(_list(document, "unreadable"))
        ),
        policy=_policy(document.get("policy")),
        skipped=_skipped(document),
    )


def _skipped(document: Mapping[str, Any]) -> tuple[Path, ...]:
    items = _list(document, "skipped")
    if not all(isinstance(item, str) for item in items):
        raise DocumentError("not an audit document (skipped holds a value that is not a path)")
    return tuple(Path(item) for item in items)


def _unreadable(item: Any, n: int) -> Unreadable:
    """An unreadable file as the document lists it (its message already holds the line)."""
    where = f"unreadable[{n}]"
    if not isinstance(item, Mapping):
        raise DocumentError(f"not an audit document ({where} is not an object)")
    file, reason = (_text(item.get(k), f"{where}.{k}") for k in ("file", "reason"))
    if not file or not reason:
        raise DocumentError(f"not an audit document ({where} lacks file or reason)")
    message = _text(item.get("message"), f"{where}.message") or ""
    return Unreadable(str(file), str(reason), str(message), _text(item.get("org_code"), where))


def _policy(block: Any) -> Policy | None:
    """The policy of a document's `policy` block (None for a document without one); what the
    block leaves out keeps its default."""
    if not isinstance(block, Mapping):
        return None
    changes: dict[str, Any] = {}
    try:
        for key in THRESHOLD_KEYS:
            if key in block:
                pair = block[key]
                changes[key] = Threshold(float(pair["warn"]), _optional_float(pair["fail"]))
        for key, name, kind in (
            ("coverage_min_records", "coverage_min_records", int),
            ("window_seconds", "window_seconds", int),
            ("fail_on", "fail_on", str),
            ("source", "source", str),
        ):
            if key in block:
                changes[name] = kind(block[key])
        if "windows" in block:
            changes["form_windows"] = {str(f): int(s) for f, s in dict(block["windows"]).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise DocumentError(f"not an audit document (its policy block: {exc})") from None
    return replace(Policy(), **changes)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise DocumentError(f"not an audit document ({key} is not a list)")
    return value


def _period(value: Any) -> Period | None:
    if value is None:
        return None
    try:
        return Period(date.fromisoformat(value["start"]), date.fromisoformat(value["end"]))
    except (TypeError, KeyError, ValueError):
        raise DocumentError("not an audit document (period is not start and end dates)") from None


def _fail_on(
    document: Mapping[str, Any], institutions: tuple[InstitutionResult, ...], passed: bool
) -> str:
    stated = document.get("policy")
    if isinstance(stated, Mapping) and stated.get("fail_on") in FAIL_ON_CHOICES:
        return str(stated["fail_on"])
    worst = max((SEVERITY_RANK[i.status] for i in institutions), default=0)
    if passed:
        return "never" if worst >= SEVERITY_RANK[FAIL] else "fail"
    return "warn" if worst == SEVERITY_RANK[WARN] else "fail"


def _whole(value: Any, where: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DocumentError(f"not an audit document ({where} is not a whole number)")
    return value


def _ratio(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DocumentError(f"not an audit document ({where} is not a number)")
    return float(value)


def _text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise DocumentError(f"not an audit document ({where} is not text)")
    return value


def _form(item: Any, where: str) -> FormResult:
    if not isinstance(item, Mapping):
        raise DocumentError(f"not an audit document ({where} is not an object)")
    return FormResult(
        rows=_whole(item.get("rows"), f"{where}.rows"),
        records=_whole(item.get("records"), f"{where}.records"),
        valid_records=_whole(item.get("valid_records"), f"{where}.valid_records"),
        realtime_records=_whole(item.get("realtime_records"), f"{where}.realtime_records"),
        rate=_ratio(item.get("rate"), f"{where}.rate"),
        delays=_delays(item.get("delays"), f"{where}.delays"),
    )


def _delays(value: Any, where: str) -> tuple[int, ...] | None:
    """A form's records per delay bucket (absent in documents before 0.2: None)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DocumentError(f"not an audit document ({where} is not an object)")
    return tuple(_whole(value.get(b, 0), f"{where}.{b}") for b in DELAY_BUCKETS)


def _days(value: Any, where: str) -> tuple[tuple[date, int], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise DocumentError(f"not an audit document ({where} is not an object)")
    try:
        days = [
            (date.fromisoformat(str(day)), _whole(n, f"{where}.{day}")) for day, n in value.items()
        ]
    except ValueError as exc:
        raise DocumentError(f"not an audit document ({where} has a key that is no date)") from exc
    return tuple(sorted(days))


def _flag(item: Any, where: str) -> Flag:
    if not isinstance(item, Mapping) or item.get("severity") not in SEVERITY_RANK:
        raise DocumentError(f"not an audit document ({where} is not a flag)")
    flag, message = _text(item.get("flag"), where), _text(item.get("message"), where)
    return Flag(flag or "", str(item["severity"]), message or "")


def _institution(item: Any, n: int) -> InstitutionResult:
    where = f"institutions[{n}]"
    if not isinstance(item, Mapping) or item.get("status") not in SEVERITY_RANK:
        raise DocumentError(f"not an audit document ({where} has no status)")
    forms_value = item.get("forms", {})
    if not isinstance(forms_value, Mapping):
        raise DocumentError(f"not an audit document ({where}.forms is not an object)")
    forms = {str(k): _form(v, f"{where}.forms.{k}") for k, v in forms_value.items()}
    flags = item.get("flags", [])
    if not isinstance(flags, list):
        raise DocumentError(f"not an audit document ({where}.flags is not a list)")

    def count(key: str) -> int | None:
        return _whole(item.get(key), f"{where}.{key}", optional=True)

    def ratio(key: str) -> float | None:
        return _ratio(item.get(key), f"{where}.{key}")

    records = count("records")
    audited = records is not None  # an audit's row; a ranked table has no records

    def visits(form: str, key: str) -> int | None:
        if key in item:  # documents of versions before 0.2 leave them out
            return count(key)
        return (forms[form].records if form in forms else 0) if audited else None

    return InstitutionResult(
        org_code=_text(item.get("org_code"), f"{where}.org_code"),
        name=_text(item.get("name"), f"{where}.name"),
        district=_text(item.get("district"), f"{where}.district"),
        rows_uploaded=count("rows_uploaded"),
        records=records,
        valid_records=count("valid_records"),
        valid_ratio=ratio("valid_ratio"),
        upload_days=count("upload_days"),
        period_days=count("period_days"),
        upload_day_ratio=ratio("upload_day_ratio"),
        forms_covered=count("forms_covered"),
        forms_required=count("forms_required"),
        outpatient_rate=ratio("outpatient_rate"),
        discharge_rate=ratio("discharge_rate"),
        status=str(item["status"]),
        flags=tuple(_flag(f, f"{where}.flags[{i}]") for i, f in enumerate(flags)),
        forms=forms,
        outpatient_visits=visits(OUTPATIENT_FORM, "outpatient_visits"),
        discharges=visits(DISCHARGE_FORM, "discharges"),
        day_rows=_days(item.get("days"), f"{where}.days"),
        checks=tuple(
            _check(c, i, f"{where}.checks[{i}]") for i, c in enumerate(item.get("checks") or [])
        ),
        residents=_residents(item.get("residents"), f"{where}.residents"),
    )


def _residents(value: Any, where: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DocumentError(f"not an audit document ({where} is not an object)")
    return {str(form): _whole(n, f"{where}.{form}") for form, n in value.items()}


def _district(item: Any, n: int, institutions: tuple[InstitutionResult, ...]) -> DistrictResult:
    """A district of the document's `districts` (--by district); its failing members are the
    document's institutions of that district whose status is fail."""
    where = f"districts[{n}]"
    if not isinstance(item, Mapping) or item.get("status") not in SEVERITY_RANK:
        raise DocumentError(f"not an audit document ({where} has no status)")
    name = _text(item.get("name"), f"{where}.name") or ""
    row = _institution({**item, "org_code": None, "district": name, "forms": {}}, n)
    visits = {k: _whole(item.get(k), f"{where}.{k}") for k in ("outpatient_visits", "discharges")}
    by_status = item.get("members_by_status") or {}
    members = item.get("members") or []
    if not isinstance(by_status, Mapping) or not isinstance(members, list):
        raise DocumentError(f"not an audit document ({where} has no members)")
    unknown = name == UNKNOWN_DISTRICT
    failing = sorted(
        i.label
        for i in institutions
        if i.status == "fail" and (i.district == name or (unknown and i.district is None))
    )
    return DistrictResult(
        row=replace(row, **visits),
        members=tuple(str(m) for m in members),
        members_by_status={
            str(s): _whole(c, f"{where}.members_by_status") for s, c in by_status.items()
        },
        worst_status=str(item.get("worst_status") or "ok"),
        failing=tuple(failing),
    )


def _check(item: Any, n: int, where: str = "") -> CheckCount:
    where = where or f"checks[{n}]"
    if not isinstance(item, Mapping):
        raise DocumentError(f"not an audit document ({where} is not an object)")
    names = [_text(item.get(k), f"{where}.{k}") for k in ("form", "column", "check")]
    if not all(names):
        raise DocumentError(f"not an audit document ({where} lacks form, column or check)")
    form, column, check = (str(name) for name in names)
    return CheckCount(form, column, check, _whole(item.get("failures"), f"{where}.failures"))
