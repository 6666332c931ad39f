"""CSV outputs: the published table's columns (`--format csv`) and validate's failures file.
Every cell goes through `safe_cell`, so that a spreadsheet never runs a formula."""

from __future__ import annotations

import csv
import io
from typing import TextIO

from ..policy import pct
from ..published import TABLE_COLUMNS
from ..results import AuditResult, InstitutionResult
from ..validate import FailureRecord
from .text import forms_text, ranked

FAILURE_COLUMNS = ("file", "line", "form", "column", "check", "value")


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not evaluate (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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
    writer.writerow([zh if lang == "zh" else en for en, zh in TABLE_COLUMNS])
    for inst in ranked(result, sort):
        writer.writerow([safe_cell(_csv_value(inst, en)) for en, _ in TABLE_COLUMNS])
    return out.getvalue()


class FailureWriter:
    """validate's `--failures` file: a header, then one line per failing value as it is found."""

    def __init__(self, stream: TextIO):
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(FAILURE_COLUMNS)

    def __call__(self, record: FailureRecord) -> None:
        cells = (record.file, record.line, record.form, record.column, record.check, record.value)
        self.writer.writerow([safe_cell(v) for v in cells])
