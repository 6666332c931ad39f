"""What the commands find, as plain frozen values: built once by the library, then rendered (as a
terminal table, JSON, CSV, Markdown or JUnit) by `render`, which needs nothing else.

`audit` and `rank` give an `AuditResult` (`rank` with the table's own schema failures beside it,
a `RankResult`); `validate` gives a `ValidateResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .period import Period

if TYPE_CHECKING:  # for the type checker only: policy.py imports this module at run time
    from .policy import Policy

MISSING_ORG = "(missing)"  # the institution of rows without an org_code
UNKNOWN_ORG = "(unknown)"  # the institution of an unreadable file whose path names none
UNKNOWN_DISTRICT = "(unknown district)"


@dataclass(frozen=True)
class Unreadable:
    """A file that could not be read (contract section 2.3): a finding, listed in every output."""

    file: str  # as shown: ID-number-shaped parts masked unless --show-pii
    reason: str  # one of catalogue.UNREADABLE
    message: str  # what is wrong, for people; never quotes the file's content
    org_code: str | None  # the institution flagged unreadable_file (None: several)
    line: int | None = None  # where, when a line is to blame

    @property
    def described(self) -> str:
        """The message, with its line when it has one (the JSON's `message`)."""
        return f"line {self.line}: {self.message}" if self.line else self.message

    @property
    def where(self) -> str:
        """`FILE:LINE` or `FILE`, as error lines name a place."""
        return f"{self.file}:{self.line}" if self.line else self.file


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
    delays: tuple[int, ...] | None = None  # records per delay bucket (contract § 4.9), or unknown


@dataclass(frozen=True)
class CheckCount:
    form: str
    column: str
    check: str
    failures: int


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
    day_rows: tuple[tuple[date, int], ...] = ()  # rows per upload day, by day (the calendar)
    checks: tuple[CheckCount, ...] = ()  # its failing checks, as AuditResult.checks
    residents: dict[str, int] | None = None  # archive form -> residents (§ 4.10); None: unknown

    @property
    def label(self) -> str:
        return self.name or self.org_code or MISSING_ORG


@dataclass(frozen=True)
class DistrictResult:
    """A district of `--by district` (contract § 4.8): its pooled metrics as a row (`row.name` is
    the district; its flags are the pooled metrics' and `members`), and how its members fared."""

    row: InstitutionResult
    members: tuple[str, ...]  # the members' labels (names, else org_codes), sorted
    members_by_status: dict[str, int]  # ok / warn / fail -> members
    worst_status: str  # the worst member status (ok when it has none)
    failing: tuple[str, ...]  # the labels of the members whose status is fail

    @property
    def name(self) -> str:
        return self.row.label


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
    unreadable: tuple[Unreadable, ...] = ()
    reports: tuple[Path, ...] = ()  # files named like forms that are reports nj-audit wrote
    empty: bool = False  # no data row was read: the gate fails unless --allow-empty
    policy: Policy | None = None  # what it was judged with (None: a result built by hand)
    since: str | None = None  # with --history: what changed since the previous comparable run
    districts: tuple[DistrictResult, ...] = ()  # with --by district, by name

    @property
    def rows(self) -> tuple[InstitutionResult, ...]:
        """What the ordered reports list: the districts' rows with --by district, else the
        institutions (which the JSON lists in both cases)."""
        if self.by == "district" and self.districts:
            return tuple(d.row for d in self.districts)
        return self.institutions


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
    unreadable: tuple[Unreadable, ...] = ()
    reports: tuple[Path, ...] = ()
    allow_empty: bool = False  # --allow-empty: no row at all is not a failure

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.forms)

    @property
    def invalid_rows(self) -> int:
        return sum(f.invalid_rows for f in self.forms)

    @property
    def empty(self) -> bool:
        return self.rows == 0

    @property
    def valid(self) -> bool:
        """No row fails a rule (the rows that were read; see `passed`)."""
        return self.invalid_rows == 0

    @property
    def passed(self) -> bool:
        """Exit 0: every row valid, every file read, and some row read (unless --allow-empty)."""
        return self.valid and not self.unreadable and (not self.empty or self.allow_empty)


@dataclass(frozen=True)
class RankResult:
    """A published table ranked like an audit, and the table's own schema failures."""

    result: AuditResult
    table: ValidateResult
