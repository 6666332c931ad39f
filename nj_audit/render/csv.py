"""CSV outputs: the published table's columns (`--format csv`) and validate's failures file.

Every cell goes through `safe_cell`: control characters are escaped (`printable`), and a cell
that a spreadsheet would evaluate (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return,
after any leading whitespace or control characters) is prefixed with `'` (OWASP CSV injection).
Rows are written by `csv_line`, which quotes every cell holding a comma, a quote, CR or LF (the
csv module leaves a bare CR unquoted when lines end in LF, and a reader then starts a new row)."""

from __future__ import annotations

from typing import TextIO

from ..atomic import AtomicText
from ..columns import DISTRICT_COLUMNS, FAILURE_COLUMNS, TABLE_COLUMNS
from ..policy import pct
from ..results import AuditResult, InstitutionResult
from ..texts import flag_name, status_word
from ..validate import FailureRecord
from .text import (
    CONTROL_CODES,
    SLASHED_WHEN_NONE,
    district_value,
    forms_text,
    printable,
    ranked,
    ranked_districts,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LEADING = "".join(chr(code) for code in CONTROL_CODES) + " \u00a0\u3000"


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not evaluate (OWASP CSV injection), control characters
    escaped."""
    text = "" if value is None else str(value)
    if text.lstrip(_LEADING)[:1] in FORMULA_STARTS or text[:1] in FORMULA_STARTS:
        text = "'" + text
    return printable(text)


def csv_line(cells: list[str]) -> str:
    """One CSV row ending in LF; a cell is quoted when it holds `,`, `"`, CR or LF."""
    quoted = (
        '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell
        for cell in cells
    )
    return ",".join(quoted) + "\n"


DISTRICT_ONLY = {en for en, _ in DISTRICT_COLUMNS} - {en for en, _ in TABLE_COLUMNS}
BOM = "\ufeff"  # at the start of a Chinese CSV, so that Excel reads it as UTF-8


def _csv_value(inst: InstitutionResult, column: str, lang: str = "en") -> object:
    if column == "institution":
        return inst.label
    if column == "forms":
        return forms_text(inst)
    if column in ("outpatient_rate", "discharge_rate", "valid_ratio"):
        return pct(getattr(inst, column))
    if column == "flags":
        return " ".join(flag_name(f.flag, lang) for f in inst.flags)
    if column == "status":
        return status_word(inst.status, lang)
    value = getattr(inst, column)
    if value is None:
        return "/" if column in SLASHED_WHEN_NONE else ""
    return value


def render_csv(result: AuditResult, lang: str = "en", sort: str = "rows_uploaded") -> str:
    """The published table's columns; in Chinese with a BOM first (Excel on Windows reads a CSV
    without one as the ANSI code page: mojibake). The English CSV stays plain UTF-8."""
    lines = [BOM if lang == "zh" else ""]
    if result.districts:  # --by district: the published district table
        lines.append(csv_line([zh if lang == "zh" else en for en, zh in DISTRICT_COLUMNS]))
        for district in ranked_districts(result, sort):
            cells = [
                district_value(district, en, lang)
                if en in DISTRICT_ONLY
                else _csv_value(district.row, en, lang)
                for en, _ in DISTRICT_COLUMNS
            ]
            lines.append(csv_line([safe_cell(cell) for cell in cells]))
        return "".join(lines)
    lines.append(csv_line([zh if lang == "zh" else en for en, zh in TABLE_COLUMNS]))
    for inst in ranked(result, sort):
        lines.append(csv_line([safe_cell(_csv_value(inst, en, lang)) for en, _ in TABLE_COLUMNS]))
    return "".join(lines)


class FailureWriter:
    """validate's `--failures` file: a header, then one line per failing value as it is found.
    Nothing is written before the first failure or `finish` (the sink may open its file then)."""

    def __init__(self, stream: TextIO | AtomicText):
        self.stream = stream
        self.started = False

    def _start(self) -> None:
        if not self.started:
            self.started = True
            self.stream.write(csv_line(list(FAILURE_COLUMNS)))

    def __call__(self, record: FailureRecord) -> None:
        self._start()
        cells = (record.file, record.line, record.form, record.column, record.check, record.value)
        self.stream.write(csv_line([safe_cell(v) for v in cells]))

    def finish(self) -> None:
        """The header, if no failure was written."""
        self._start()
