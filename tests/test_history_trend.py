"""An institution's trend: found by code or name, values oldest to newest, changes since the
previous run and the baseline, the sparkline, and how long a finding has persisted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nj_audit.history import HistoryError, HistoryStore, sparkline
from nj_audit.history import synthetic as syn

A, B = "12320100466000002F", "91320100666000001X"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with HistoryStore.open(tmp_path / "history.sqlite") as store:
        yield store


def add(store: HistoryStore, *entries: dict[str, Any], day: int) -> Any:
    text = syn.render(syn.document(*entries))
    return store.append(text, started_at=f"2022-04-{day:02d}T00:00:00Z")


def test_sparkline() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0.9, None, 0.9, 0.9]) == "▄ ▄▄"  # constant: a flat line
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""
    assert sparkline([3.0]) == "▄"
    assert sparkline([0.1, 0.1 + 1e-15]) == "▄▄"  # float noise is not a change


@pytest.fixture
def filled(store: HistoryStore) -> list[Any]:
    rates = [0.95, 0.85, None, 0.70, 0.50]
    flags = [[], [("outpatient_rate", "warn")], [], [("outpatient_rate", "warn")],
             [("outpatient_rate", "fail"), ("regression:outpatient_rate", "warn")]]  # fmt: skip
    runs = []
    for day, (rate, flag) in enumerate(zip(rates, flags, strict=True), start=1):
        runs.append(
            add(
                store,
                syn.entry(A, "甲医院", outpatient_rate=rate, flags=flag, rows_uploaded=100 * day),
                syn.entry(B, "乙医院"),
                syn.entry(None, "丙卫生院", district="鼓楼区"),
                day=day,
            )
        )
    return runs


def test_trend_by_code(store: HistoryStore, filled: list[Any]) -> None:
    trend = store.trend(A)
    assert trend.entity.code == A and trend.entity.name == "甲医院"
    assert [r.id for r in trend.runs] == [r.id for r in filled]
    rate = trend.row("outpatient_rate")
    assert rate.values == (0.95, 0.85, None, 0.7, 0.5)
    assert rate.last == 0.5 and rate.change_previous == -0.2
    assert trend.baseline == filled[0] and rate.baseline == 0.95 and rate.change_baseline == -0.45
    assert (rate.minimum, rate.maximum) == (0.5, 0.95)
    assert rate.sparkline == "█▆ ▄▁"
    assert (rate.finding, rate.severity, rate.persisted) == ("outpatient_rate", "fail", 2)
    rows = trend.row("rows_uploaded")
    assert rows.values == (100, 200, 300, 400, 500) and rows.sparkline == "▁▃▅▆█"
    assert rows.finding is None and rows.persisted == 0
    assert [r.metric for r in trend.rows][:3] == ["rows_uploaded", "records", "valid_records"]
    data = json.loads(json.dumps(trend.to_json(), ensure_ascii=False))
    assert data["entity"]["org_code"] == A and data["rows"][0]["metric"] == "rows_uploaded"


def test_trend_window_and_accepted_baseline(store: HistoryStore, filled: list[Any]) -> None:
    trend = store.trend(A, ["outpatient_rate"], last=2)
    (rate,) = trend.rows
    assert rate.values == (0.7, 0.5) and rate.change_baseline == -0.2
    store.accept(filled[1])
    rate = store.trend(A, ["outpatient_rate"], last=2).row("outpatient_rate")
    assert rate.baseline == 0.85 and rate.change_baseline == -0.35
    assert store.trend(A, last=0).runs == ()


def test_trend_by_name(store: HistoryStore, filled: list[Any]) -> None:
    assert store.trend("甲医院").entity.code == A  # exact name
    assert store.trend("乙").entity.code == B  # unique substring
    assert store.trend("0666").entity.code == B  # of the code, too
    name_only = store.trend("丙卫生院")
    assert name_only.entity.kind == "name" and name_only.entity.district == "鼓楼区"
    assert name_only.to_json()["entity"]["org_code"] is None
    with pytest.raises(HistoryError, match="several institutions") as caught:
        store.trend("医院")
    assert "甲医院" in str(caught.value) and "乙医院" in str(caught.value)
    with pytest.raises(HistoryError, match="no institution matches"):
        store.trend("戊医院")


def test_trend_of_form_rates_and_unknown_metrics(store: HistoryStore, filled: list[Any]) -> None:
    rows = store.trend(A, ["rate:outpatient_visit", "valid_ratio"]).rows
    assert rows[0].values == (0.95, 0.85, None, 0.7, 0.5)
    assert rows[1].sparkline == "▄▄▄▄▄"
    every = store.trend(A, ["rate:*"])
    assert [r.metric for r in every.rows] == ["rate:inpatient_discharge", "rate:outpatient_visit"]
    assert store.trend(A, ["rate:lab_report"]).rows[0].values == (None,) * 5
    for bad in ("outpatient", "rate:", "failures:lab_report"):
        with pytest.raises(HistoryError, match="unknown metric"):
            store.trend(A, [bad])


def test_check_failures_trend_and_persist(store: HistoryStore) -> None:
    check = ("lab_report", "id_card", "id_card_checksum")
    for day, failures in enumerate([0, 4, 2, 3], start=1):
        add(store, syn.entry(A, checks=[(*check, failures)]), day=day)
    (row,) = store.trend(A, ["failures:lab_report.id_card.id_card_checksum"]).rows
    assert row.values == (None, 4, 2, 3)
    assert (row.finding, row.persisted) == ("check:lab_report.id_card.id_card_checksum", 3)
