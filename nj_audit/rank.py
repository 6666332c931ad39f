"""`rank`: a published summary table -> the audit's ranking, flags and gate (docs/contract.md § 8).

The table is validated with schemas/summary.yaml first. A row that fails the schema is still
ranked, never dropped: the values that failed a check are left out (None, so they raise no flag
of their own) and the row gets the flag `invalid_row`, severity fail, naming the checks. A broken
row therefore fails the gate like a weak institution would (unless `--fail-on never`), and the
failures are also reported like `validate` reports them.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .catalogue import flag_message
from .checks.tables import NOT_APPLICABLE, parse_fraction, parse_rate
from .errors import InputError
from .pii import shown_label, shown_org_code
from .policy import FAIL, Policy, evaluate_flags, gate_passes, members_flag, status_of
from .published import read_table
from .reading import Chunk
from .requests import RankRequest
from .results import AuditResult, CheckCount, Flag, InstitutionResult, RankResult, ValidateResult
from .rules import ROW, Failure, judge
from .schemas import FormSchema, build_form_schema, load_schema_file, schema_path
from .validate import FormTally, record_failure

SCHEMA = "summary"
DEFAULT_PERIOD_DAYS = 365
RATE_FIELDS = (("outpatient_rate", "outpatient"), ("discharge_rate", "discharge"))


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
    """The table's own period (a period_days column with one value), if it has one; a column
    left empty (or `/`: an audit that read no upload time has no period) states none."""
    if "period_days" not in chunk.frame.columns:
        return None
    values = set(chunk.frame["period_days"].dropna()) - {NOT_APPLICABLE}
    if not values:
        return None
    if len(values) != 1 or not next(iter(values)).isdigit() or int(next(iter(values))) < 1:
        raise InputError(
            "the period_days column must hold one whole number >= 1 (or pass --period-days)", path
        )
    return int(next(iter(values)))


def rank_table(request: RankRequest) -> RankResult:
    """Read, validate, rank and flag a summary table; the gate as `audit` decides it."""
    path, policy = request.path, request.policy
    chunk = read_table(path, request.encoding)
    stated = request.period_days or table_period_days(chunk, path)
    days = stated or DEFAULT_PERIOD_DAYS
    # a period_days column left empty: the audit it came from read no upload time, no period
    period_days = None if stated is None and "period_days" in chunk.frame.columns else days
    spec = summary_schema(days)
    verdict = judge(chunk, spec)
    bad: dict[int, list[Failure]] = {}
    for failure in verdict.failures:
        for row in failure.rows.tolist():
            bad.setdefault(row, []).append(failure)
    institutions = tuple(
        _shown(
            _institution(chunk, verdict.typed, row, bad.get(row, []), period_days, policy),
            request,
        )
        for row in range(len(chunk.frame))
    )
    table = _table_report(path, chunk, spec, verdict.failures, int((~verdict.valid).sum()))
    by_key = sorted(table.forms[0].checks, key=lambda c: (c.column, c.check))
    checks = tuple(CheckCount(SCHEMA, c.column, c.check, c.rows) for c in by_key)
    empty = not institutions  # a table without a row fails the gate, as an empty audit does
    passed = gate_passes([i.status for i in institutions], policy.fail_on)
    passed = passed and (not empty or request.allow_empty)
    result = AuditResult(
        None,
        policy.window_seconds,
        passed,
        policy.fail_on,
        institutions,
        checks,
        empty=empty,
        policy=policy,
    )
    return RankResult(result, table)


def _shown(institution: InstitutionResult, request: RankRequest) -> InstitutionResult:
    """The row as the outputs show it: an org_code that is a person's ID number or name masked,
    and any ID number typed into a name or district (unless --show-pii), as `audit` does."""
    show, code = request.show_pii, institution.org_code
    return replace(
        institution,
        org_code=code if code is None else shown_org_code(code, show),
        name=shown_label(institution.name, show),
        district=shown_label(institution.district, show),
    )


def _institution(
    chunk: Chunk,
    typed: pd.DataFrame,
    row: int,
    failures: list[Failure],
    period_days: int | None,
    policy: Policy,
) -> InstitutionResult:
    failed = {f.column for f in failures}
    damaged = ROW in failed

    def text(column: str) -> str | None:
        return None if damaged or column in failed else _raw(chunk, column, row)

    def count(column: str) -> int | None:
        """A whole number from its text: exact beyond 2^53, where the typed float is not."""
        raw = text(column)
        if raw is None or pd.isna(typed[column].iloc[row]):
            return None
        try:
            return int(Decimal(raw))
        except (InvalidOperation, ValueError):
            return int(typed[column].iloc[row])

    forms = parse_fraction(text("forms"))
    forms_covered, forms_required = forms if forms else (None, None)
    upload_days = count("upload_days")
    day_ratio = None if upload_days is None or period_days is None else upload_days / period_days
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
        # a `/`, not a failing cell
        no_data=[kind for column, kind in RATE_FIELDS if text(column) == NOT_APPLICABLE],
    )
    members, failing = _whole(text("members")), _whole(text("members_failing"))
    if members is not None and failing is not None:  # the district table's own column
        flag = members_flag(policy, failing, members)
        flags += [flag] if flag is not None else []
    if failures:
        names = ", ".join(
            sorted({f.check if f.column == ROW else f"{f.check} ({f.column})" for f in failures})
        )
        message = flag_message("invalid_row", line=int(chunk.lines[row]), checks=names)
        flags.append(Flag("invalid_row", FAIL, message))
    name, org_code = _raw(chunk, "institution", row), _raw(chunk, "org_code", row)
    return InstitutionResult(
        org_code=org_code,
        name=None if name == org_code else name,  # audit's csv writes the org_code for no name
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


def _whole(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _raw(chunk: Chunk, column: str, row: int) -> str | None:
    if column not in chunk.frame.columns:
        return None
    value = chunk.frame[column].iloc[row]
    return None if pd.isna(value) else str(value)


def _table_report(
    path: Path, chunk: Chunk, spec: FormSchema, failures: list[Failure], invalid: int
) -> ValidateResult:
    """The schema failures as `validate` reports them (examples with their lines)."""
    tally = FormTally(SCHEMA, [str(path)], len(chunk.frame), invalid)
    for failure in failures:
        record_failure(tally, path, chunk, failure, spec, show_pii=False, on_failure=None)
    return ValidateResult((tally.frozen(),))
