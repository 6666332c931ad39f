"""The JSON documents: the audit's (docs/contract.md § 7.2) and validate's. Both are described by
docs/audit.schema.json.

json.dumps escapes C0 controls; the other characters that act on a terminal or reorder text (DEL,
C1, bidi overrides and isolates, zero-width and line separators: `text.CONTROL_CODES`) are
written as `\\uXXXX` escapes too, so the document holds no control character and parses back to
exactly the data."""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..delays import DELAY_BUCKETS, DELAY_EDGES
from ..forms import FORM_IDS
from ..policy import THRESHOLD_KEYS, Policy
from ..results import AuditResult, CheckCount, Flag, FormResult, Unreadable, ValidateResult
from ..texts import check_name, flag_name, message_text, reason_name, status_word
from .text import CONTROL_CODES, by_code, ordered

_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in CONTROL_CODES if code >= 0x20}


def dumps(document: Any) -> str:
    """The document as indented JSON, controls escaped."""
    return json.dumps(document, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES) + "\n"


def unreadable_list(items: tuple[Unreadable, ...], lang: str = "en") -> list[dict[str, Any]]:
    """Each unreadable file: its reason's code, and what it means (`label`) in `lang`."""
    return [
        {"file": u.file, "reason": u.reason, "message": u.described, "org_code": u.org_code}
        | {"label": reason_name(u.reason, lang)}
        for u in items
    ]


TOOL = {"name": "nj-audit", "version": __version__}


def _number(value: float | None) -> float | int | None:
    """11.0 as 11: a threshold read from TOML is a float even when written as a whole number."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def policy_block(policy: Policy) -> dict[str, Any]:
    """The policy a result was judged with, and where it came from (contract § 5.3)."""
    block: dict[str, Any] = {
        "source": policy.source,
        "fail_on": policy.fail_on,
        "window_seconds": policy.window_seconds,
        "windows": {f: policy.form_windows[f] for f in FORM_IDS if f in policy.form_windows},
        "coverage_min_records": policy.coverage_min_records,
    }
    for key in THRESHOLD_KEYS:
        threshold = getattr(policy, key)
        number = _number if key == "coverage" else (lambda v: v)
        block[key] = {"warn": number(threshold.warn), "fail": number(threshold.fail)}
    return block


def delay_edges() -> list[dict[str, Any]]:
    """The buckets of contract § 4.9 with their edges in seconds (null: unbounded)."""
    edges: list[int | None] = [None, *DELAY_EDGES, None]
    return [
        {"bucket": bucket, "from_seconds": edges[i], "to_seconds": edges[i + 1]}
        for i, bucket in enumerate(DELAY_BUCKETS)
    ]


def _form(c: FormResult) -> dict[str, Any]:
    item: dict[str, Any] = {
        "rows": c.rows,
        "records": c.records,
        "valid_records": c.valid_records,
        "realtime_records": c.realtime_records,
        "rate": c.rate,
    }
    if c.delays is not None:
        item["delays"] = dict(zip(DELAY_BUCKETS, c.delays))
    return item


def check_list(checks: tuple[CheckCount, ...], lang: str = "en") -> list[dict[str, Any]]:
    return [
        {"form": c.form, "column": c.column, "check": c.check, "failures": c.failures}
        | {"label": check_name(c.check, lang)}
        for c in checks
    ]


def flag_list(flags: tuple[Flag, ...], lang: str = "en") -> list[dict[str, Any]]:
    """Each flag's code and severity, its name (`label`) and message in `lang`."""
    return [
        {"flag": f.flag, "severity": f.severity, "message": message_text(f.message, lang)}
        | {"label": flag_name(f.flag, lang)}
        for f in flags
    ]


def to_document(
    result: AuditResult, lang: str = "en", sort: str = "rows_uploaded"
) -> dict[str, Any]:
    """The JSON document of docs/contract.md § 7.2: keys and codes in English, the labels and
    messages beside them in `lang`; listed by code, each with its `rank` in the order of `sort`."""
    period = None
    if result.period is not None:
        period = {
            "start": result.period.start.isoformat(),
            "end": result.period.end.isoformat(),
            "days": result.period.days,
        }
    rank_of = {id(inst): n for n, inst in enumerate(ordered(result.institutions, sort), start=1)}
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
            "outpatient_visits": inst.outpatient_visits,  # 门急诊人次: a table's, or the records
            "outpatient_rate": inst.outpatient_rate,
            "discharges": inst.discharges,
            "discharge_rate": inst.discharge_rate,
            "rank": rank_of[id(inst)],
            "status": inst.status,
            "status_label": status_word(inst.status, lang),
            "flags": flag_list(inst.flags, lang),
            "forms": {
                form: _form(c)
                for form, c in sorted(
                    inst.forms.items(),
                    key=lambda kv: FORM_IDS.index(kv[0]) if kv[0] in FORM_IDS else 99,
                )
            },
            **({} if inst.residents is None else {"residents": dict(inst.residents)}),
            "days": {day.isoformat(): rows for day, rows in inst.day_rows},
            "checks": check_list(inst.checks, lang),
        }
        institutions.append(item)
    districts = {}
    if result.districts:  # --by district (contract § 4.8): the districts beside the institutions
        district_rank = {  # a district's row is labelled by its name
            row.label: n
            for n, row in enumerate(ordered([d.row for d in result.districts], sort), start=1)
        }
        districts["districts"] = [
            {
                "name": d.name,
                **{
                    key: getattr(d.row, key)
                    for key in (
                        "rows_uploaded",
                        "records",
                        "valid_records",
                        "valid_ratio",
                        "upload_days",
                        "period_days",
                        "upload_day_ratio",
                        "forms_covered",
                        "forms_required",
                        "outpatient_visits",
                        "outpatient_rate",
                        "discharges",
                        "discharge_rate",
                    )
                },
                "residents": dict(d.row.residents or {}),
                "members": list(d.members),
                "members_by_status": dict(d.members_by_status),
                "worst_status": d.worst_status,
                "rank": district_rank[d.name],
                "status": d.row.status,
                "status_label": status_word(d.row.status, lang),
                "flags": flag_list(d.row.flags, lang),
            }
            for d in result.districts
        ]
    return {
        "tool": dict(TOOL),
        "period": period,
        "window_seconds": result.window_seconds,
        "policy": None if result.policy is None else policy_block(result.policy),
        "passed": result.passed,
        "institutions": institutions,
        **districts,
        "unreadable": unreadable_list(result.unreadable, lang),
        "skipped": [str(path) for path in result.skipped],
        "delays": delay_edges(),
        "checks": check_list(result.checks, lang),
    }


def render_json(result: AuditResult, lang: str = "en", sort: str = "rows_uploaded") -> str:
    return dumps(to_document(result, lang, sort))


def validate_document(result: ValidateResult, lang: str = "en") -> dict[str, Any]:
    return {
        "tool": dict(TOOL),
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
                        "label": check_name(c.check, lang),
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
        "unreadable": unreadable_list(result.unreadable, lang),
    }


def render_validate_json(result: ValidateResult, lang: str = "en") -> str:
    return dumps(validate_document(result, lang))
