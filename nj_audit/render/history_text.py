"""The history's results as text: the cells every format shares (values, changes, runs, who),
English or Chinese labels, and the JSON, Markdown and JUnit outputs of `nj-audit history`.

Data (names, codes, labels) never becomes markup: control characters are shown as escapes,
Markdown's special characters are backslashed and XML is escaped."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ..history import Comparison, RunInfo, Trend, sparkline
from ..history.compare import FindingDiff
from ..history.metrics import SEVERITY_RANK, finding_metric, is_ratio

LABELS: dict[str, tuple[str, str]] = {
    "run": ("run", "运行"),
    "started": ("started, UTC", "开始时间(UTC)"),
    "command": ("command", "命令"),
    "label": ("label", "标签"),
    "period": ("period", "期间"),
    "result": ("result", "结果"),
    "rows": ("rows", "行数"),
    "metric": ("metric", "指标"),
    "last": ("last", "最新值"),
    "change_previous": ("Δ prev", "较上次"),
    "change_baseline": ("Δ base", "较基线"),
    "min": ("min", "最小"),
    "max": ("max", "最大"),
    "trend": ("trend", "趋势"),
    "finding": ("finding", "问题"),
    "persisted": ("for runs", "持续次数"),
    "institution": ("institution", "机构"),
    "severity": ("severity", "级别"),
    "value": ("value", "值"),
    "before": ("before", "之前"),
    "after": ("after", "之后"),
    "change": ("change", "变化"),
    "rule": ("rule", "规则"),
    "new": ("New findings", "新增问题"),
    "resolved": ("Resolved findings", "已解决问题"),
    "persisting": ("Persisting findings that changed", "持续且有变化的问题"),
    "regressions": ("Regressions", "退步"),
    "appeared": ("Appeared", "新出现的机构"),
    "disappeared": ("Disappeared", "消失的机构"),
    "changes": ("Largest changes", "变化最大的指标"),
}
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")  # enough to make no emphasis, link or tag
XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def label(key: str, lang: str = "en") -> str:
    english, chinese = LABELS[key]
    return chinese if lang == "zh" else english


def plain(text: object) -> str:
    """One line, control characters shown as escapes (`\\x1b`), never executed."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", "" if text is None else str(text))


def md(text: object) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", plain(text))


# -- cells ----------------------------------------------------------------------------------------


def value_text(metric: str | None, value: float | None) -> str:
    """A ratio as 95.40%, a count as 3855, unknown as /."""
    if value is None:
        return "/"
    if metric is not None and is_ratio(metric):
        return f"{value * 100:.2f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def change_text(metric: str, change: float | None) -> str:
    """A ratio's change in percentage points (+1.20pt), a count's in units (-5)."""
    if change is None:
        return "/"
    if is_ratio(metric):
        return f"{change * 100:+.2f}pt"
    return f"{change:+.0f}" if float(change).is_integer() else f"{change:+g}"


def finding_value(finding: FindingDiff) -> str:
    return value_text(finding_metric(finding.finding), finding.value)


def who(org_code: str | None, name: str | None) -> str:
    if org_code and name:
        return f"{name} ({org_code})"
    return name or org_code or "?"


def run_text(run: RunInfo) -> str:
    """`run 4 (2023-04-01 02:00, audit, nightly)`."""
    parts = [run.started_at[:16].replace("T", " "), run.command]
    if run.label:
        parts.append(run.label)
    return f"run {run.id} ({', '.join(parts)})"


def period_cell(run: RunInfo) -> str:
    """`2023-03-01..03-31` (the end's year when it differs)."""
    start, end = run.period_start, run.period_end
    if start is None or end is None:
        return "/"
    return f"{start}..{end[5:] if end[:4] == start[:4] else end}"


def result_cell(run: RunInfo) -> str:
    """passed / failed, and the exit code when it is not the verdict's (0 passed, 1 failed)."""
    verdict = "/" if run.passed is None else "passed" if run.passed else "failed"
    expected = None if run.passed is None else 0 if run.passed else 1
    return verdict if run.exit_code in (None, expected) else f"{verdict} (exit {run.exit_code})"


def list_rows(runs: Sequence[RunInfo]) -> list[list[str]]:
    """The cells of `history list`, one row per run; `*` marks an accepted baseline."""
    return [
        [
            f"{run.id}{' *' if run.accepted else ''}",
            run.started_at[:16].replace("T", " "),
            run.command if run.scope == "institution" else f"{run.command} by {run.scope}",
            plain(run.label or ""),
            period_cell(run),
            result_cell(run),
            "/" if run.rows_read is None else str(run.rows_read),
        ]
        for run in runs
    ]


