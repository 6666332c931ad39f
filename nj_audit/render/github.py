"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

    ::error file=uploads/outpatient_visit.csv,line=135,title=...::2 rows fail no_whitespace ...

GitHub shows at most 10 error and 10 warning annotations per step (and 50 per job): the first 10
of each level are written, the most important first, then one closing `::notice` with the
verdict, how many were left out and where the full report is. Every value is escaped as the
Actions toolkit escapes it (`%`, CR and LF in the message; also `:` and `,` in properties), so that
no data can end a command or start another one; other control characters are written as escapes
(`\\x1b`), as in every format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..policy import FAIL
from ..results import AuditResult, ValidateResult
from .findings import Finding, institution_findings, validate_findings
from .text import printable, validate_verdict, verdict_line

PER_LEVEL = 10  # annotations GitHub shows per step, for each of error and warning
LEVEL = {FAIL: "error", "warn": "warning"}
TITLE = "nj-audit"


def escape_data(text: str) -> str:
    """A command's message: `%`, CR and LF as %25, %0D and %0A; the other control characters
    (ESC, which the Actions log renders as colours, BEL, DEL, bidi overrides) as `\x1b` text."""
    text = printable(text, line_breaks=True)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property's value: as a message, and `:` and `,` as %3A and %2C."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: Sequence[tuple[str, object]] = ()) -> str:
    """One workflow command line: `::name key=value,key=value::message`."""
    shown = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{name}{' ' + shown if shown else ''}::{escape_data(message)}"


def annotation(finding: Finding) -> str:
    properties: list[tuple[str, object]] = []
    if finding.file is not None:
        properties.append(("file", finding.file))
        if finding.line is not None:
            properties.append(("line", finding.line))
    properties.append(("title", f"{TITLE}: {finding.title}"))
    return command(LEVEL[finding.severity], finding.message, properties)


def workflow_commands(findings: Sequence[Finding], verdict: str, full_report: str | None) -> str:
    """The first PER_LEVEL findings of each level, then a notice that counts the rest."""
    shown: list[str] = []
    left = {"error": 0, "warning": 0}
    used = {"error": 0, "warning": 0}
    for finding in findings:
        level = LEVEL[finding.severity]
        if used[level] < PER_LEVEL:
            used[level] += 1
            shown.append(annotation(finding))
        else:
            left[level] += 1
    notice = verdict
    if left["error"] or left["warning"]:
        notice += (
            f"; {left['error']} more error(s) and {left['warning']} more warning(s) are not shown"
            f" as annotations (GitHub shows {PER_LEVEL} of each per step)"
        )
    notice += f"; the full report: {full_report}" if full_report else ""
    return "\n".join([*shown, command("notice", notice, [("title", TITLE)])]) + "\n"


def render_validate_github(
    result: ValidateResult, full_report: str | None = None, root: str | Path | None = None
) -> str:
    """One error per failing (file, column, check), at its first failing line."""
    return workflow_commands(validate_findings(result, root), validate_verdict(result), full_report)


def render_audit_github(
    result: AuditResult,
    full_report: str | None = None,
    sort: str = "rows_uploaded",
    root: str | Path | None = None,
) -> str:
    """One error (fail) or warning (warn) per flagged institution, failures first."""
    findings = institution_findings(result, sort, root)
    findings.sort(key=lambda f: f.severity != FAIL)  # stable: the report's order within a level
    return workflow_commands(findings, verdict_line(result), full_report)
