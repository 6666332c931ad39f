"""Two runs side by side: which findings are new, resolved or persisting (and getting worse or
better), which institutions appeared or disappeared, what regressed, what moved the most."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..texts import finding_label
from .errors import HistoryError, NotComparableError
from .metrics import SEVERITY_RANK, diff, finding_metric, higher_is_worse, is_ratio
from .model import EntityKey, RunInfo, Snapshot, entity_json
from .queries import paired_findings
from .regress import Regression, RegressionRules, evaluate

if TYPE_CHECKING:
    from .store import HistoryStore

WORSE, SAME, BETTER = "worse", "same", "better"
# The stored metric kinds a comparison reads: the ratios it ranks by change ("rate" is every
# form's rate); the rules' own metrics are added to these.
CHANGE_KINDS = frozenset({"valid_ratio", "upload_day_ratio", "outpatient_rate", "discharge_rate"})
TOP_CHANGES = 20


class FindingDiff(NamedTuple):
    """One finding of a comparison (a tuple: a comparison may hold tens of thousands)."""

    kind: str
    code: str
    org_code: str | None
    name: str | None
    finding: str
    severity: str  # the head's severity (the base's for a resolved finding)
    value: float | None
    before_severity: str | None = None  # persisting findings only
    before_value: float | None = None
    change: str | None = None  # persisting findings only: worse | same | better

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        out: dict[str, Any] = {
            "org_code": self.org_code,
            "name": self.name,
            "kind": self.kind,
            "finding": self.finding,
            "label": finding_label(self.finding, lang),
            "severity": self.severity,
            "value": self.value,
        }
        if self.change is not None:
            out.update(
                before_severity=self.before_severity,
                before_value=self.before_value,
                change=self.change,
            )
        return out


class EntityDiff(NamedTuple):
    kind: str
    code: str
    org_code: str | None
    name: str | None

    def to_json(self) -> dict[str, Any]:
        return {"org_code": self.org_code, "name": self.name, "kind": self.kind}


class MetricChange(NamedTuple):
    kind: str
    code: str
    org_code: str | None
    name: str | None
    metric: str
    before: float
    after: float
    change: float

    def to_json(self) -> dict[str, Any]:
        return {
            "org_code": self.org_code,
            "name": self.name,
            "kind": self.kind,
            "metric": self.metric,
            "before": self.before,
            "after": self.after,
            "change": self.change,
        }


@dataclass(frozen=True)
class Partition:
    """Findings keyed by (entity, finding): new + persisting = head's, resolved + persisting =
    base's, and the three are disjoint."""

    new: tuple[FindingDiff, ...]
    resolved: tuple[FindingDiff, ...]
    persisting: tuple[FindingDiff, ...]


@dataclass(frozen=True)
class Comparison:
    base: RunInfo
    head: RunInfo
    new: tuple[FindingDiff, ...]
    resolved: tuple[FindingDiff, ...]
    persisting: tuple[FindingDiff, ...]
    regressions: tuple[Regression, ...]
    appeared: tuple[EntityDiff, ...]
    disappeared: tuple[EntityDiff, ...]
    changes: tuple[MetricChange, ...]  # ratio metrics, largest absolute change first
    warnings: tuple[str, ...] = ()  # set when forced to compare runs that are not comparable

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """Codes in English; each finding's `label` in `lang`."""
        return {
            "base": self.base.to_json(),
            "head": self.head.to_json(),
            "warnings": list(self.warnings),
            "new": [f.to_json(lang) for f in self.new],
            "resolved": [f.to_json(lang) for f in self.resolved],
            "persisting": [f.to_json(lang) for f in self.persisting],
            "regressions": [r.to_json() for r in self.regressions],
            "appeared": [e.to_json() for e in self.appeared],
            "disappeared": [e.to_json() for e in self.disappeared],
            "changes": [c.to_json() for c in self.changes],
        }


def direction(
    finding: str,
    before: tuple[str, float | None],
    after: tuple[str, float | None],
) -> str:
    """Severity first, then the judged value in the metric's good direction, for (severity,
    value) pairs. (Floats compare as their shortest decimals do: no Decimal needed here.)"""
    rank_before, rank_after = SEVERITY_RANK.get(before[0], 0), SEVERITY_RANK.get(after[0], 0)
    if rank_after != rank_before:
        return WORSE if rank_after > rank_before else BETTER
    value_before, value_after = before[1], after[1]
    if value_before is None or value_after is None or value_before == value_after:
        return SAME
    metric = finding_metric(finding)
    if metric is None:
        return SAME
    return WORSE if (value_after > value_before) == higher_is_worse(metric) else BETTER


class _Who:
    """Entity fields for the output rows, computed once per entity."""

    def __init__(self, *snapshots: Snapshot):
        self._labels = [snap.labels for snap in snapshots]  # the first that knows the entity
        self._cache: dict[EntityKey, tuple[str, str, str | None, str | None]] = {}

    def __call__(self, key: EntityKey) -> tuple[str, str, str | None, str | None]:
        found = self._cache.get(key)
        if found is None:
            label = next((labels[key] for labels in self._labels if key in labels), None)
            info = entity_json(key, label)
            found = self._cache[key] = (key[0], key[1], info["org_code"], info["name"])
        return found


