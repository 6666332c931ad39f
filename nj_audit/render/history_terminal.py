"""The history's terminal tables: runs, an institution's trend, a comparison of two runs. Every
cell is a rich Text (never markup) of `history_text.plain` (never a control sequence)."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..history import Comparison, RunInfo, Trend
from .history_text import (
    LIST_HEADERS,
    TREND_HEADERS,
    compare_sections,
    compare_summary,
    got_worse,
    label,
    list_rows,
    plain,
    trend_rows,
    trend_title,
)

RIGHT = {"rows", "last", "change_previous", "change_baseline", "min", "max", "value", "before"}
RIGHT |= {"after", "change", "run"}
FOLD = {"label", "institution", "finding"}  # the others are short: never broken
SEVERITY_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], lang: str) -> Table:
    table = Table(
        title=Text(plain(title)),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    for key in headers:
        table.add_column(
            label(key, lang),
            justify="right" if key in RIGHT else "left",
            overflow="fold",
            no_wrap=key not in FOLD,
            min_width=8 if key in FOLD else None,
        )
    for row in rows:
        table.add_row(*(Text(plain(cell), style=SEVERITY_STYLE.get(cell, "")) for cell in row))
    return table


def render_runs(runs: Sequence[RunInfo], console: Console, lang: str = "en") -> None:
    if not runs:
        console.print(Text("the history holds no runs (that match)"))
        return
    title = f"History: {len(runs)} runs (* the accepted baseline)"
    console.print(_table(title, LIST_HEADERS, list_rows(runs), lang))


def render_trend(trend: Trend, console: Console, lang: str = "en") -> None:
    console.print(_table(trend_title(trend), TREND_HEADERS, trend_rows(trend), lang))


def render_comparison(comparison: Comparison, console: Console, lang: str = "en") -> None:
    for warning in comparison.warnings:
        console.print(Text(f"warning: {plain(warning)}", style="yellow"))
    for key, headers, rows in compare_sections(comparison):
        if rows:
            console.print(_table(f"{label(key, lang)} ({len(rows)})", headers, rows, lang))
    worse = got_worse(comparison)
    console.print(Text(plain(compare_summary(comparison)), style="bold red" if worse else "green"))
