"""Regression rules: validation, exact limits (at, just over), relative drops, slow drift over
consecutive runs, and the previous / accepted / median baselines."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from nj_audit.history import (
    HistoryStore,
    NotComparableError,
    RegressionRules,
    RunSettings,
    regressions,
)
from nj_audit.history import synthetic as syn

CODE = "12320100466000002F"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with HistoryStore.open(tmp_path / "history.sqlite") as store:
        yield store


def doc(**metrics: Any) -> dict[str, Any]:
    return syn.document(syn.entry(CODE, **metrics))


def history(store: HistoryStore, metric: str, values: list[float], **options: Any) -> list:  # type: ignore[type-arg]
    """One run per value, a day apart."""
    return [
        store.append(
            syn.render(doc(**{metric: value})),
            started_at=f"2022-01-{n + 1:02d}T00:00:00Z",
            **options,
        )
        for n, value in enumerate(values)
    ]


def fired(store: HistoryStore, rules: dict[str, Any], **metrics: Any) -> list[tuple[str, str]]:
    found = regressions(store, doc(**metrics), RegressionRules.from_mapping(rules))
    return [(r.metric, r.rule) for r in found]


POINTS5 = {"outpatient_rate": {"max_drop_points": 5}}


def test_a_drop_of_exactly_the_limit_is_not_a_regression(store: HistoryStore) -> None:
    assert (0.55 - 0.50) * 100 > 5  # in binary floating point it would be 5.000000000000004
    history(store, "outpatient_rate", [0.55])
    assert fired(store, POINTS5, outpatient_rate=0.50) == []
    assert fired(store, POINTS5, outpatient_rate=0.4999) == [("outpatient_rate", "max_drop_points")]
    assert fired(store, POINTS5, outpatient_rate=0.49999999) != []
    assert fired(store, POINTS5, outpatient_rate=0.56) == []  # a rise is never a drop


def test_just_over_the_limit_the_other_way_round(store: HistoryStore) -> None:
    assert (0.57 - 0.52) * 100 < 5  # floating point would miss 0.57 -> 0.5199
    history(store, "outpatient_rate", [0.57])
    assert fired(store, POINTS5, outpatient_rate=0.52) == []
    assert fired(store, POINTS5, outpatient_rate=0.5199) == [("outpatient_rate", "max_drop_points")]


def test_the_regression_says_what_and_how_much(store: HistoryStore) -> None:
    history(store, "outpatient_rate", [0.95])
    rules = RegressionRules.from_mapping(
        {"outpatient_rate": {"max_drop_points": 5, "severity": "fail"}}
    )
    (found,) = regressions(store, doc(outpatient_rate=0.89), rules)
    assert (found.org_code, found.name, found.metric) == (CODE, "甲医院", "outpatient_rate")
    assert (found.before, found.after, found.change) == (0.95, 0.89, -0.06)
    assert (found.rule, found.severity, found.baseline) == ("max_drop_points", "fail", "previous")
    assert found.message == ("outpatient_rate fell 6 points from 95.00% to 89.00% (limit 5)")
    assert found.as_flag()["flag"] == "regression:outpatient_rate"
    assert found.to_json()["change"] == -0.06


def test_counts_drop_in_units(store: HistoryStore) -> None:
    history(store, "forms_covered", [11])
    rules = {"forms_covered": {"max_drop_points": 1}}
    assert fired(store, rules, forms_covered=10) == []
    assert fired(store, rules, forms_covered=9) == [("forms_covered", "max_drop_points")]
    assert fired(store, {"forms_covered": {"max_drop_points": 0}}, forms_covered=10) != []


def test_relative_drop(store: HistoryStore) -> None:
    history(store, "rows_uploaded", [1000])
    rules = {"rows_uploaded": {"max_relative_drop": 0.5}}
    assert fired(store, rules, rows_uploaded=500) == []
    assert fired(store, rules, rows_uploaded=499) == [("rows_uploaded", "max_relative_drop")]
    assert fired(store, {"rows_uploaded": {"max_relative_drop": 0}}, rows_uploaded=999) != []


def test_per_form_rates(store: HistoryStore) -> None:
    history(store, "outpatient_rate", [0.9])  # and the outpatient_visit form's rate with it
    rules = {"rate:outpatient_visit": {"max_drop_points": 10}}
    assert fired(store, rules, outpatient_rate=0.8) == []
    assert fired(store, rules, outpatient_rate=0.79) == [
        ("rate:outpatient_visit", "max_drop_points")
    ]


def test_slow_drift(store: HistoryStore) -> None:
    """A point a day never trips a 5-point limit against the previous run; it trips the
    consecutive-declines rule on the Nth decline, and the accepted baseline once it adds up."""
    drift = [round(0.95 - n / 100, 2) for n in range(8)]  # 0.95, 0.94, ... 0.88
    runs = history(store, "outpatient_rate", drift[:3])  # 0.95, 0.94, 0.93 stored
    assert fired(store, POINTS5, outpatient_rate=0.92) == []
    declines = {"outpatient_rate": {"consecutive_declines": 3}}
    assert fired(store, declines, outpatient_rate=0.92) == [
        ("outpatient_rate", "consecutive_declines")
    ]  # 0.95 > 0.94 > 0.93 > 0.92: three declines, the last one being the new document
    assert (
        fired(store, {"outpatient_rate": {"consecutive_declines": 4}}, outpatient_rate=0.92) == []
    )
    assert fired(store, declines, outpatient_rate=0.93) == []  # flat is not a decline
    store.accept(runs[0])
    accepted = dict(POINTS5, baseline="accepted")
    assert fired(store, accepted, outpatient_rate=0.90) == []  # 5 points: exactly the limit
    assert fired(store, accepted, outpatient_rate=0.8999) == [
        ("outpatient_rate", "max_drop_points")
    ]
    for n, value in enumerate(drift[3:6]):  # keep drifting: 0.92, 0.91, 0.90 stored
        store.append(
            syn.render(doc(outpatient_rate=value)), started_at=f"2022-02-{n + 1:02d}T00:00:00Z"
        )
    assert fired(store, accepted, outpatient_rate=0.89) == [("outpatient_rate", "max_drop_points")]
    assert fired(store, POINTS5, outpatient_rate=0.89) == []


def test_median_baseline(store: HistoryStore) -> None:
    history(store, "outpatient_rate", [0.5, 0.90, 0.80, 0.95])
    median3 = dict(POINTS5, baseline="median:3")  # median of 0.90, 0.80, 0.95 = 0.90
    assert fired(store, median3, outpatient_rate=0.85) == []
    found = regressions(store, doc(outpatient_rate=0.8499), RegressionRules.from_mapping(median3))
    assert [(r.before, r.baseline) for r in found] == [(0.9, "median:3")]
    median4 = dict(POINTS5, baseline="median:4")  # median of 0.5, 0.8, 0.9, 0.95 = 0.85
    assert fired(store, median4, outpatient_rate=0.80) == []
    assert fired(store, median4, outpatient_rate=0.7999) != []
    # the argument overrides the rules' baseline
    rules = RegressionRules.from_mapping(POINTS5)
    assert regressions(store, doc(outpatient_rate=0.85), rules, "median:3") == []
    assert regressions(store, doc(outpatient_rate=0.85), rules, "previous") != []


def test_accepted_baseline(store: HistoryStore) -> None:
    runs = history(store, "outpatient_rate", [0.95, 0.94, 0.93])
    accepted = dict(POINTS5, baseline="accepted")
    assert fired(store, accepted, outpatient_rate=0.10) == []  # nothing accepted: no baseline
    store.accept(runs[0])
    assert fired(store, accepted, outpatient_rate=0.90) == []
    assert fired(store, accepted, outpatient_rate=0.8999) != []
    assert fired(store, POINTS5, outpatient_rate=0.8999) == []  # previous (0.93): 3 points


def test_only_comparable_runs_count(store: HistoryStore) -> None:
    history(store, "outpatient_rate", [0.95], policy_digest="old")
    history(store, "outpatient_rate", [0.60], command="rank")
    rules = RegressionRules.from_mapping(POINTS5)
    new = doc(outpatient_rate=0.5)
    assert regressions(store, new, rules) == []  # the audit run had digests, these do not
    same = RunSettings("audit", "institution", 86400, None, "old")
    assert [r.before for r in regressions(store, new, rules, settings=same)] == [0.95]
    store.accept(store.runs()[0])
    with pytest.raises(NotComparableError, match="accepted run"):
        regressions(store, new, rules, "accepted")


def test_no_history_no_regressions(store: HistoryStore) -> None:
    assert regressions(store, doc(), RegressionRules.default()) == []
    store.append(syn.render(syn.document(syn.entry("OTHER"))))
    assert regressions(store, doc(outpatient_rate=0.1), RegressionRules.default()) == []


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"outpatient": {"max_drop_points": 5}}, "unknown regression metric 'outpatient'"),
        ({"rate:nope": {"max_drop_points": 5}}, "unknown regression metric 'rate:nope'"),
        ({"outpatient_rate": {"max_drop": 5}}, "unknown keys 'max_drop'"),
        ({"outpatient_rate": {"max_drop_points": math.nan}}, "finite"),
        ({"outpatient_rate": {"max_drop_points": math.inf}}, "finite"),
        ({"outpatient_rate": {"max_drop_points": -1}}, "negative"),
        ({"outpatient_rate": {"max_drop_points": "5"}}, "number"),
        ({"outpatient_rate": {"max_drop_points": True}}, "number"),
        ({"rows_uploaded": {"max_relative_drop": 1.5}}, "0 to 1"),
        ({"rows_uploaded": {"max_relative_drop": -0.1}}, "negative"),
        ({"outpatient_rate": {"consecutive_declines": 0}}, "whole number"),
        ({"outpatient_rate": {"consecutive_declines": 2.5}}, "whole number"),
        ({"outpatient_rate": {"max_drop_points": 5, "severity": "error"}}, "warn or fail"),
        ({"outpatient_rate": {}}, "sets no limit"),
        ({"outpatient_rate": 5}, "must be a table"),
        ({"baseline": "median:0"}, "median:N"),
        ({"baseline": "last"}, "median:N"),
    ],
)
def test_rules_are_validated(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RegressionRules.from_mapping(rules)


def test_rules_from_a_mapping() -> None:
    rules = RegressionRules.from_mapping(
        {
            "baseline": "median:7",
            "outpatient_rate": {"max_drop_points": 5, "severity": "fail"},
            "rows_uploaded": {"max_relative_drop": 0.5},
            "rate:lab_report": {"consecutive_declines": 3},
        }
    )
    assert rules.baseline == "median:7"
    assert [(r.metric, r.severity) for r in rules.rules] == [
        ("outpatient_rate", "fail"),
        ("rows_uploaded", "warn"),
        ("rate:lab_report", "warn"),
    ]
    assert rules.to_json()["outpatient_rate"] == {"max_drop_points": 5.0, "severity": "fail"}
    assert RegressionRules.from_mapping({}).rules == ()


def test_counts_of_the_contract_are_judged_in_units(store: HistoryStore) -> None:
    history(store, "upload_days", [30])
    rules = {"upload_days": {"max_drop_points": 2}}
    assert fired(store, rules, upload_days=28) == []
    assert fired(store, rules, upload_days=27) == [("upload_days", "max_drop_points")]


def test_the_table_severity_is_the_default_of_its_rules() -> None:
    rules = RegressionRules.from_mapping(
        {"severity": "fail", "records": {"max_relative_drop": 0.5},
         "valid_records": {"max_relative_drop": 0.5, "severity": "warn"}}
    )  # fmt: skip
    assert [(r.metric, r.severity) for r in rules.rules] == [
        ("records", "fail"),
        ("valid_records", "warn"),
    ]
    with pytest.raises(ValueError, match="severity must be warn or fail"):
        RegressionRules.from_mapping({"severity": "error"})
