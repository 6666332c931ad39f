"""Regression rules: has a metric dropped too far against a baseline, or kept declining?

Limits are compared exactly, on the decimals the document printed (`Decimal(repr(x))`): a drop of
exactly the limit is not a regression, anything more is. For ratios (rates, valid_ratio,
upload_day_ratio) `max_drop_points` is in percentage points; for counts (forms_covered,
rows_uploaded) it is in units. `consecutive_declines = N` asks for N drops in a row, the newest
one being the document judged, so N + 1 consecutive values, each strictly below the one before."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..forms import FORM_IDS
from .errors import NotComparableError
from .extract import parse
from .metrics import REGRESSION_PREFIX, diff, exact, is_ratio, split_metric
from .model import EntityKey, Label, RunSettings, Snapshot, entity_json

if TYPE_CHECKING:
    from .store import HistoryStore

RULE_METRICS: tuple[str, ...] = (
    "outpatient_rate",
    "discharge_rate",
    "valid_ratio",
    "upload_day_ratio",
    "forms_covered",
    "rows_uploaded",
    "records",
    "valid_records",
    "upload_days",
    *(f"rate:{form}" for form in FORM_IDS),
)
TABLE_KEYS = ("baseline", "severity")  # the table's own keys, beside its [METRIC] tables
RULE_KEYS = ("max_drop_points", "max_relative_drop", "consecutive_declines", "severity")
SEVERITIES = ("warn", "fail")
Values = dict[tuple[EntityKey, str], float]


@dataclass(frozen=True)
class MetricRule:
    metric: str
    max_drop_points: Decimal | None = None
    max_relative_drop: Decimal | None = None
    consecutive_declines: int | None = None
    severity: str = "warn"


@dataclass(frozen=True)
class RegressionRules:
    rules: tuple[MetricRule, ...] = ()
    baseline: str = "previous"  # previous | accepted | median:N

    @classmethod
    def default(cls) -> RegressionRules:
        """Ratios falling more than 5 points, any lost form, rows halving (all warn)."""
        five = Decimal(5)
        ratios = ("outpatient_rate", "discharge_rate", "valid_ratio", "upload_day_ratio")
        return cls(
            (
                *(MetricRule(m, max_drop_points=five) for m in ratios),
                MetricRule("forms_covered", max_drop_points=Decimal(0)),
                MetricRule("rows_uploaded", max_relative_drop=Decimal("0.5")),
            )
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RegressionRules:
        """Rules from a TOML-like table; ValueError names the first bad key or value. The table's
        `severity` is the default of its rules (else warn)."""
        if not isinstance(data, Mapping):
            raise ValueError("regression rules must be a table")
        baseline = data.get("baseline", "previous")
        check_baseline(baseline)
        default = _severity("severity", data.get("severity", "warn"))
        rules = []
        for metric, table in data.items():
            if metric in TABLE_KEYS:
                continue
            if metric not in RULE_METRICS:
                raise ValueError(
                    f"unknown regression metric {metric!r} (known: "
                    f"{', '.join(RULE_METRICS[:9])}, rate:FORM)"
                )
            rules.append(_rule(metric, table, default))
        return cls(tuple(rules), baseline)

    @property
    def metric_kinds(self) -> frozenset[str]:
        """The stored metric kinds the rules read (`rate` for every per-form rate)."""
        return frozenset(split_metric(r.metric)[2] for r in self.rules)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"baseline": self.baseline}
        for rule in self.rules:
            out[rule.metric] = {
                key: (float(v) if isinstance(v, Decimal) else v)
                for key in RULE_KEYS
                if (v := getattr(rule, key)) is not None
            }
        return out


def check_baseline(baseline: Any) -> None:
    if baseline in ("previous", "accepted"):
        return
    if isinstance(baseline, str) and baseline.startswith("median:"):
        count = baseline[len("median:") :]
        if count.isdigit() and int(count) >= 1:
            return
    raise ValueError(f"baseline must be previous, accepted or median:N (N >= 1), not {baseline!r}")


def _limit(metric: str, key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{metric}.{key} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{metric}.{key} must be a finite number, not {value!r}")
    if value < 0:
        raise ValueError(f"{metric}.{key} must not be negative, not {value!r}")
    if key == "max_relative_drop" and value > 1:
        raise ValueError(f"{metric}.{key} is a share of the baseline, 0 to 1, not {value!r}")
    return exact(value)


def _severity(where: str, severity: Any) -> str:
    if severity not in SEVERITIES:
        raise ValueError(f"{where} must be warn or fail, not {severity!r}")
    return str(severity)


def _rule(metric: str, table: Any, default_severity: str = "warn") -> MetricRule:
    if not isinstance(table, Mapping):
        raise ValueError(f"[{metric}] must be a table of {', '.join(RULE_KEYS)}")
    unknown = sorted(set(table) - set(RULE_KEYS))
    if unknown:
        raise ValueError(
            f"[{metric}] has unknown keys {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(RULE_KEYS)})"
        )
    severity = _severity(f"{metric}.severity", table.get("severity", default_severity))
    declines = table.get("consecutive_declines")
    if declines is not None and (
        isinstance(declines, bool) or not isinstance(declines, int) or declines < 1
    ):
        raise ValueError(f"{metric}.consecutive_declines must be a whole number >= 1")
    points, share = (
        _limit(metric, key, table[key]) if key in table else None
        for key in ("max_drop_points", "max_relative_drop")
    )
    if points is None and share is None and declines is None:
        raise ValueError(f"[{metric}] sets no limit")
    return MetricRule(metric, points, share, declines, severity)


@dataclass(frozen=True)
class Regression:
    kind: str
    code: str
    org_code: str | None
    name: str | None
    metric: str
    before: float | None  # the baseline value (the previous one for consecutive_declines)
    after: float
    change: float | None
    rule: str  # max_drop_points | max_relative_drop | consecutive_declines
    severity: str
    message: str
    baseline: str

    @property
    def finding(self) -> str:
        return REGRESSION_PREFIX + self.metric

    def as_flag(self) -> dict[str, str]:
        """The flag the audit may add to the institution in its document."""
        return {"flag": self.finding, "severity": self.severity, "message": self.message}

    def to_json(self) -> dict[str, Any]:
        return {
            "org_code": self.org_code,
            "name": self.name,
            "kind": self.kind,
            "metric": self.metric,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "rule": self.rule,
            "severity": self.severity,
            "baseline": self.baseline,
            "message": self.message,
        }


def _plain(value: Decimal) -> str:
    """5, 5.01, 100: no exponent, no trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown(metric: str, value: Decimal) -> str:
    return f"{value * 100:.2f}%" if is_ratio(metric) else _plain(value)


