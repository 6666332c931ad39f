"""What the HTML report shows of the history (`audit --history FILE --format html`): each
institution's real-time rates over the last comparable runs, this run last, and the findings new
and resolved since the previous comparable run. Computed before this run is appended."""

from __future__ import annotations

from typing import Any

from ..render.html import Trends
from .compare import FindingDiff, partition
from .errors import HistoryError
from .extract import parse
from .model import RunSettings, Snapshot
from .store import HistoryStore
from .trend import trend

RUNS = 30  # the sparklines' length
RATES = ("outpatient_rate", "discharge_rate")


def _line(finding: FindingDiff) -> str:
    return (
        f"{finding.name or finding.org_code or '(missing)'}: {finding.finding} ({finding.severity})"
    )


def report_trends(
    store: HistoryStore, document: dict[str, Any], settings: RunSettings, runs: int = RUNS
) -> Trends:
    """Per institution of `document` (this run), the rates of the last `runs` - 1 stored runs in
    which it appears and this run's; the findings new and resolved against the previous
    comparable run (none when there is none)."""
    parsed = parse(document, settings.scope)
    earlier = store.comparable(settings)
    new: list[str] = []
    resolved: list[str] = []
    if earlier:
        head = Snapshot.of(parsed, frozenset())
        parts = partition(store.snapshot(earlier[-1], frozenset(), findings="brief"), head)
        new = [_line(f) for f in parts.new]
        resolved = [_line(f) for f in parts.resolved]
    values: dict[str | None, dict[str, list[float | None]]] = {}
    for item in document.get("institutions", []):
        code = item.get("org_code")
        series: dict[str, list[float | None]] = {m: [] for m in RATES}
        if code and settings.scope == "institution":
            try:
                found = trend(store, code, list(RATES), last=runs - 1)
            except HistoryError:  # a new institution: this run only
                found = None
            for row in found.rows if found else ():
                series[row.metric] = list(row.values)
        for metric in RATES:
            series[metric].append(item.get(metric))
        values[code] = series
    return Trends(len(earlier) + 1, values, new, resolved)
