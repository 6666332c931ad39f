"""Metric names, and how a flag relates to the metric it judges.

A series is (entity, form, check, metric). Its public name is flat so that the CLI can take it as a
word: `outpatient_rate` (institution), `rate:lab_report` (per form), and
`failures:outpatient_visit.id_card.id_card_checksum` (per check)."""

from __future__ import annotations

import functools
from decimal import Decimal

from ..catalogue import REGRESSION_PREFIX

INSTITUTION_METRICS: tuple[str, ...] = (
    "rows_uploaded",
    "records",
    "valid_records",
    "valid_ratio",
    "upload_days",
    "upload_day_ratio",
    "forms_covered",
    "outpatient_rate",
    "discharge_rate",
)
FORM_METRICS: tuple[str, ...] = ("rows", "records", "rate")
CHECK_METRIC = "failures"
# Ratios in 0..1: their drops are measured in percentage points; other metrics in units.
RATIO_METRICS = frozenset({"valid_ratio", "upload_day_ratio", "outpatient_rate", "discharge_rate"})
# The flag that judges each institution metric (SPEC section 5).
METRIC_FLAG: dict[str, str] = {
    "forms_covered": "coverage",
    "outpatient_rate": "outpatient_rate",
    "discharge_rate": "discharge_rate",
    "upload_day_ratio": "upload_days",
    "upload_days": "upload_days",
    "valid_ratio": "validity",
}
FLAG_METRIC: dict[str, str] = {
    "coverage": "forms_covered",
    "outpatient_rate": "outpatient_rate",
    "discharge_rate": "discharge_rate",
    "upload_days": "upload_day_ratio",
    "validity": "valid_ratio",
}
SEVERITY_RANK = {"ok": 0, "warn": 1, "fail": 2}
CHECK_PREFIX = "check:"

Key = tuple[str, str, str]  # (form, check, metric) as stored in the series table


def split_metric(name: str) -> Key:
    """`rate:lab_report` -> ("lab_report", "", "rate"); `valid_ratio` -> ("", "", "valid_ratio")."""
    if ":" not in name:
        return "", "", name
    metric, _, rest = name.partition(":")
    if metric == CHECK_METRIC:
        form, _, check = rest.partition(".")
        return form, check, metric
    return rest, "", metric


def join_metric(form: str, check: str, metric: str) -> str:
    if check:
        return f"{metric}:{form}.{check}"
    return f"{metric}:{form}" if form else metric


def is_ratio(name: str) -> bool:
    return name in RATIO_METRICS or name.startswith("rate:")


@functools.cache  # a comparison asks for each of a few hundred names thousands of times
def finding_metric(finding: str) -> str | None:
    """The metric whose value a finding judges, or None (no_data, unregistered, members...)."""
    if finding in FLAG_METRIC:
        return FLAG_METRIC[finding]
    if finding.startswith(REGRESSION_PREFIX):
        return finding[len(REGRESSION_PREFIX) :]
    if finding.startswith(CHECK_PREFIX):
        return f"{CHECK_METRIC}:{finding[len(CHECK_PREFIX) :]}"
    return None


def metric_findings(metric: str) -> tuple[str, ...]:
    """The findings that speak about `metric`: its flag, its regression, its check."""
    names = [REGRESSION_PREFIX + metric]
    if metric in METRIC_FLAG:
        names.append(METRIC_FLAG[metric])
    if metric.startswith(CHECK_METRIC + ":"):
        names.append(CHECK_PREFIX + metric[len(CHECK_METRIC) + 1 :])
    return tuple(names)


def higher_is_worse(metric: str) -> bool:
    return metric.startswith(CHECK_METRIC + ":")


def exact(value: float) -> Decimal:
    """The decimal the JSON document printed: repr is the shortest text that round-trips."""
    return Decimal(repr(float(value)))


def diff(after: float | None, before: float | None) -> float | None:
    """after - before without binary noise (0.9 - 0.85 is 0.05, not 0.05000000000000004)."""
    if after is None or before is None:
        return None
    return float(exact(after) - exact(before))
