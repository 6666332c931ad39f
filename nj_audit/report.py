"""Rendering audit results: rich table, JSON, CSV, Markdown, JUnit XML. The only module that
imports rich. Every CSV written goes through `safe_cell` so a spreadsheet never runs a formula."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .audit import AuditResult, InstitutionResult
from .forms import FORM_IDS
from .policy import FAIL, OK, SEVERITY_RANK, WARN, gate_passes, pct

if TYPE_CHECKING:
    from .validate import ValidateResult

SEVERITY_STYLE = {OK: "green", WARN: "yellow", FAIL: "bold red"}
SORT_KEYS = (
    "rows_uploaded",
    "upload_days",
    "forms_covered",
    "outpatient_rate",
    "discharge_rate",
    "valid_ratio",
    "status",
    "org_code",
    "name",
)

# The published table's columns (SPEC sections 1 and 7), then ours.
CSV_COLUMNS = (
    ("institution", "接入单位"),
    ("rows_uploaded", "数据上传量"),
    ("upload_days", "数据上传天数"),
    ("forms", "实时数据表单上传情况"),
    ("outpatient_visits", "门急诊人次"),
    ("outpatient_rate", "门急诊实时数据符合率"),
    ("discharges", "出院人次"),
    ("discharge_rate", "出院实时数据符合率"),
    ("org_code", "机构代码"),
    ("district", "所属区"),
    ("valid_ratio", "数据有效率"),
    ("period_days", "统计天数"),
    ("status", "状态"),
    ("flags", "预警"),
)


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not evaluate (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def forms_text(inst: InstitutionResult) -> str:
    if inst.forms_covered is None:
        return "/"
    return f"{inst.forms_covered}/{inst.forms_required}"


def ranked(result: AuditResult, sort: str = "rows_uploaded") -> list[InstitutionResult]:
    """Institutions best-first by `sort` (descending for numbers; ascending for names and codes)."""
    if sort in ("org_code", "name"):
        return sorted(result.institutions, key=lambda i: str(getattr(i, sort) or i.label))
    if sort == "status":
        return sorted(result.institutions, key=lambda i: (-SEVERITY_RANK[i.status], i.label))

    def key(inst: InstitutionResult) -> tuple[int, float, str]:
        value = getattr(inst, sort)
        return (value is None, -(value or 0), inst.label)

    return sorted(result.institutions, key=key)


def _period_text(result: AuditResult) -> str:
    if result.period is None:
        return "period not stated"
    return f"{result.period.start} to {result.period.end} ({result.period.days} days)"


def verdict_line(result: AuditResult) -> str:
    counts = {s: sum(1 for i in result.institutions if i.status == s) for s in (OK, WARN, FAIL)}
    gate = "PASSED" if result.passed else "FAILED"
    return (
        f"gate {gate} (--fail-on {result.fail_on}): {len(result.institutions)} institutions, "
        f"{counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} fail"
    )


def render_table(
    result: AuditResult, console: Console, sort: str = "rows_uploaded", title: str | None = None
) -> None:
    institutions = ranked(result, sort)
    with_district = any(i.district for i in institutions)
    with_validity = any(i.valid_ratio is not None for i in institutions)
    table = Table(
        title=title or f"Real-time upload audit, {_period_text(result)}", title_justify="left"
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("institution", overflow="fold", min_width=10)
    if with_district:
        table.add_column("district", overflow="fold")
    for header in (
        "rows",
        "days",
        "forms",
        "outpatient",
        "discharge",
        *(("validity",) if with_validity else ()),
    ):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("flags", overflow="fold")
    for rank, inst in enumerate(institutions, start=1):
        flags = Text()
        for n, flag in enumerate(inst.flags):
            flags.append(("" if n == 0 else " ") + flag.flag, style=SEVERITY_STYLE[flag.severity])
        cells: list[str | Text] = [str(rank), inst.label]
        if with_district:
            cells.append(inst.district or "")
        cells += metric_cells(inst)[: None if with_validity else -1]
        cells += [Text(inst.status, style=SEVERITY_STYLE[inst.status]), flags]
        table.add_row(*cells)
    console.print(table)
    for path in result.skipped:
        console.print(f"[yellow]skipped[/] {path} (no form matches its name)")
    console.print(verdict_line(result), style="green" if result.passed else "bold red")


def _int(value: int | None) -> str:
    return "/" if value is None else str(value)


def metric_cells(inst: InstitutionResult) -> list[str]:
    """rows, upload days, forms, outpatient, discharge and validity, as the table and Markdown show them."""
    return [
        _int(inst.rows_uploaded),
        _int(inst.upload_days),
        forms_text(inst),
        pct(inst.outpatient_rate),
        pct(inst.discharge_rate),
        pct(inst.valid_ratio),
    ]


def by_code(inst: InstitutionResult) -> tuple[str, str]:
    """The order of the JSON and JUnit documents: by org_code, then name."""
    return inst.org_code or "", inst.name or ""


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
        "checks": [
            {"form": c.form, "column": c.column, "check": c.check, "failures": c.failures}
            for c in result.checks
        ],
    }


def render_json(result: AuditResult) -> str:
    return json.dumps(to_document(result), ensure_ascii=False, indent=2) + "\n"


def _csv_value(inst: InstitutionResult, column: str) -> object:
    if column == "institution":
        return inst.label
    if column == "forms":
        return forms_text(inst)
    if column in ("outpatient_rate", "discharge_rate", "valid_ratio"):
        return pct(getattr(inst, column))
    if column == "flags":
        return " ".join(f.flag for f in inst.flags)
    value = getattr(inst, column)
    return "" if value is None else value


def render_csv(result: AuditResult, lang: str = "en", sort: str = "rows_uploaded") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([zh if lang == "zh" else en for en, zh in CSV_COLUMNS])
    for inst in ranked(result, sort):
        writer.writerow([safe_cell(_csv_value(inst, en)) for en, _ in CSV_COLUMNS])
    return out.getvalue()


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: AuditResult, sort: str = "rows_uploaded") -> str:
    icon = {OK: "✅ ok", WARN: "⚠️ warn", FAIL: "❌ fail"}
    lines = [
        f"## nj-audit: {'passed' if result.passed else 'failed'}",
        "",
        f"Period {_period_text(result)}; real-time window {result.window_seconds} s. {verdict_line(result)}.",
        "",
        "| # | institution | district | rows | upload days | forms | outpatient | discharge | validity | status | flags |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for rank, inst in enumerate(ranked(result, sort), start=1):
        cells = [
            rank,
            inst.label,
            inst.district or "",
            *metric_cells(inst),
            icon[inst.status],
            ", ".join(f"{f.flag} ({f.severity})" for f in inst.flags),
        ]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_junit(result: AuditResult) -> str:
    """One test case per institution; it fails when its status fails the gate."""
    from xml.sax.saxutils import (
        escape,
        quoteattr,
    )  # here: it imports urllib, a fiftieth of the start-up

    cases = []
    failures = 0
    for inst in sorted(result.institutions, key=by_code):
        name = (
            inst.label
            if inst.org_code is None or inst.name is None
            else f"{inst.name} ({inst.org_code})"
        )
        body = ""
        if not gate_passes([inst.status], result.fail_on):
            failures += 1
            message = "; ".join(f.message for f in inst.flags)
            body = f"<failure message={quoteattr(message)} type={quoteattr(inst.status)}>{escape(message)}</failure>"
        elif inst.flags:
            body = f"<system-out>{escape('; '.join(f.message for f in inst.flags))}</system-out>"
        cases.append(f'    <testcase classname="nj-audit" name={quoteattr(name)}>{body}</testcase>')
    header = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="nj-audit" '
        f'tests="{len(cases)}" failures="{failures}" errors="0">'
    )
    return "\n".join([header, *cases, "  </testsuite>", "</testsuites>"]) + "\n"


# -- validate -------------------------------------------------------------------------------


def validate_verdict(result: ValidateResult) -> str:
    if result.valid:
        return f"valid: all {result.rows} rows pass every rule"
    share = result.invalid_rows / result.rows if result.rows else 0
    return (
        f"invalid: {result.invalid_rows} of {result.rows} rows ({share:.2%}) fail at least one rule"
    )


def render_validate_table(result: ValidateResult, console: Console) -> None:
    for form in result.forms:
        if not form.checks:
            console.print(f"[green]{form.form}[/]: {form.rows} rows, all valid")
            continue
        table = Table(
            title=f"{form.form}: {form.invalid_rows} of {form.rows} rows invalid",
            title_justify="left",
        )
        for header, justify in (
            ("check", "left"),
            ("column", "left"),
            ("rows", "right"),
            ("share", "right"),
            ("examples", "left"),
        ):
            table.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for check in sorted(form.checks.values(), key=lambda c: (-c.rows, c.column, c.check)):
            examples = "\n".join(
                f"{e.file}:{e.line} {e.value!r}" if e.value else f"{e.file}:{e.line}"
                for e in check.examples
            )
            share = check.rows / form.rows if form.rows else 0
            table.add_row(check.label, check.column, str(check.rows), f"{share:.2%}", examples)
        console.print(table)
    for path in result.skipped:
        console.print(f"[yellow]skipped[/] {path} (no form matches its name)")
    console.print(validate_verdict(result), style="green" if result.valid else "bold red")


def validate_document(result: ValidateResult) -> dict[str, Any]:
    return {
        "valid": result.valid,
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
                    for c in sorted(f.checks.values(), key=lambda c: (c.column, c.check))
                ],
            }
            for f in result.forms
        ],
        "skipped": [str(p) for p in result.skipped],
    }
