"""Markdown: a CI step summary of the audit."""

from __future__ import annotations

from ..policy import FAIL, OK, WARN
from ..results import AuditResult
from .text import metric_cells, period_text, ranked, verdict_line


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: AuditResult, sort: str = "rows_uploaded") -> str:
    icon = {OK: "✅ ok", WARN: "⚠️ warn", FAIL: "❌ fail"}
    lines = [
        f"## nj-audit: {'passed' if result.passed else 'failed'}",
        "",
        f"Period {period_text(result)}; real-time window {result.window_seconds} s."
        f" {verdict_line(result)}.",
        "",
        "| # | institution | district | rows | upload days | forms | outpatient | discharge"
        " | validity | status | flags |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for rank, inst in enumerate(ranked(result, sort), start=1):
        cells = [
            rank,
            inst.label,
            inst.district or "",
            *metric_cells(inst),
            icon[inst.status],
            ", ".join(f"{f.flag} ({f.severity})" for f in inst.flags),
        ]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
