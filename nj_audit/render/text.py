"""The plain text every format shares: ranking order, period, verdicts, cells of numbers, and
data made safe to show (control characters escaped)."""

from __future__ import annotations

from ..policy import DEFAULTS, FAIL, OK, SEVERITY_RANK, WARN, pct
from ..results import AuditResult, InstitutionResult, ValidateResult

# Characters that move the cursor, change colours, reorder text or are invisible: C0 and C1
# controls, DEL, the bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069), the
# Arabic letter mark, zero-width characters, line and paragraph separators, the BOM and the
# noncharacters U+FFFE and U+FFFF (not XML). Data
# shows them as escapes (`\x1b`, `\u202e`), never as what they do.
CONTROL_CODES = (
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    *range(0x200B, 0x2010),
    *range(0x2028, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x206A),
    0xFEFF,
    0xFFFE,
    0xFFFF,
)
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in CONTROL_CODES}


def printable(value: object) -> str:
    """`value` as text with every control character escaped: safe in a terminal, a CI log, a
    spreadsheet cell or a document."""
    return ("" if value is None else str(value)).translate(_ESCAPES)


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


def period_text(result: AuditResult) -> str:
    if result.period is None:
        return "period not stated"
    return f"{result.period.start} to {result.period.end} ({result.period.days} days)"


def verdict_line(result: AuditResult) -> str:
    counts = {s: sum(1 for i in result.institutions if i.status == s) for s in (OK, WARN, FAIL)}
    gate = "PASSED" if result.passed else "FAILED"
    why = f"--fail-on {result.fail_on}{policy_note(result)}"
    if result.empty:
        why = "no data rows were read" + (", --allow-empty" if result.passed else "")
    unreadable = f", {_files(len(result.unreadable))} unreadable" if result.unreadable else ""
    line = (
        f"gate {gate} ({why}): {len(result.institutions)} institutions, "
        f"{counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} fail{unreadable}"
    )
    return line if result.since is None else f"{line}; {result.since}"


def policy_note(result: AuditResult) -> str:
    """`, policy from FILE` when a file set the thresholds; nothing for the defaults of contract
    § 5.1 (the reports of a default run stay as they were; the JSON always names the source)."""
    source = result.policy.source if result.policy is not None else DEFAULTS
    return "" if source == DEFAULTS else f", policy from {source}"


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _int(value: int | None) -> str:
    return "/" if value is None else str(value)


def metric_cells(inst: InstitutionResult) -> list[str]:
    """rows, upload days, forms, outpatient, discharge and validity, as the table and Markdown
    show them."""
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


def validate_verdict(result: ValidateResult) -> str:
    unreadable = (
        f"; {_files(len(result.unreadable))} could not be read" if result.unreadable else ""
    )
    if result.empty:
        verdict = "valid" if result.passed else "invalid"
        allowed = " (--allow-empty)" if result.allow_empty else ""
        return f"{verdict}: no data rows were read{allowed}{unreadable}"
    if result.valid:
        verdict = "valid" if result.passed else "invalid"
        return f"{verdict}: all {result.rows} rows pass every rule{unreadable}"
    share = result.invalid_rows / result.rows if result.rows else 0
    return (
        f"invalid: {result.invalid_rows} of {result.rows} rows ({share:.2%}) fail at least one rule"
        f"{unreadable}"
    )
