"""Markdown: a CI step summary of the audit, and of validate.

Data is escaped so that it is shown, never interpreted: control characters as escapes, line breaks
as spaces, `&`, `<` and `>` as entities (no HTML from data), and the characters of inline Markdown
(`\\`, `` ` ``, `*`, `_`, `[`, `]`, `~`, `|`, `$`) with a backslash: a name cannot end a table cell,
open a link or an image, emphasise, strike through, start code or maths."""

from __future__ import annotations

import re

from ..policy import FAIL, OK, WARN
from ..results import AuditResult, ValidateResult
from .text import metric_cells, period_text, printable, ranked, validate_verdict, verdict_line

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPECIAL = re.compile(r"([\\`*_\[\]~|$])")


def escape(value: object) -> str:
    """A data-derived string as Markdown text, shown literally in a table cell."""
    text = printable(value)  # CR and LF become \x0d, \x0a first: one line
    text = "".join(_ENTITIES.get(char, char) for char in text)
    return _SPECIAL.sub(r"\\\1", text)


def render_markdown(result: AuditResult, sort: str = "rows_uploaded") -> str:
    icon = {OK: "✅ ok", WARN: "⚠️ warn", FAIL: "❌ fail"}
    lines = [
        f"## nj-audit: {'passed' if result.passed else 'failed'}",
        "",
        f"Period {period_text(result)}; real-time window {result.window_seconds} s."
        f" {escape(verdict_line(result))}.",
        "",
        "| # | institution | district | rows | upload days | forms | outpatient | discharge"
        " | validity | status | flags |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for rank, inst in enumerate(ranked(result, sort), start=1):
        cells = [
            str(rank),
            escape(inst.label),
            escape(inst.district or ""),
            *metric_cells(inst),
            icon[inst.status],
            ", ".join(f"{f.flag} ({f.severity})" for f in inst.flags),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if result.unreadable:
        lines += ["", "### Unreadable files", "", "| file | reason | message |", "|---|---|---|"]
        lines += [
            f"| {escape(u.file)} | {u.reason} | {escape(u.described)} |" for u in result.unreadable
        ]
    return "\n".join(lines) + "\n"


def render_validate_markdown(result: ValidateResult) -> str:
    """validate's summary for a CI job page: per form, each failing check with its rows and first
    lines (locations only: no cell value reaches a job page)."""
    lines = [
        f"## nj-audit validate: {'valid' if result.passed else 'invalid'}",
        "",
        f"{validate_verdict(result)}.",
        "",
    ]
    failing = [form for form in result.forms if form.checks]
    if failing:
        lines += [
            "| form | check | column | rows | share | first lines |",
            "|---|---|---|---:|---:|---|",
        ]
        for form in failing:
            for check in sorted(form.checks, key=lambda c: (-c.rows, c.column, c.check)):
                where = ", ".join(f"{e.file}:{e.line}" for e in check.examples)
                share = check.rows / form.rows if form.rows else 0
                cells = [form.form, check.label, check.column, check.rows, f"{share:.2%}", where]
                lines.append("| " + " | ".join(escape(c) for c in cells) + " |")
        lines.append("")
    valid = [f"{form.form} ({form.rows} rows)" for form in result.forms if not form.checks]
    if valid:
        lines += [escape("All rows valid: " + ", ".join(valid) + "."), ""]
    for path in result.skipped:
        lines.append(f"- skipped {escape(path)} (no form matches its name)")
    return "\n".join(lines).rstrip("\n") + "\n"


def fit_summary(text: str, budget: int, full_report: str | None = None) -> str:
    """`text` cut at a line so that it takes at most `budget` bytes of UTF-8, with a last line
    saying how many lines were left out and where the whole report is."""
    if len(text.encode("utf-8")) <= budget:
        return text
    note_room = 300 + len((full_report or "").encode("utf-8"))
    kept: list[str] = []
    used = 0
    lines = text.splitlines()
    for line in lines:
        size = len(line.encode("utf-8")) + 1
        if used + size > budget - note_room:
            break
        kept.append(line)
        used += size
    left = len(lines) - len(kept)
    where = f"; the full report: {escape(full_report)}" if full_report else ""
    note = f"_{left} more lines left out: GitHub keeps 1 MiB of summary per step{where}._"
    return "\n".join([*kept, "", note]) + "\n"
