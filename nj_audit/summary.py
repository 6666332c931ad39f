"""Published summary tables (SPEC section 7): read one (CSV or xlsx, English or Chinese headers),
validate it with schemas/summary.yaml, and rank and flag its institutions with the audit's policy.

A row that fails the schema is still ranked, never dropped: the values that failed a check are left
out (None, so they raise no flag of their own) and the row gets the flag `invalid_row`, severity
fail, naming the checks. A broken row therefore fails the gate like a weak institution would (unless
`--fail-on never`), and the failures are also reported like `validate` reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import table_checks  # noqa: F401 - registers the table checks before the schema loads
from .audit import AuditResult, CheckCount, InstitutionResult
from .errors import InputError
from .policy import FAIL, Flag, Policy, evaluate_flags, gate_passes, status_of
from .reading import Chunk, read_chunks
from .report import CSV_COLUMNS
from .schemas import FormSchema, build_form_schema, load_schema_file, schema_path
from .table_checks import NOT_APPLICABLE, parse_fraction, parse_rate
from .validate import FormSummary, ValidateResult, record_failure
from .validation import ROW, Failure, judge

SCHEMA = "summary"
DEFAULT_PERIOD_DAYS = 365
FIELDS = (
    "institution",
    "rows_uploaded",
    "upload_days",
    "forms",
    "outpatient_visits",
    "outpatient_rate",
    "discharges",
    "discharge_rate",
    "org_code",
    "district",
    "valid_ratio",
)
RATE_FIELDS = (("outpatient_rate", "outpatient"), ("discharge_rate", "discharge"))
XLSX_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SEARCH_ROWS = 20  # an xlsx sheet may have a title above its header row


def _key(header: str) -> str:
    return re.sub(r"\s+", "", header).lower()


ALIASES = {
    _key(name): en for en, zh in CSV_COLUMNS for name in (en, zh) if en in (*FIELDS, "period_days")
}


@dataclass(frozen=True)
class Ranking:
    """The ranked table, as the audit's result, and the table's own schema failures."""

    result: AuditResult
    table: ValidateResult


# -- reading ---------------------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.strip() or None


def _read_xlsx(path: Path) -> Chunk:
    """The first sheet: header row (the first that names the institution column), then data rows."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        rows = [
            (n, [_cell_text(v) for v in row])
            for n, row in enumerate(book.worksheets[0].iter_rows(values_only=True), 1)
        ]
        book.close()
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors... for a bad workbook
        raise InputError(f"cannot read xlsx workbook: {exc}", path) from None
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise InputError("empty workbook (no header row)", path)
    start = next(
        (i for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]) if _names_institution(cells)),
        0,
    )
    header = [c or f"(column {i})" for i, c in enumerate(rows[start][1], 1)]
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise InputError(
            f"duplicate column names in header: {', '.join(duplicates)}", path, rows[start][0]
        )
    body = rows[start + 1 :]
    columns = {
        h: [cells[i] if i < len(cells) else None for _, cells in body] for i, h in enumerate(header)
    }
    frame = (
        pd.DataFrame(columns, dtype=object).astype("str")
        if body
        else pd.DataFrame({h: [] for h in header}).astype("str")
    )
    return Chunk(frame, np.array([n for n, _ in body], dtype=np.int64))


def _names_institution(cells: list[str | None]) -> bool:
    return any(c is not None and ALIASES.get(_key(c)) == "institution" for c in cells)


def _read_csv(path: Path, encoding: str | None) -> Chunk:
    chunks = list(read_chunks(path, encoding, form=SCHEMA))  # not an upload form: no header check
    offsets = np.cumsum([0] + [len(c.frame) for c in chunks])
    damage = {
        int(o) + p: problem for c, o in zip(chunks, offsets) for p, problem in c.damage.items()
    }
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    return Chunk(frame, np.concatenate([c.lines for c in chunks]), damage)


def read_table(path: Path, encoding: str | None = None) -> Chunk:
    """The table's rows as text, columns renamed to the schema's English names (others kept)."""
    chunk = _read_xlsx(path) if path.suffix.lower() in XLSX_SUFFIXES else _read_csv(path, encoding)
    names: dict[str, str] = {}
    for header in chunk.frame.columns:
        field = ALIASES.get(_key(str(header)))
        if field is None:
            continue
        if field in names.values():
            other = next(h for h, f in names.items() if f == field)
            raise InputError(f"columns {other!r} and {header!r} are both {field}", path, 1)
        names[header] = field
    if "institution" not in names.values():
        raise InputError(
            f"no institution column (接入单位 or institution); the header is: {', '.join(map(str, chunk.frame.columns))}",
            path,
            1,
        )
    frame = chunk.frame.rename(columns=names)
    blank = [
        c
        for c in frame.columns
        if c in names.values() and c != "institution" and frame[c].isna().all()
    ]
    return Chunk(
        frame.drop(columns=blank), chunk.lines, chunk.damage
    )  # an all-blank column counts as absent


# -- the schema ------------------------------------------------------------------------------------


@cache
def _base_schema() -> FormSchema:
    return load_schema_file(schema_path(SCHEMA))