def partition(base: Snapshot, head: Snapshot) -> Partition:
    new, resolved, persisting = [], [], []
    who = _Who(head, base)
    for key in sorted(head.findings.keys() | base.findings.keys()):
        entity, name = key
        after, before = head.findings.get(key), base.findings.get(key)
        if after is not None and before is not None:
            change = direction(name, (before.severity, before.value), (after.severity, after.value))
            persisting.append(
                FindingDiff(
                    *who(entity),
                    name,
                    after.severity,
                    after.value,
                    before.severity,
                    before.value,
                    change,
                )
            )
        elif after is not None:
            new.append(FindingDiff(*who(entity), name, after.severity, after.value))
        elif before is not None:
            resolved.append(FindingDiff(*who(entity), name, before.severity, before.value))
    return Partition(tuple(new), tuple(resolved), tuple(persisting))


def partition_stored(
    store: HistoryStore, base: Snapshot, head: Snapshot, ids: tuple[int, int]
) -> Partition:
    """`partition` of two stored runs, matched by SQLite rather than by Python dictionaries
    (the same result, a third of the time for a city's ten thousand findings)."""
    new, resolved, persisting = [], [], []
    who = _Who(head, base)
    for kind, code, name, severity, value, before_severity, before_value in paired_findings(
        store.db, *ids
    ):
        entity = (kind, code)
        if severity is None:
            resolved.append(FindingDiff(*who(entity), name, before_severity or "", before_value))
        elif before_severity is None:
            new.append(FindingDiff(*who(entity), name, severity, value))
        else:
            change = direction(name, (before_severity, before_value), (severity, value))
            persisting.append(
                FindingDiff(
                    *who(entity), name, severity, value, before_severity, before_value, change
                )
            )
    return Partition(tuple(new), tuple(resolved), tuple(persisting))


def changes(base: Snapshot, head: Snapshot, top: int = TOP_CHANGES) -> tuple[MetricChange, ...]:
    """The largest moves of ratio metrics (points are comparable across metrics; counts are not,
    so they are left to `trend`)."""
    moved = []
    for (entity, metric), after in head.values.items():
        before = base.values.get((entity, metric))
        if before is not None and before != after and is_ratio(metric):
            moved.append((-abs(after - before), entity[1], metric, entity, before, after))
    moved.sort(key=lambda m: m[:3])
    who = _Who(head)
    return tuple(
        MetricChange(*who(entity), metric, before, after, diff(after, before) or 0.0)
        for _, _, metric, entity, before, after in moved[:top]
    )


def compare(
    store: HistoryStore,
    base: RunInfo | None = None,
    head: RunInfo | None = None,
    *,
    force: bool = False,
    rules: RegressionRules | None = None,
    top: int = TOP_CHANGES,
) -> Comparison:
    """`head` defaults to the latest run, `base` to the comparable run before it. Given runs
    that are not comparable raise NotComparableError, unless `force` (then warnings say why)."""
    head = head or store.latest()
    if head is None:
        raise HistoryError(f"{store.path}: the history holds no runs")
    warnings: tuple[str, ...] = ()
    if base is None:
        earlier = store.comparable(head.settings, before=head)
        if not earlier:
            raise HistoryError(f"{store.path}: no run before run {head.id} is comparable with it")
        base = earlier[-1]
    else:
        differences = base.settings.differences(head.settings)
        if differences and not force:
            raise NotComparableError(
                f"runs {base.id} and {head.id} are not comparable: their "
                f"{', '.join(differences)} differ (force to compare anyway)",
                differences,
            )
        warnings = tuple(f"the runs' {d} differ" for d in differences)
    rules = rules or RegressionRules.default()
    kinds = CHANGE_KINDS | {"rate"} | rules.metric_kinds
    base_snap = store.snapshot(base, kinds, findings="none")
    head_snap = store.snapshot(head, kinds, findings="none")
    parts = partition_stored(store, base_snap, head_snap, (base.id, head.id))
    history = {key: [value] for key, value in base_snap.values.items()}
    regressions = evaluate(rules, head_snap, base_snap.values, history, f"run {base.id}")
    who = _Who(head_snap, base_snap)
    appeared = [k for k in head_snap.labels if k not in base_snap.labels]
    gone = [k for k in base_snap.labels if k not in head_snap.labels]
    return Comparison(
        base=base,
        head=head,
        new=parts.new,
        resolved=parts.resolved,
        persisting=parts.persisting,
        regressions=tuple(regressions),
        appeared=tuple(EntityDiff(*who(k)) for k in sorted(appeared)),
        disappeared=tuple(EntityDiff(*who(k)) for k in sorted(gone)),
        changes=changes(base_snap, head_snap, top),
        warnings=warnings,
    )
