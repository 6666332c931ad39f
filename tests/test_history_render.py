"""The history's outputs against golden files: runs, a trend, a comparison, in the terminal,
Markdown and JUnit, from a small hand-made history (a name full of markup and control characters
included: it must come out as text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from nj_audit.history import Comparison, HistoryStore, Trend
from nj_audit.history import synthetic as syn
from nj_audit.history.model import RunInfo
from nj_audit.render.console import table_text
from nj_audit.render.history_terminal import render_comparison, render_runs, render_trend
from nj_audit.render.history_text import (
    compare_junit,
    compare_markdown,
    fitted,
    list_markdown,
    md,
    plain,
    trend_markdown,
)

from builders import check_golden

CODE_A, CODE_B = "12320100466000001X", "12320100466000002F"
HOSTILE = "[bold]红[/bold]医院|*x*\x1b[31m"  # rich markup, Markdown, a terminal escape


Flags = list[tuple[str, str]]
NIGHTS: list[tuple[float, Flags, float, float, Flags]] = [  # A's rate and flags, B's
    (0.98, [], 0.5, 1.0, [("outpatient_rate", "fail")]),
    (0.95, [], 0.85, 0.9, [("outpatient_rate", "warn"), ("upload_days", "warn")]),
    (0.7, [("outpatient_rate", "warn")], 0.95, 0.7, [("upload_days", "fail")]),
]


def night(run: int) -> dict[str, Any]:
    a_rate, a_flags, b_rate, b_days, b_flags = NIGHTS[run]
    entries = [
        syn.entry(CODE_A, "甲医院", outpatient_rate=a_rate, flags=a_flags),
        syn.entry(CODE_B, HOSTILE, "秦淮区", outpatient_rate=b_rate, upload_day_ratio=b_days,
                  flags=b_flags),
    ]  # fmt: skip
    document = syn.document(*entries)
    day = f"2023-03-{28 + run:02d}"
    document["period"] = {"start": day, "end": day, "days": 1}
    return document


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[RunInfo], Trend, Comparison]:
    path: Path = tmp_path_factory.mktemp("history") / "history.sqlite"
    with HistoryStore.open(path) as store:
        runs = [
            store.append(
                syn.render(night(n)),
                started_at=f"2023-03-{29 + n:02d}T02:00:00Z",
                exit_code=0 if n == 1 else 1,  # as the documents say: run 2 passed
                label="nightly" if n < 2 else None,
            )
            for n in range(len(NIGHTS))
        ]
        store.accept(runs[0])
        runs = store.runs()
        return runs, store.trend("甲医院"), store.compare()


def test_runs(made: tuple[list[RunInfo], Trend, Comparison]) -> None:
    runs = made[0]
    check_golden("history_list.txt", table_text(lambda c: render_runs(runs, c), width=100))
    check_golden("history_list.md", list_markdown(runs))


def test_trend(made: tuple[list[RunInfo], Trend, Comparison]) -> None:
    trend = made[1]
    check_golden("history_trend.txt", table_text(lambda c: render_trend(trend, c), width=100))
    check_golden("history_trend_zh.md", trend_markdown(trend, "zh"))


def test_compare(made: tuple[list[RunInfo], Trend, Comparison]) -> None:
    comparison = made[2]
    text = table_text(lambda c: render_comparison(comparison, c), width=120)
    check_golden("history_compare.txt", text)
    assert "[bold]红[/bold]医院|*x*\\x1b[31m" in text  # markup shown, the escape made visible
    markdown = compare_markdown(comparison)
    check_golden("history_compare.md", markdown)
    assert "\\[bold\\]红\\[/bold\\]医院\\|\\*x\\*\\\\x1b\\[31m" in markdown
    junit = compare_junit(comparison)
    check_golden("history_compare.xml", junit)
    ElementTree.fromstring(junit)  # well-formed, the escape character included


def test_data_never_becomes_markup() -> None:
    assert plain("a\x1b[2Jb\nc\u2028") == "a\\x1b[2Jb\\x0ac\\x2028"
    assert md("*a*_b_[c](d)<e>|f`g`") == "\\*a\\*\\_b\\_\\[c\\](d)\\<e\\>\\|f\\`g\\`"


def test_a_long_series_fits_its_sparkline_cell() -> None:
    values: list[float | None] = [float(n) for n in range(365)]
    short = fitted(values)
    assert len(short) == 40 and short[0] == sum(range(9)) / 9
    assert short[-1] == sum(range(355, 365)) / 10  # the newest bucket
    assert fitted([1.0, None, 3.0]) == [1.0, None, 3.0]
    assert fitted([None] * 80) == [None] * 40
