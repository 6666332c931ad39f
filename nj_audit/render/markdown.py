"""Markdown: a CI step summary of the audit.

Data is escaped so that it is shown, never interpreted: control characters as escapes, line breaks
as spaces, `&`, `<` and `>` as entities (no HTML from data), and the characters of inline Markdown
(`\\`, `` ` ``, `*`, `_`, `[`, `]`, `~`, `|`, `$`) with a backslash: a name cannot end a table cell,
open a link or an image, emphasise, strike through, start code or maths."""

from __future__ import annotations

import re

from ..policy import FAIL, OK, WARN
from ..results import AuditResult
from .text import metric_cells, period_text, printable, ranked, verdict_line

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
