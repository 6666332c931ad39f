"""The HTML report (`--format html`): one self-contained page that opens offline, from a USB stick.

Nothing is fetched: styles and script are inline, charts are inline SVG drawn in `svg`, fonts are
the system's CJK stack, and a Content-Security-Policy (`default-src 'none'`) forbids every request.
The static content (headline, ranked table, heatmap, calendar, delays, checks) needs no script;
about 150 lines of plain JavaScript sort, filter and open the drill-down, which is built on demand
from an embedded JSON block (so 1,000 institutions stay light). Jinja2 escapes every value
(autoescape); the JSON block escapes `<`, `>` and `&`, so no data can close it. Values are those
of the result: masked already, unless --show-pii.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from .. import __version__
from ..forms import FORM_BY_ID, FORM_IDS, REALTIME_FORM_IDS
from ..metrics import DELAY_BUCKETS
from ..policy import SEVERITY_RANK, Policy
from ..results import AuditResult, InstitutionResult
from . import svg
from .html_text import LABELS, STATUS_TEXT, bucket_names, form_name
from .text import printable, ranked

ARCHIVE_FORM_IDS = tuple(f for f in FORM_IDS if f not in REALTIME_FORM_IDS)


@dataclass(frozen=True)
class Trends:
    """With --history: per institution (by org_code as shown), each metric's values over the last
    runs (oldest first), and the "changes since the previous run" lines."""

    runs: int
    values: Mapping[str | None, Mapping[str, Sequence[float | None]]]
    new: Sequence[str] = ()
    resolved: Sequence[str] = ()
    changed: Sequence[str] = ()


def _pct(value: float | None) -> str:
    return "/" if value is None else f"{value * 100:.2f}%"


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("nj_audit.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = _pct
    env.filters["shown"] = printable
    return env


def _json_block(data: Any) -> str:
    """JSON that cannot end its <script> element or start markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sum_delays(result: AuditResult) -> dict[str, list[int]]:
    totals: dict[str, list[int]] = {}
    for inst in result.institutions:
        for form, c in inst.forms.items():
            if c.delays is not None:
                into = totals.setdefault(form, [0] * len(DELAY_BUCKETS))
                for i, n in enumerate(c.delays):
                    into[i] += n
    return {f: totals[f] for f in FORM_IDS if f in totals}


def _row(
    index: int, inst: InstitutionResult, policy: Policy, lang: str, trends: Trends | None
) -> dict[str, Any]:
    t = LABELS[lang]
    label = printable(inst.label)
    out, dis = policy.outpatient_rate, policy.discharge_rate
    heat = []
    for form in REALTIME_FORM_IDS:
        c = inst.forms.get(form)
        rate = c.rate if c else None
        shown = _pct(rate) if c else t["not_uploaded"]
        heat.append((rate, f"{label} · {form_name(form, lang)}: {shown}"))
    spark = None
    if trends is not None:
        series = trends.values.get(inst.org_code, {})
        values = series.get("outpatient_rate", ())
        shown = " → ".join(_pct(v) for v in values[-5:])
        spark = svg.sparkline(list(values), f"{t['outpatient_rate']}: {shown}")
    return {
        "index": index,
        "label": label,
        "code": printable(inst.org_code or ""),
        "district": printable(inst.district or ""),
        "status": inst.status,
        "status_text": STATUS_TEXT[lang][inst.status],
        "severity": SEVERITY_RANK[inst.status],
        "inst": inst,
        "coverage": "/" if inst.forms_covered is None
        else f"{inst.forms_covered}/{inst.forms_required}",
        "days": "/" if inst.upload_days is None or inst.period_days is None
        else f"{inst.upload_days}/{inst.period_days}",
        "out_bar": svg.rate_bar(inst.outpatient_rate, out.warn, out.fail,
                                f"{t['outpatient_rate']}: {_pct(inst.outpatient_rate)}"),
        "dis_bar": svg.rate_bar(inst.discharge_rate, dis.warn, dis.fail,
                                f"{t['discharge_rate']}: {_pct(inst.discharge_rate)}"),
        "heat": svg.heat_strip(heat),
        "archives": [inst.forms[f].records if f in inst.forms else None for f in ARCHIVE_FORM_IDS],
        "flags": [printable(f.flag) for f in inst.flags],
        "spark": spark,
    }  # fmt: skip