def judge(
    rule: MetricRule, before: float | None, after: float, history: Sequence[float | None]
) -> list[tuple[str, str]]:
    """(rule key, message) for each limit `after` breaks; `history` is the values before it."""
    out = []
    a = exact(after)
    if before is not None:
        b = exact(before)
        drop = (b - a) * (100 if is_ratio(rule.metric) else 1)
        unit = "points" if is_ratio(rule.metric) else "units"
        if rule.max_drop_points is not None and drop > rule.max_drop_points:
            out.append(
                (
                    "max_drop_points",
                    f"{rule.metric} fell {_plain(drop)} {unit} from {_shown(rule.metric, b)} to "
                    f"{_shown(rule.metric, a)} (limit {_plain(rule.max_drop_points)})",
                )
            )
        if rule.max_relative_drop is not None and b > 0 and b - a > rule.max_relative_drop * b:
            out.append(
                (
                    "max_relative_drop",
                    f"{rule.metric} fell by {(b - a) / b:.2%} from {_shown(rule.metric, b)} to "
                    f"{_shown(rule.metric, a)} (limit {rule.max_relative_drop:.2%})",
                )
            )
    n = rule.consecutive_declines
    if n is not None and len(history) >= n:
        chain = [*history[-n:], after]
        if all(v is not None for v in chain):
            steps = [exact(v) for v in chain if v is not None]
            if all(later < earlier for earlier, later in zip(steps, steps[1:])):
                out.append(
                    (
                        "consecutive_declines",
                        f"{rule.metric} declined {n} runs in a row, from "
                        f"{_shown(rule.metric, steps[0])} to {_shown(rule.metric, a)}",
                    )
                )
    return out


