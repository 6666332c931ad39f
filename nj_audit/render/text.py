"""The plain text every format shares: ranking order, period, verdicts, cells of numbers, and
data made safe to show (control characters escaped)."""

from __future__ import annotations

from collections.abc import Sequence

from ..columns import RESIDENT_COLUMNS
from ..policy import DEFAULTS, FAIL, OK, SEVERITY_RANK, WARN, pct
from ..results import AuditResult, DistrictResult, InstitutionResult, ValidateResult
from ..texts import files_text, policy_text, status_word, text

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
_LINE_BREAKS = (0x0A, 0x0D)
_ESCAPES_BUT_LINE_BREAKS = {k: v for k, v in _ESCAPES.items() if k not in _LINE_BREAKS}


def printable(value: object, line_breaks: bool = False) -> str:
    """`value` as text with every control character escaped: safe in a terminal, a CI log, a
    spreadsheet cell or a document. With `line_breaks`, CR and LF are left for the caller to
    escape its own way (GitHub's workflow commands: %0D, %0A)."""
    table = _ESCAPES_BUT_LINE_BREAKS if line_breaks else _ESCAPES
    return ("" if value is None else str(value)).translate(table)


# The table's columns written `/` when they hold no value, as published (a rate that does not
# apply; the period of an audit that read no upload time); other empty cells stay empty.
SLASHED_WHEN_NONE = frozenset({"outpatient_rate", "discharge_rate", "valid_ratio", "period_days"})

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


# Each metric's own direction, rank 1 first: the largest counts and rates (the published
# table's order), the worst status, names and codes from A. `--sort -METRIC` turns it around.
ASCENDING_KEYS = ("org_code", "name")


def sort_metric(sort: str) -> str:
    """The metric of `--sort` (`-outpatient_rate` sorts by outpatient_rate, turned around)."""
    return sort.removeprefix("-")


def sort_with(sort: str, ascending: bool) -> str:
    """`--sort` with `--ascending` applied: the smallest values first (for names and codes, which
    already run from A, nothing changes); `-METRIC` already means the other way round."""
    metric = sort_metric(sort)
    if not ascending or sort.startswith("-") or metric in ASCENDING_KEYS:
        return sort
    return f"-{metric}"


def ordered(rows: Sequence[InstitutionResult], sort: str) -> list[InstitutionResult]:
    """`rows` in the order of `sort`; ties by label (then code), in either direction; a missing
    value (a `/` rate) comes last in the metric's own direction, first turned around (the
    weakest first)."""
    metric, turned = sort_metric(sort), sort.startswith("-")
    tie = sorted(rows, key=lambda i: (i.label, i.org_code or ""))
    if metric in ASCENDING_KEYS:
        return sorted(tie, key=lambda i: str(getattr(i, metric) or i.label), reverse=turned)
    if metric == "status":
        return sorted(tie, key=lambda i: SEVERITY_RANK[i.status] * (1 if turned else -1))

    def key(inst: InstitutionResult) -> tuple[bool, float]:
        value = getattr(inst, metric)
        if turned:
            return (value is not None, value or 0)
        return (value is None, -(value or 0))

    return sorted(tie, key=key)


def ranked(result: AuditResult, sort: str = "rows_uploaded") -> list[InstitutionResult]:
    """The report's rows (institutions, or districts with --by district) in the order of `sort`."""
    return ordered(result.rows, sort)


def ranked_districts(result: AuditResult, sort: str = "rows_uploaded") -> list[DistrictResult]:
    """The districts in the order of `ranked`."""
    by_name = {d.name: d for d in result.districts}
    return [by_name[row.label] for row in ranked(result, sort)]


def district_value(district: DistrictResult, column: str, lang: str = "en") -> object:
    """A district's own cells (DISTRICT_COLUMNS that are not an institution's)."""
    if column in RESIDENT_COLUMNS:
        return (district.row.residents or {}).get(RESIDENT_COLUMNS[column], 0)
    if column == "members":
        return len(district.members)
    if column == "members_failing":
        return len(district.failing)
    if column == "worst_member_status":
        return status_word(district.worst_status, lang)
    return district.row.label if column == "district" else None


def period_text(result: AuditResult, lang: str = "en") -> str:
    if result.period is None:
        return text("period.none", lang)
    period = result.period
    return text("period", lang, start=period.start, end=period.end, days=period.days)


def verdict_line(result: AuditResult, lang: str = "en") -> str:
    """`gate FAILED (--fail-on fail, policy: defaults): 3 institutions, 1 ok, 1 warn, 1 fail`."""
    counts = {s: sum(1 for i in result.rows if i.status == s) for s in (OK, WARN, FAIL)}
    gate = text("gate.passed" if result.passed else "gate.failed", lang)
    comma = "，" if lang == "zh" else ", "
    why = f"--fail-on {result.fail_on}"
    if result.empty:
        why = text("verdict.empty", lang) + (f"{comma}--allow-empty" if result.passed else "")
    why += comma + policy_note(result, lang)
    line = text(
        "verdict.districts" if result.districts else "verdict",
        lang,
        gate=gate,
        why=why,
        count=len(result.rows),
        ok=counts[OK],
        warn=counts[WARN],
        fail=counts[FAIL],
    )
    if result.unreadable:
        line += text("verdict.unreadable", lang, files=files_text(len(result.unreadable), lang))
    return line if result.since is None else f"{line}; {result.since}"


def policy_note(result: AuditResult, lang: str = "en") -> str:
    """`policy: defaults` (contract § 5.1), or `policy: FILE` when a file set the thresholds:
    every report names where its thresholds came from."""
    source = result.policy.source if result.policy is not None else DEFAULTS
    return policy_text(source, lang)


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


def validate_verdict(result: ValidateResult, lang: str = "en") -> str:
    unreadable = ""
    if result.unreadable:
        unreadable = text(
            "validate.unreadable", lang, files=files_text(len(result.unreadable), lang)
        )
    verdict = text("validate.valid" if result.passed else "validate.invalid", lang)
    if result.empty:
        allowed = " (--allow-empty)" if result.allow_empty else ""
        return text("validate.empty", lang, verdict=verdict, allowed=allowed, unreadable=unreadable)
    if result.valid:
        return text("validate.pass", lang, verdict=verdict, rows=result.rows, unreadable=unreadable)
    share = result.invalid_rows / result.rows if result.rows else 0
    return text(
        "validate.fail",
        lang,
        invalid=result.invalid_rows,
        rows=result.rows,
        share=f"{share:.2%}",
        unreadable=unreadable,
    )
