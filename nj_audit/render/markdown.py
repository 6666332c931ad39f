"""Markdown: a CI step summary of the audit, and of validate.

Data is escaped so that it is shown, never interpreted: control characters as escapes, line breaks
as spaces, `&`, `<` and `>` as entities (no HTML from data), and the characters of inline Markdown
(`\\`, `` ` ``, `*`, `_`, `[`, `]`, `~`, `|`, `$`) with a backslash: a name cannot end a table cell,
open a link or an image, emphasise, strike through, start code or maths."""

from __future__ import annotations

import re

from ..policy import FAIL, OK, WARN
from ..results import AuditResult, ValidateResult
from ..texts import flag_name, status_word, text
from .text import metric_cells, period_text, printable, ranked, validate_verdict, verdict_line

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPECIAL = re.compile(r"([\\`*_\[\]~|$])")


def escape(value: object) -> str:
    """A data-derived string as Markdown text, shown literally in a table cell."""
    text = printable(value)  # CR and LF become \x0d, \x0a first: one line
    text = "".join(_ENTITIES.get(char, char) for char in text)
    return _SPECIAL.sub(r"\\\1", text)


def render_markdown(result: AuditResult, sort: str = "rows_uploaded", lang: str = "en") -> str:
    icons = {OK: "✅", WARN: "⚠️", FAIL: "❌"}
    heading = "md.heading.passed" if result.passed else "md.heading.failed"
    columns = ["rank", "institution", "district", "rows", "upload_days", "forms", "outpatient"]
    members = {d.name: d.members for d in result.districts}
    if members:  # --by district: a district's row, then its number of members
        columns[1:3] = ["district", "members"]
    columns += ["discharge", "validity", "status", "flags"]
    lines = [
        text(heading, lang),
        "",
        (
            text("md.period", lang, period=period_text(result, lang), window=result.window_seconds)
            if result.period is not None
            else text("md.no_period", lang, window=result.window_seconds)
        )
        + f" {escape(verdict_line(result, lang))}.",
        "",
        "| " + " | ".join(text(f"col.{c}", lang) for c in columns) + " |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    failing = {d.name: d.failing for d in result.districts}  # --by district: its members
    for rank, inst in enumerate(ranked(result, sort), start=1):
        flags = [f"{flag_name(f.flag, lang)} ({status_word(f.severity, lang)})" for f in inst.flags]
        if failing.get(inst.label):
            separator = "、" if lang == "zh" else ", "
            names = separator.join(escape(name) for name in failing[inst.label])
            flags.append(text("col.members_failing", lang) + ": " + names)
        cells = [
            str(rank),
            escape(inst.label),
            escape(inst.district or "") if not failing else str(len(members[inst.label])),
            *metric_cells(inst),
            f"{icons[inst.status]} {status_word(inst.status, lang)}",
            ", ".join(flags),  # codes and catalogue labels; member names escaped
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if result.unreadable:
        headers = " | ".join(text(f"col.{c}", lang) for c in ("file", "reason", "message"))
        lines += ["", text("md.unreadable", lang), "", f"| {headers} |", "|---|---|---|"]
        lines += [
            f"| {escape(u.file)} | {u.reason} | {escape(u.described)} |" for u in result.unreadable
        ]
    return "\n".join(lines) + "\n"


def render_validate_markdown(result: ValidateResult, lang: str = "en") -> str:
    """validate's summary for a CI job page: per form, each failing check with its rows and first
    lines (locations only: no cell value reaches a job page)."""
    verdict = text("validate.valid" if result.passed else "validate.invalid", lang)
    lines = [
        text("validate.md.heading", lang, verdict=verdict),
        "",
        f"{validate_verdict(result, lang)}.",
        "",
    ]
    failing = [form for form in result.forms if form.checks]
    if failing:
        columns = ("form", "check", "column", "rows", "share", "first_lines")
        lines += [
            "| " + " | ".join(text(f"col.{c}", lang) for c in columns) + " |",
            "|---|---|---|---:|---:|---|",
        ]
        for form in failing:
            for check in sorted(form.checks, key=lambda c: (-c.rows, c.column, c.check)):
                where = ", ".join(f"{e.file}:{e.line}" for e in check.examples)
                share = check.rows / form.rows if form.rows else 0
                cells = [form.form, check.label, check.column, check.rows, f"{share:.2%}", where]
                lines.append("| " + " | ".join(escape(c) for c in cells) + " |")
        lines.append("")
    valid = [
        text("validate.md.form_rows", lang, form=form.form, rows=form.rows)
        for form in result.forms
        if not form.checks
    ]
    if valid:
        separator = "、" if lang == "zh" else ", "
        lines += [escape(text("validate.md.all_valid", lang, forms=separator.join(valid))), ""]
    for path in result.skipped:
        lines.append(f"- {text('note.skipped', lang)} {escape(path)} {text('note.no_form', lang)}")
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