@cache
def summary_schema(period_days: int = DEFAULT_PERIOD_DAYS) -> FormSchema:
    """schemas/summary.yaml with its upload-days limit set to `period_days`."""
    base = _base_schema()
    column = base.schema.columns["upload_days"]
    checks = [
        pa.Check.within_period_days(
            period_days=period_days, error=f"upload days within the period ({period_days} days)"
        )
        if check.name == "within_period_days"
        else check
        for check in column.checks
    ]
    schema = base.schema.update_column("upload_days", checks=checks)
    return build_form_schema(schema, base.source)


def table_period_days(chunk: Chunk, path: Path) -> int | None:
    """The table's own period (a period_days column with one value), if it has one."""
    if "period_days" not in chunk.frame.columns:
        return None
    values = set(chunk.frame["period_days"].dropna())
    if len(values) != 1 or not next(iter(values)).isdigit() or int(next(iter(values))) < 1:
        raise InputError(
            "the period_days column must hold one whole number >= 1 (or pass --period-days)", path
        )
    return int(next(iter(values)))


# -- ranking ---------------------------------------------------------------------------------------


def rank_table(
    path: Path, *, policy: Policy, period_days: int | None = None, encoding: str | None = None
) -> Ranking:
    """Read, validate, rank and flag a summary table; the gate as `audit` decides it."""
    chunk = read_table(path, encoding)
    days = period_days or table_period_days(chunk, path) or DEFAULT_PERIOD_DAYS
    spec = summary_schema(days)
    verdict = judge(chunk, spec)
    bad: dict[int, list[Failure]] = {}
    for failure in verdict.failures:
        for row in failure.rows.tolist():
            bad.setdefault(row, []).append(failure)
    institutions = [
        _institution(chunk, verdict.typed, row, bad.get(row, []), days, policy)
        for row in range(len(chunk.frame))
    ]
    table = _table_report(path, chunk, spec, verdict.failures, int((~verdict.valid).sum()))
    checks = [
        CheckCount(SCHEMA, c.column, c.check, c.rows)
        for _, c in sorted(table.forms[0].checks.items())
    ]
    passed = gate_passes([i.status for i in institutions], policy.fail_on)
    return Ranking(
        AuditResult(None, policy.window_seconds, passed, policy.fail_on, institutions, checks),
        table,
    )


def _institution(
    chunk: Chunk,
    typed: pd.DataFrame,
    row: int,
    failures: list[Failure],
    period_days: int,
    policy: Policy,
) -> InstitutionResult:
    failed = {f.column for f in failures}
    damaged = ROW in failed

    def text(column: str) -> str | None:
        return None if damaged or column in failed else _raw(chunk, column, row)

    def count(column: str) -> int | None:
        if text(column) is None:
            return None
        value = typed[column].iloc[row]
        return None if pd.isna(value) else int(value)

    forms = parse_fraction(text("forms"))
    forms_covered, forms_required = forms if forms else (None, None)
    upload_days = count("upload_days")
    day_ratio = None if upload_days is None else upload_days / period_days
    outpatient, discharge = parse_rate(text("outpatient_rate")), parse_rate(text("discharge_rate"))
    valid_ratio = parse_rate(text("valid_ratio"))
    flags = evaluate_flags(
        policy,
        forms_covered=forms_covered,
        forms_required=forms_required,
        outpatient_rate=outpatient,
        discharge_rate=discharge,
        upload_day_ratio=day_ratio,
        valid_ratio=valid_ratio,
        no_data=[
            kind for column, kind in RATE_FIELDS if text(column) == NOT_APPLICABLE
        ],  # a `/`, not a failing cell
    )
    if failures:
        names = ", ".join(
            sorted({f.check if f.column == ROW else f"{f.check} ({f.column})" for f in failures})
        )
        flags.append(
            Flag(
                "invalid_row",
                FAIL,
                f"line {int(chunk.lines[row])} fails the summary schema: {names}",
            )
        )
    name, org_code = _raw(chunk, "institution", row), _raw(chunk, "org_code", row)
    return InstitutionResult(
        org_code=org_code,
        name=None
        if name == org_code
        else name,  # audit's csv writes the org_code when there is no name
        district=_raw(chunk, "district", row),
        rows_uploaded=count("rows_uploaded"),
        records=None,
        valid_records=None,
        valid_ratio=valid_ratio,
        upload_days=upload_days,
        period_days=period_days,
        upload_day_ratio=day_ratio,
        forms_covered=forms_covered,
        forms_required=forms_required,
        outpatient_rate=outpatient,
        discharge_rate=discharge,
        status=status_of(flags),
        flags=tuple(flags),
        outpatient_visits=count("outpatient_visits"),
        discharges=count("discharges"),
    )


def _raw(chunk: Chunk, column: str, row: int) -> str | None:
    if column not in chunk.frame.columns:
        return None
    value = chunk.frame[column].iloc[row]
    return None if pd.isna(value) else str(value)


def _table_report(
    path: Path, chunk: Chunk, spec: FormSchema, failures: list[Failure], invalid: int
) -> ValidateResult:
    """The schema failures as `validate` reports them (examples with their lines)."""
    summary = FormSummary(SCHEMA, [str(path)], len(chunk.frame), invalid)
    for failure in failures:
        record_failure(summary, path, chunk, failure, spec, show_pii=False, writer=None)
    return ValidateResult([summary], [])
