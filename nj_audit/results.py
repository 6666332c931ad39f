"""What the commands find, as plain frozen values: built once by the library, then rendered (as a
terminal table, JSON, CSV, Markdown or JUnit) by `render`, which needs nothing else.

`audit` and `rank` give an `AuditResult` (`rank` with the table's own schema failures beside it,
a `RankResult`); `validate` gives a `ValidateResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .period import Period

if TYPE_CHECKING:  # for the type checker only: policy.py imports this module at run time
    from .policy import Policy

MISSING_ORG = "(missing)"  # the institution of rows without an org_code
UNKNOWN_DISTRICT = "(unknown district)"


# -- audit and rank -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """A finding about an institution: a stable code (catalogue.FLAGS), its severity, a message."""

    flag: str
    severity: str
    message: str


@dataclass(frozen=True)
class FormResult:
    rows: int
    records: int
    valid_records: int
    realtime_records: int
    rate: float | None


@dataclass(frozen=True)
class InstitutionResult:
    """One row of the report: an institution (or, with `--by district`, a district). Fields are
    None where the source does not tell them (a published table has no record counts)."""

    org_code: str | None
    name: str | None
    district: str | None
    rows_uploaded: int | None
    records: int | None
    valid_records: int | None
    valid_ratio: float | None
    upload_days: int | None
    period_days: int | None
    upload_day_ratio: float | None
    forms_covered: int | None
    forms_required: int | None
    outpatient_rate: float | None
    discharge_rate: float | None
    status: str
    flags: tuple[Flag, ...]
    forms: dict[str, FormResult] = field(default_factory=dict)
    outpatient_visits: int | None = None  # records of outpatient_visit (门急诊人次)
    discharges: int | None = None  # records of inpatient_discharge (出院人次)

    @property
    def label(self) -> str:
        return self.name or self.org_code or MISSING_ORG


@dataclass(frozen=True)
class CheckCount:
    form: str
    column: str
    check: str
    failures: int


@dataclass(frozen=True)
class AuditResult:
    period: Period | None
    window_seconds: int
    passed: bool
    fail_on: str
    institutions: tuple[InstitutionResult, ...]
    checks: tuple[CheckCount, ...]
    skipped: tuple[Path, ...] = ()
    by: str = "institution"
    policy: Policy | None = None  # what it was judged with (None: a result built by hand)
    since: str | None = None  # with --history: what changed since the previous comparable run


# -- validate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    file: str
    line: int
    value: str  # masked unless --show-pii; or the check's explanation of the failure


@dataclass(frozen=True)
class FileFailures:
    """A check's failures in one file: how many rows, and the first (masked) examples."""

    file: str
    rows: int
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class CheckSummary:
    column: str
    check: str
    message: str
    rows: int
    examples: tuple[Example, ...]
    other: str | None = None  # the other column of a cross-field rule
    files: tuple[FileFailures, ...] = ()  # per file, in the order the files were read

    @property
    def label(self) -> str:
        """`not_after upload_time` reads better than `not_after` where a column has two such."""
        return f"{self.check} {self.other}" if self.other else self.check


@dataclass(frozen=True)
class FormSummary:
    form: str
    files: tuple[str, ...]
    rows: int
    invalid_rows: int
    checks: tuple[CheckSummary, ...]  # in the order they were first found


@dataclass(frozen=True)
class ValidateResult:
    forms: tuple[FormSummary, ...]
    skipped: tuple[Path, ...] = ()

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.forms)

    @property
    def invalid_rows(self) -> int:
        return sum(f.invalid_rows for f in self.forms)

    @property
    def valid(self) -> bool:
        return self.invalid_rows == 0


@dataclass(frozen=True)
class RankResult:
    """A published table ranked like an audit, and the table's own schema failures."""

    result: AuditResult
    table: ValidateResult
