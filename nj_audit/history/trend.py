"""One institution's metrics over the runs that show it: values, changes, range and a sparkline."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..texts import finding_label
from .errors import HistoryError
from .metrics import (
    FORM_METRICS,
    INSTITUTION_METRICS,
    SEVERITY_RANK,
    diff,
    join_metric,
    metric_findings,
    split_metric,
)
from .model import EntityRef, RunInfo, entity_json
from .queries import finding_names

if TYPE_CHECKING:
    from .store import HistoryStore

BARS = "▁▂▃▄▅▆▇█"
FLAT = BARS[3]


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value scaled between the series' min and max; a missing value is a space and a
    constant series a flat line of middle bars."""
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    if high - low <= 1e-12 * max(1.0, abs(high)):
        return "".join(" " if v is None else FLAT for v in values)
    top = len(BARS) - 1
    return "".join(
        " " if v is None else BARS[math.floor((v - low) / (high - low) * top + 0.5)] for v in values
    )


@dataclass(frozen=True)
class TrendRow:
    metric: str
    values: tuple[float | None, ...]  # one per run of the trend, oldest first
    last: float | None
    change_previous: float | None  # last - the run before's value
    baseline: float | None
    change_baseline: float | None  # last - baseline
    minimum: float | None
    maximum: float | None
    sparkline: str
    finding: str | None  # the newest run's finding on this metric (its flag, regression, check)
    severity: str | None
    persisted: int  # for how many consecutive newest runs a finding on this metric has stood

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "metric": self.metric,
            "values": list(self.values),
            "last": self.last,
            "change_previous": self.change_previous,
            "baseline": self.baseline,
            "change_baseline": self.change_baseline,
            "min": self.minimum,
            "max": self.maximum,
            "sparkline": self.sparkline,
            "finding": self.finding,
            "label": None if self.finding is None else finding_label(self.finding, lang),
            "severity": self.severity,
            "persisted": self.persisted,
        }


@dataclass(frozen=True)
class Trend:
    entity: EntityRef
    runs: tuple[RunInfo, ...]
    baseline: RunInfo | None  # the accepted run if pinned (and showing the entity), else the first
    rows: tuple[TrendRow, ...]

    def row(self, metric: str) -> TrendRow:
        for row in self.rows:
            if row.metric == metric:
                return row
        raise KeyError(metric)

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """Codes in English; each row's finding `label` in `lang`."""
        label = {"name": self.entity.name, "district": self.entity.district}
        return {
            "entity": {**entity_json(self.entity.key, None), **label, "code": self.entity.code},
            "runs": [r.to_json() for r in self.runs],
            "baseline": None if self.baseline is None else self.baseline.to_json(),
            "rows": [r.to_json(lang) for r in self.rows],
        }


def check_metric(name: str) -> None:
    form, check, metric = split_metric(name)
    known = (
        (not form and not check and metric in INSTITUTION_METRICS)
        or (form and not check and metric in FORM_METRICS)
        or (form and check and metric == "failures")
    )
    if not known:
        raise HistoryError(
            f"unknown metric {name!r} (give {', '.join(INSTITUTION_METRICS)}, "
            "rate:FORM, rows:FORM, records:FORM or failures:FORM.COLUMN.CHECK)"
        )


def trend(
    store: HistoryStore,
    institution: str,
    metrics: Sequence[str] | None = None,
    last: int | None = None,
) -> Trend:
    """`metrics` defaults to the institution metrics; `rate:*` means every form's rate."""
    entity = store.find_entity(institution)
    db = store.db
    shown = {
        int(r[0]) for r in db.execute("SELECT run FROM appearances WHERE entity = ?", (entity.id,))
    }
    every = store.runs()
    runs = [r for r in every if r.id in shown]
    if last is not None:
        runs = runs[-last:] if last > 0 else []
    series = {
        join_metric(form, check, metric): int(id_)
        for id_, form, check, metric in db.execute(
            'SELECT id, form, "check", metric FROM series WHERE entity = ?', (entity.id,)
        )
    }
    names: list[str] = []
    for name in metrics or INSTITUTION_METRICS:
        if name == "rate:*":
            names.extend(sorted(n for n in series if n.startswith("rate:")))
        else:
            check_metric(name)
            names.append(name)
    baseline = runs[0] if runs else None
    if runs:
        newest = runs[-1]
        for run in every:
            pinned = run.accepted and (run.command, run.scope) == (newest.command, newest.scope)
            if pinned and run.id in shown:
                baseline = run
    run_ids = sorted({r.id for r in runs} | ({baseline.id} if baseline else set()))
    wanted = [series[n] for n in names if n in series]
    values: dict[tuple[int, int], float] = {}
    if wanted and run_ids:
        # point look-ups on the (run, series) key: observations are clustered by run
        sql = (
            "SELECT series, run, value FROM observations WHERE run IN "
            f"({','.join('?' * len(run_ids))}) AND series IN ({','.join('?' * len(wanted))})"
        )
        for series_id, run, value in db.execute(sql, [*run_ids, *wanted]):
            values[series_id, run] = value
    findings = _findings(store, entity, names, run_ids)
    rows = tuple(_row(n, series.get(n), runs, baseline, values, findings) for n in names)
    return Trend(entity, tuple(runs), baseline, rows)


def _findings(
    store: HistoryStore, entity: EntityRef, names: list[str], run_ids: list[int]
) -> dict[tuple[int, str], str]:
    """(run, finding) -> severity for the findings that speak about the given metrics."""
    known = {name: id_ for id_, name in finding_names(store.db).items()}
    wanted = sorted({known[f] for n in names for f in metric_findings(n) if f in known})
    if not wanted or not run_ids:
        return {}
    by_id = {id_: name for name, id_ in known.items()}
    sql = (
        f"SELECT run, finding, severity FROM findings WHERE run IN ({','.join('?' * len(run_ids))})"
        f" AND entity = ? AND finding IN ({','.join('?' * len(wanted))})"
    )
    return {
        (int(run), by_id[finding]): severity
        for run, finding, severity in store.db.execute(sql, [*run_ids, entity.id, *wanted])
    }


def _row(
    name: str,
    series_id: int | None,
    runs: list[RunInfo],
    baseline: RunInfo | None,
    values: dict[tuple[int, int], float],
    findings: dict[tuple[int, str], str],
) -> TrendRow:
    series = tuple(None if series_id is None else values.get((series_id, r.id)) for r in runs)
    present = [v for v in series if v is not None]
    last = series[-1] if series else None
    before = series[-2] if len(series) > 1 else None
    base = None
    if baseline is not None and series_id is not None:
        base = values.get((series_id, baseline.id))
    names = metric_findings(name)
    finding = severity = None
    persisted = 0
    for run in reversed(runs):
        here = [(findings[run.id, f], f) for f in names if (run.id, f) in findings]
        if not here:
            break
        if persisted == 0:
            severity, finding = max(here, key=lambda sf: SEVERITY_RANK.get(sf[0], 0))
        persisted += 1
    return TrendRow(
        metric=name,
        values=series,
        last=last,
        change_previous=diff(last, before),
        baseline=base,
        change_baseline=diff(last, base),
        minimum=min(present) if present else None,
        maximum=max(present) if present else None,
        sparkline=sparkline(series),
        finding=finding,
        severity=severity,
        persisted=persisted,
    )
