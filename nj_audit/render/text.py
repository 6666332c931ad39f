"""The plain text every format shares: ranking order, period, verdicts, cells of numbers."""

from __future__ import annotations

from ..policy import DEFAULTS, FAIL, OK, SEVERITY_RANK, WARN, pct
from ..results import AuditResult, InstitutionResult, ValidateResult

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
    line = (
        f"gate {gate} (--fail-on {result.fail_on}{policy_note(result)}): "
        f"{len(result.institutions)} institutions, "
        f"{counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} fail"
    )
    return line if result.since is None else f"{line}; {result.since}"


def policy_note(result: AuditResult) -> str:
    """`, policy from FILE` when a file set the thresholds; nothing for the defaults of contract
    § 5.1 (the reports of a default run stay as they were; the JSON always names the source)."""
    source = result.policy.source if result.policy is not None else DEFAULTS
    return "" if source == DEFAULTS else f", policy from {source}"


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
    if result.valid:
        return f"valid: all {result.rows} rows pass every rule"
    share = result.invalid_rows / result.rows if result.rows else 0
    return (
        f"invalid: {result.invalid_rows} of {result.rows} rows ({share:.2%}) fail at least one rule"
    )
