"""`nj-audit history trend` and `history compare`: reading across the runs of the history."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ExitCode
from .app import DebugOption, LangOption, PolicyOption, chosen_lang, errors_handled
from .history import (
    CompareFormat,
    HistoryFormat,
    HistoryFormatOption,
    HistoryOption,
    LastOption,
    history_file,
)
from .outputs import write_output


def history_trend(
    institution: Annotated[
        str,
        typer.Argument(metavar="INSTITUTION", help="An org_code, a name, or a unique part of one."),
    ],
    metric: Annotated[
        list[str] | None,
        typer.Option(
            metavar="METRIC",
            help="A metric (repeat or separate with commas): outpatient_rate, rate:lab_report,"
            " rate:* (every form's rate), failures:FORM.COLUMN.CHECK (default: the institution's"
            " metrics).",
        ),
    ] = None,
    last: LastOption = None,
    history: HistoryOption = None,
    output_format: HistoryFormatOption = HistoryFormat.table,
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """An institution's metrics over the runs that show it: per metric the last value, its change
    since the previous run and since the baseline (the accepted run, else the first), min, max,
    a sparkline (▁▂▃▄▅▆▇█, oldest first) and the finding it carries now, with for how many runs
    in a row.

    Examples:

    \b
      nj-audit history trend 江苏省中医院 --history audits.sqlite
      nj-audit history trend 1232010486274892E3 --metric rate:* --last 30
    """
    from ..history import HistoryStore
    from ..render.console import stdout_console
    from ..render.history_terminal import render_trend
    from ..render.history_text import to_json_text, trend_markdown

    with errors_handled(debug):
        language = chosen_lang(lang)
        metrics = [m.strip() for given in metric or [] for m in given.split(",") if m.strip()]
        with HistoryStore.open(history_file(history)) as store:
            trend = store.trend(institution, metrics or None, last)
        if output_format == HistoryFormat.table:
            render_trend(trend, stdout_console(), language)
        elif output_format == HistoryFormat.json:
            write_output(to_json_text(trend.to_json(language)), None)
        else:
            write_output(trend_markdown(trend, language), None)


def history_compare(
    run_a: Annotated[
        str | None,
        typer.Argument(metavar="RUN_A", help="The base run (default: the one before RUN_B)."),
    ] = None,
    run_b: Annotated[
        str | None, typer.Argument(metavar="RUN_B", help="The head run (default: latest).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Compare runs that are not comparable (warns).")
    ] = False,
    top: Annotated[
        int, typer.Option(metavar="N", help="How many of the largest changes.", min=0)
    ] = 20,
    policy: PolicyOption = None,
    history: HistoryOption = None,
    output_format: Annotated[
        CompareFormat, typer.Option("--format", help="table, json, markdown or junit.")
    ] = CompareFormat.table,
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """Two runs side by side: findings new, resolved and persisting (worse, same or better),
    regressions (the policy's [regressions] rules, else: a ratio down more than 5 points, a form
    lost, rows halved), institutions that appeared or disappeared, the largest changes.

    With no run, the latest against the comparable run before it; with one, that run against the
    latest. Runs of another command, scope, window, schemas or policy are refused unless --force.

    Exit 0 when nothing got worse, 1 when there is a new finding, a regression or a persisting
    finding of higher severity, 2 when the runs are missing or not comparable.

    Examples:

    \b
      nj-audit history compare --history audits.sqlite
      nj-audit history compare 41 latest --format json
      nj-audit history compare accepted --format junit > history.xml
    """
    from ..history import HistoryStore, RegressionRules
    from ..policy import load_policy
    from ..render.console import print_note, stdout_console
    from ..render.history_terminal import render_comparison
    from ..render.history_text import compare_junit, compare_markdown, got_worse, to_json_text

    with errors_handled(debug):
        language = chosen_lang(lang, policy)
        rules = load_policy(policy).regressions or RegressionRules.default()
        with HistoryStore.open(history_file(history, policy)) as store:
            base = store.resolve(run_a) if run_a is not None else None
            head = store.resolve(run_b) if run_b is not None else None
            if base is not None and head is None:
                head = store.latest()
            comparison = store.compare(base, head, force=force, rules=rules, top=top)
        for warning in comparison.warnings:
            print_note(f"warning: {warning} (compared with --force)")
        if output_format == CompareFormat.table:
            render_comparison(comparison, stdout_console(), language)
        else:
            text = {
                CompareFormat.json: lambda: to_json_text(comparison.to_json(language)),
                CompareFormat.markdown: lambda: compare_markdown(comparison, language),
                CompareFormat.junit: lambda: compare_junit(comparison),
            }[output_format]()
            write_output(text, None)
    raise typer.Exit(int(ExitCode.FAILED if got_worse(comparison) else ExitCode.PASSED))
