"""The JSON documents: the audit's (contract section 7) and validate's.

json.dumps escapes C0 controls; the other characters that act on a terminal or reorder text (DEL,
C1, bidi overrides and isolates, zero-width and line separators: `text.CONTROL_CODES`) are
written as `\\uXXXX` escapes too, so the document holds no control character and parses back to
exactly the data."""

from __future__ import annotations

import json
from typing import Any

from ..forms import FORM_IDS
from ..results import AuditResult, Unreadable, ValidateResult
from .text import CONTROL_CODES, by_code

_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in CONTROL_CODES if code >= 0x20}


def dumps(document: Any) -> str:
    """The document as indented JSON, controls escaped."""
    return json.dumps(document, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES) + "\n"


def unreadable_list(items: tuple[Unreadable, ...]) -> list[dict[str, Any]]:
    return [
        {"file": u.file, "reason": u.reason, "message": u.described, "org_code": u.org_code}
        for u in items
    ]


def to_document(result: AuditResult) -> dict[str, Any]:
    """The JSON document of SPEC section 6."""
    period = None
    if result.period is not None:
        period = {
            "start": result.period.start.isoformat(),
            "end": result.period.end.isoformat(),
            "days": result.period.days,
        }
    institutions = []
    for inst in sorted(result.institutions, key=by_code):
        item: dict[str, Any] = {
            "org_code": inst.org_code,
            "name": inst.name,
            "district": inst.district,
            "rows_uploaded": inst.rows_uploaded,
            "records": inst.records,
            "valid_records": inst.valid_records,
            "valid_ratio": inst.valid_ratio,
            "upload_days": inst.upload_days,
            "period_days": inst.period_days,
            "upload_day_ratio": inst.upload_day_ratio,
            "forms_covered": inst.forms_covered,
            "forms_required": inst.forms_required,
            "outpatient_rate": inst.outpatient_rate,
            "discharge_rate": inst.discharge_rate,
            "status": inst.status,
            "flags": [
                {"flag": f.flag, "severity": f.severity, "message": f.message} for f in inst.flags
            ],
            "forms": {
                form: {
                    "rows": c.rows,
                    "records": c.records,
                    "valid_records": c.valid_records,
                    "realtime_records": c.realtime_records,
                    "rate": c.rate,
                }
                for form, c in sorted(
                    inst.forms.items(),
                    key=lambda kv: FORM_IDS.index(kv[0]) if kv[0] in FORM_IDS else 99,
                )
            },
        }
        institutions.append(item)
    return {
        "period": period,
        "window_seconds": result.window_seconds,
        "passed": result.passed,
        "institutions": institutions,
        "unreadable": unreadable_list(result.unreadable),
        "checks": [
            {"form": c.form, "column": c.column, "check": c.check, "failures": c.failures}
            for c in result.checks
        ],
    }


def render_json(result: AuditResult) -> str:
    return dumps(to_document(result))


def validate_document(result: ValidateResult) -> dict[str, Any]:
    return {
        "valid": result.passed,
        "rows": result.rows,
        "invalid_rows": result.invalid_rows,
        "forms": [
            {
                "form": f.form,
                "files": f.files,
                "rows": f.rows,
                "invalid_rows": f.invalid_rows,
                "checks": [
                    {
                        "column": c.column,
                        "check": c.check,
                        "message": c.message,
                        "rows": c.rows,
                        "share": c.rows / f.rows if f.rows else None,
                        "examples": [
                            {"file": e.file, "line": e.line, "value": e.value} for e in c.examples
                        ],
                    }
                    for c in sorted(f.checks, key=lambda c: (c.column, c.check))
                ],
            }
            for f in result.forms
        ],
        "skipped": [str(p) for p in result.skipped],
        "unreadable": unreadable_list(result.unreadable),
    }


def render_validate_json(result: ValidateResult) -> str:
    return dumps(validate_document(result))