def _calendar(inst: InstitutionResult, start: date | None, days: int, label: str) -> Any:
    if start is None or not days:
        return None
    return svg.calendar_strip(start, days, dict(inst.day_rows), label)


def _drill(inst: InstitutionResult) -> dict[str, Any]:
    """What the drill-down shows of one institution (rendered by the page's script)."""
    forms = [
        [f, c.rows, c.records, c.valid_records, c.realtime_records, c.rate, c.delays]
        for f, c in sorted(inst.forms.items(), key=lambda kv: FORM_IDS.index(kv[0]))
    ]
    return {
        "n": printable(inst.label),
        "c": printable(inst.org_code or ""),
        "d": printable(inst.district or ""),
        "s": inst.status,
        "u": inst.upload_days,
        "p": inst.period_days,
        "f": forms,
        "k": [[c.form, printable(c.column), printable(c.check), c.failures] for c in inst.checks],
        "g": [[printable(f.flag), f.severity, printable(f.message)] for f in inst.flags],
    }


def render_html(
    result: AuditResult, lang: str = "en", sort: str = "rows_uploaded", trends: Trends | None = None
) -> str:
    """The whole page."""
    t = LABELS[lang]
    policy = result.policy or Policy()
    institutions = ranked(result, sort)
    rows = [_row(i, inst, policy, lang, trends) for i, inst in enumerate(institutions)]
    start = result.period.start if result.period else None
    period_days = result.period.days if result.period else 0
    for row in rows:
        row["calendar"] = _calendar(row["inst"], start, period_days, row["label"])
    by_status = {s: sum(1 for i in institutions if i.status == s) for s in ("ok", "warn", "fail")}
    form_rows: dict[str, int] = {}
    for inst in institutions:
        for form, c in inst.forms.items():
            form_rows[form] = form_rows.get(form, 0) + c.rows
    checks = [
        {"c": c, "share": c.failures / form_rows[c.form] if form_rows.get(c.form) else None}
        for c in result.checks
    ]
    names = bucket_names(lang)
    delays = [
        {"form": f, "name": form_name(f, lang), "counts": counts, "total": sum(counts),
         "chart": svg.histogram(counts, names, form_name(f, lang))}
        for f, counts in _sum_delays(result).items()
    ]  # fmt: skip
    script_data = {
        "labels": {k: v for k, v in t.items() if k.startswith("js_")},
        "buckets": names,
        "forms": {f: form_name(f, lang) for f in FORM_IDS},
        "status": STATUS_TEXT[lang],
        "institutions": [_drill(inst) for inst in institutions],
    }
    districts = sorted({r["district"] for r in rows if r["district"]})
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            t=t,
            lang=lang,
            status_text=STATUS_TEXT[lang],
            version=__version__,
            result=result,
            rows=rows,
            by_status=by_status,
            records=sum(i.records or 0 for i in institutions),
            rows_uploaded=sum(i.rows_uploaded or 0 for i in institutions),
            verdict=t["passed"] if result.passed else t["failed"],
            realtime_forms=[(f, form_name(f, lang)) for f in REALTIME_FORM_IDS],
            archive_forms=[(f, form_name(f, lang)) for f in ARCHIVE_FORM_IDS],
            checks=checks,
            delays=delays,
            bucket_names=names,
            districts=districts,
            legend=[(f"h{i}", text) for i, text in enumerate(t["legend_steps"])],
            trends=trends,
            data=_json_block(script_data),
            form_label=lambda f: form_name(f, lang),
            form_zh=lambda f: FORM_BY_ID[f].label if f in FORM_BY_ID else f,
        )
    )