LIST_HEADERS = ("run", "started", "command", "label", "period", "result", "rows")
TREND_HEADERS = (
    "metric", "last", "change_previous", "change_baseline", "min", "max", "trend", "finding",
)  # fmt: skip


SPARK_WIDTH = 40


def fitted(values: Sequence[float | None], width: int = SPARK_WIDTH) -> list[float | None]:
    """At most `width` values: each the mean of a run of consecutive ones (the last bucket holds
    the newest), so that a year of daily runs still fits a table's cell."""
    if len(values) <= width:
        return list(values)
    out: list[float | None] = []
    for n in range(width):
        bucket = values[n * len(values) // width : (n + 1) * len(values) // width]
        present = [v for v in bucket if v is not None]
        out.append(sum(present) / len(present) if present else None)
    return out


def trend_rows(trend: Trend) -> list[list[str]]:
    out = []
    for row in trend.rows:
        finding = ""
        if row.finding is not None:  # validity warn ×3: for the 3 newest runs
            finding = f"{row.finding} {row.severity} ×{row.persisted}"
        out.append(
            [
                row.metric,
                value_text(row.metric, row.last),
                change_text(row.metric, row.change_previous),
                change_text(row.metric, row.change_baseline),
                value_text(row.metric, row.minimum),
                value_text(row.metric, row.maximum),
                row.sparkline if len(row.values) <= SPARK_WIDTH else sparkline(fitted(row.values)),
                finding,
            ]
        )
    return out


def trend_title(trend: Trend) -> str:
    entity = who(trend.entity.code if trend.entity.kind == "org_code" else None, trend.entity.name)
    if not trend.runs:
        return f"{plain(entity)}: no run shows it"
    span = f"{trend.runs[0].started_at[:10]} to {trend.runs[-1].started_at[:10]}"
    base = "" if trend.baseline is None else f"; baseline run {trend.baseline.id}"
    return f"{plain(entity)}: {len(trend.runs)} runs, {span}{base}"


# -- compare --------------------------------------------------------------------------------------


def severity_rose(finding: FindingDiff) -> bool:
    before = SEVERITY_RANK.get(finding.before_severity or "", 0)
    return SEVERITY_RANK.get(finding.severity, 0) > before


def got_worse(comparison: Comparison) -> bool:
    """compare's exit 1: a new finding, a regression, or a persisting finding of higher severity."""
    return bool(
        comparison.new or comparison.regressions or any(map(severity_rose, comparison.persisting))
    )


def compare_summary(comparison: Comparison) -> str:
    persisting = comparison.persisting
    moved = {c: sum(1 for f in persisting if f.change == c) for c in ("worse", "same", "better")}
    regressions = len(comparison.regressions)
    return (
        f"{run_text(comparison.base)} -> {run_text(comparison.head)}: "
        f"{len(comparison.new)} new, {len(comparison.resolved)} resolved, "
        f"{len(persisting)} persisting ({moved['worse']} worse, {moved['same']} same, "
        f"{moved['better']} better) findings; "
        f"{regressions} regression{'' if regressions == 1 else 's'}; "
        f"{len(comparison.appeared)} appeared, {len(comparison.disappeared)} disappeared"
    )


def finding_rows(findings: Sequence[FindingDiff], persisting: bool = False) -> list[list[str]]:
    rows = []
    for f in findings:
        row = [plain(who(f.org_code, f.name)), f.finding, f.severity, finding_value(f)]
        if persisting:
            metric = finding_metric(f.finding)
            before = f"{f.before_severity} {value_text(metric, f.before_value)}"
            row = [*row[:2], f.change or "", before, f"{f.severity} {row[3]}"]
        rows.append(row)
    return rows


def changed_persisting(comparison: Comparison) -> list[FindingDiff]:
    """The persisting findings worth a line: worse first, then better (same ones are counted)."""
    order = {"worse": 0, "better": 1}
    moved = [f for f in comparison.persisting if f.change in order]
    return sorted(moved, key=lambda f: order[f.change or ""])


def compare_sections(comparison: Comparison) -> list[tuple[str, tuple[str, ...], list[list[str]]]]:
    """(label key, header keys, rows) for each part of a comparison, as table and Markdown show
    them."""
    regressions = [
        [
            plain(who(r.org_code, r.name)),
            r.metric,
            value_text(r.metric, r.before),
            value_text(r.metric, r.after),
            change_text(r.metric, r.change),
            r.rule,
            r.severity,
        ]
        for r in comparison.regressions
    ]
    changes = [
        [
            plain(who(c.org_code, c.name)),
            c.metric,
            value_text(c.metric, c.before),
            value_text(c.metric, c.after),
            change_text(c.metric, c.change),
        ]
        for c in comparison.changes
    ]
    entities = ("institution",)
    return [
        ("new", ("institution", "finding", "severity", "value"), finding_rows(comparison.new)),
        (
            "resolved",
            ("institution", "finding", "severity", "value"),
            finding_rows(comparison.resolved),
        ),
        (
            "persisting",
            ("institution", "finding", "change", "before", "after"),
            finding_rows(changed_persisting(comparison), persisting=True),
        ),
        (
            "regressions",
            ("institution", "metric", "before", "after", "change", "rule", "severity"),
            regressions,
        ),
        ("appeared", entities, [[plain(who(e.org_code, e.name))] for e in comparison.appeared]),
        (
            "disappeared",
            entities,
            [[plain(who(e.org_code, e.name))] for e in comparison.disappeared],
        ),
        ("changes", ("institution", "metric", "before", "after", "change"), changes),
    ]


# -- the documents --------------------------------------------------------------------------------


def to_json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return lines


def list_markdown(runs: Sequence[RunInfo], lang: str = "en") -> str:
    lines = [f"## nj-audit history: {len(runs)} runs", ""]
    lines += markdown_table([label(h, lang) for h in LIST_HEADERS], list_rows(runs))
    return "\n".join(lines) + "\n"


def trend_markdown(trend: Trend, lang: str = "en") -> str:
    lines = [f"## {md(trend_title(trend))}", ""]
    lines += markdown_table([label(h, lang) for h in TREND_HEADERS], trend_rows(trend))
    return "\n".join(lines) + "\n"


def compare_markdown(comparison: Comparison, lang: str = "en") -> str:
    verdict = "something got worse" if got_worse(comparison) else "nothing got worse"
    lines = [f"## nj-audit history compare: {verdict}", "", md(compare_summary(comparison)) + "."]
    lines += [f"> warning: {md(w)}" for w in comparison.warnings]
    for key, headers, rows in compare_sections(comparison):
        if rows:
            lines += ["", f"### {label(key, lang)} ({len(rows)})", ""]
            lines += markdown_table([label(h, lang) for h in headers], rows)
    return "\n".join(lines) + "\n"


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(XML_INVALID.sub("\ufffd", text))


def _attr(text: str) -> str:
    from xml.sax.saxutils import quoteattr

    return quoteattr(XML_INVALID.sub("\ufffd", text))


def compare_junit(comparison: Comparison) -> str:
    """A test case per change: new findings, regressions and findings of higher severity fail;
    resolved findings pass."""
    cases: list[tuple[str, str, str | None]] = []  # (classname, name, failure message)
    for f in comparison.new:
        message = f"new {f.severity} finding, value {finding_value(f)}"
        cases.append(("nj-audit.new", f"{who(f.org_code, f.name)}: {f.finding}", message))
    for r in comparison.regressions:
        cases.append(("nj-audit.regression", f"{who(r.org_code, r.name)}: {r.finding}", r.message))
    for f in comparison.persisting:
        if severity_rose(f):
            message = f"{f.before_severity} -> {f.severity}, value {finding_value(f)}"
            cases.append(("nj-audit.worse", f"{who(f.org_code, f.name)}: {f.finding}", message))
    for f in comparison.resolved:
        cases.append(("nj-audit.resolved", f"{who(f.org_code, f.name)}: {f.finding}", None))
    body = []
    for classname, name, failure in cases:
        inner = (
            ""
            if failure is None
            else f"<failure message={_attr(failure)}>{_xml(failure)}</failure>"
        )
        body.append(
            f"    <testcase classname={_attr(classname)} name={_attr(name)}>{inner}</testcase>"
        )
    failures = sum(1 for case in cases if case[2] is not None)
    header = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite '
        f'name="nj-audit history compare" tests="{len(cases)}" failures="{failures}" errors="0">'
    )
    return "\n".join([header, *body, "  </testsuite>", "</testsuites>"]) + "\n"