def evaluate(
    rules: RegressionRules,
    head: Snapshot,
    before: Values,
    history: Mapping[tuple[EntityKey, str], Sequence[float | None]],
    baseline: str,
) -> list[Regression]:
    """The regressions of `head` against per-(entity, metric) baseline values and histories."""
    out = []
    for key, label in sorted(head.labels.items()):
        for rule in rules.rules:
            after = head.values.get((key, rule.metric))
            if after is None:
                continue
            base = before.get((key, rule.metric))
            past = history.get((key, rule.metric), ())
            for name, message in judge(rule, base, after, past):
                reference = past[-1] if name == "consecutive_declines" and past else base
                out.append(_regression(key, label, rule, reference, after, name, message, baseline))
    return out


def _regression(
    key: EntityKey,
    label: Label,
    rule: MetricRule,
    before: float | None,
    after: float,
    name: str,
    message: str,
    baseline: str,
) -> Regression:
    who = entity_json(key, label)
    return Regression(
        kind=key[0],
        code=key[1],
        org_code=who["org_code"],
        name=who["name"],
        metric=rule.metric,
        before=before,
        after=after,
        change=diff(after, before),
        rule=name,
        severity=rule.severity,
        message=message,
        baseline=baseline,
    )


def regressions(
    store: HistoryStore,
    document: dict[str, Any],
    rules: RegressionRules,
    baseline: str | None = None,
    *,
    settings: RunSettings | None = None,
) -> list[Regression]:
    """The regressions of a document not yet appended, against the comparable stored runs.

    `settings` default to an audit with the document's scope and window and no digests. With no
    baseline run (first run, nothing accepted), only the rules that need none can fire: none."""
    kind = baseline or rules.baseline
    check_baseline(kind)
    parsed = parse(document, settings.scope if settings else None)
    settings = settings or RunSettings("audit", parsed.scope, parsed.window_seconds, None, None)
    head = Snapshot.of(parsed, rules.metric_kinds)
    runs = store.comparable(settings)
    if kind == "accepted":
        accepted = store.accepted(settings.command, settings.scope)
        if accepted is not None and accepted.settings.differences(settings):
            differs = ", ".join(accepted.settings.differences(settings))
            raise NotComparableError(
                f"the accepted run {accepted.id} is not comparable ({differs} differ); "
                "accept a newer run",
                accepted.settings.differences(settings),
            )
        base_runs = [accepted.id] if accepted is not None else []
    elif kind.startswith("median:"):
        base_runs = [r.id for r in runs[-int(kind.split(":")[1]) :]]
    else:
        base_runs = [runs[-1].id] if runs else []
    depth = max((r.consecutive_declines or 0 for r in rules.rules), default=0)
    past_runs = [r.id for r in runs[-depth:]] if depth else []
    metrics = sorted({r.metric for r in rules.rules})
    stored = store.values(sorted(set(base_runs) | set(past_runs)), metrics)
    before: Values = {}
    for key, by_run in stored.items():
        present = [exact(by_run[r]) for r in base_runs if r in by_run]
        if present:
            before[key] = float(statistics.median(present))
    history = {key: [by_run.get(r) for r in past_runs] for key, by_run in stored.items()}
    return evaluate(rules, head, before, history, kind)
