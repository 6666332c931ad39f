"""Excel: the published table's columns in the chosen language with typed cells (counts as
integers, rates as numbers in a percent format, `/` where a value is null), status cells coloured
by severity, a frozen header, an auto-filter and widths that fit Chinese text; a second sheet of
per-form rates and a third of check failure counts; the policy's source under the table.

Text from data goes through `safe_cell` (control characters escaped, formulas defused): a cell is
always a value, never a formula."""

from __future__ import annotations

import io
import unicodedata

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..columns import DISTRICT_COLUMNS, TABLE_COLUMNS
from ..results import AuditResult, InstitutionResult
from ..texts import flag_name, status_word, text
from .csv import safe_cell
from .text import (
    SLASHED_WHEN_NONE,
    district_value,
    forms_text,
    policy_note,
    ranked,
    verdict_line,
)

TABLE_NAMES = {en for en, _ in TABLE_COLUMNS}

PERCENT = "0.00%"
SEVERITY_FILL = {"ok": "C6EFCE", "warn": "FFEB9C", "fail": "FFC7CE"}  # Excel's good/neutral/bad
RATES = ("outpatient_rate", "discharge_rate", "valid_ratio")
COUNTS = ("rows_uploaded", "upload_days", "outpatient_visits", "discharges", "period_days")


NOTE_ROWS = 3  # the verdict, the policy and a blank row above the table's header


def _value(inst: InstitutionResult, column: str, lang: str) -> object:
    if column == "institution":
        return safe_cell(inst.label)
    if column == "forms":
        return forms_text(inst)
    if column == "status":
        return status_word(inst.status, lang)
    if column == "flags":
        return " ".join(flag_name(f.flag, lang) for f in inst.flags)
    value = getattr(inst, column)
    if value is None:
        return "/" if column in SLASHED_WHEN_NONE else None
    return value if column in RATES or column in COUNTS else safe_cell(value)


def _district_cell(value: object) -> object:
    return value if isinstance(value, int) else safe_cell(value)


def cell_len(value: str) -> int:
    """Columns a text takes: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def _fit_widths(sheet: object) -> None:
    """Each column as wide as its widest cell, counting a Chinese character as two."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            shown = f"{cell.value:.2%}" if isinstance(cell.value, float) else str(cell.value or "")
            widths[cell.column] = max(widths.get(cell.column, 0), cell_len(shown))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, 80)  # type: ignore[attr-defined]


def _header(sheet: object, cells: list[str]) -> None:
    sheet.append(cells)  # type: ignore[attr-defined]
    for cell in sheet[1]:  # type: ignore[index]
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"  # type: ignore[attr-defined]


def render_xlsx(result: AuditResult, lang: str = "en", sort: str = "rows_uploaded") -> bytes:
    """The workbook's bytes: sheets audit, forms and checks (稽核, 各表单, 规则失败 in zh)."""
    book = Workbook()
    table = book.active
    table.title = text("sheet.table", lang)
    columns = DISTRICT_COLUMNS if result.districts else TABLE_COLUMNS
    _header(table, [zh if lang == "zh" else en for en, zh in columns])
    institutions = ranked(result, sort)
    districts = {d.name: d for d in result.districts}  # --by district: the district table
    for line, inst in enumerate(institutions, start=2):
        district = districts.get(inst.label)
        table.append(
            [
                _value(inst, en, lang)
                if district is None or en in TABLE_NAMES
                else _district_cell(district_value(district, en, lang))
                for en, _ in columns
            ]
        )
        for cell, (column, _) in zip(table[line], columns):
            if column in RATES and isinstance(cell.value, float):
                cell.number_format = PERCENT
            if column == "status":
                cell.fill = PatternFill("solid", fgColor=SEVERITY_FILL[inst.status])
    _fit_widths(table)
    # The verdict and the policy above the table, not under it: `rank` reads this sheet back as
    # a summary table, and a line under the table would be a row (a title above the header is
    # skipped). They are put in after the widths are fitted, so they do not widen column A.
    table.insert_rows(1, NOTE_ROWS)
    table["A1"] = safe_cell(verdict_line(result, lang))
    table["A2"] = safe_cell(policy_note(result, lang))
    header_row = NOTE_ROWS + 1
    table.freeze_panes = f"A{header_row + 1}"
    last = get_column_letter(len(columns))
    table.auto_filter.ref = f"A{header_row}:{last}{header_row + len(institutions)}"

    forms = book.create_sheet(text("sheet.forms", lang))
    keys = ("institution", "form", "rows", "records", "valid_records", "realtime_records", "rate")
    _header(forms, [text(f"col.{k}", lang) for k in keys])
    for inst in institutions:
        for form, counts in sorted(inst.forms.items()):
            rate = "/" if counts.rate is None else counts.rate
            forms.append(
                [
                    safe_cell(inst.label),
                    form,
                    counts.rows,
                    counts.records,
                    counts.valid_records,
                    counts.realtime_records,
                    rate,
                ]
            )
            if counts.rate is not None:
                forms.cell(forms.max_row, len(keys)).number_format = PERCENT
    forms.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{forms.max_row}"
    _fit_widths(forms)

    checks = book.create_sheet(text("sheet.checks", lang))
    _header(checks, [text(f"col.{k}", lang) for k in ("form", "column", "check", "failures")])
    for count in sorted(result.checks, key=lambda c: (-c.failures, c.form, c.column, c.check)):
        checks.append([count.form, count.column, count.check, count.failures])
    checks.auto_filter.ref = f"A1:D{checks.max_row}"
    _fit_widths(checks)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
