"""`nj-audit rank`: a published summary table -> the audit's ranking, flags and gate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ExitCode
from .app import (
    AUDIT_EXTENSIONS,
    AllowEmptyOption,
    AscendingOption,
    DebugOption,
    EncodingOption,
    FailOnOption,
    Format,
    FormatOption,
    LangOption,
    OutputOption,
    PolicyOption,
    SortOption,
    chosen_lang,
    chosen_policy,
    errors_handled,
)
from .history import HistoryOption, LabelOption, start_recording
from .loading import load_data_stack
from .outputs import (
    emit_report,
    html_trends,
    output_targets,
    refuse_overwriting,
)


def rank_command(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Summary table: CSV (UTF-8 or GB18030) or xlsx, English or Chinese headers.",
        ),
    ],
    period_days: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Days in the table's period (default: its period_days column, else 365).",
            min=1,
        ),
    ] = None,
    policy: PolicyOption = None,
    fail_on: FailOnOption = None,
    output_format: FormatOption = None,
    output: OutputOption = None,
    sort: SortOption = "rows_uploaded",
    ascending: AscendingOption = False,
    lang: LangOption = None,
    encoding: EncodingOption = None,
    allow_empty: AllowEmptyOption = False,
    show_pii: Annotated[
        bool,
        typer.Option(
            "--show-pii",
            help="Show ID numbers in names, and org_codes that are an ID number or a name,"
            " unmasked.",
        ),
    ] = False,
    history: HistoryOption = None,
    label: LabelOption = None,
    debug: DebugOption = False,
) -> None:
    """Rank and flag the institutions of a published summary table with the audit's policy.

    \b
    Columns: 接入单位, 数据上传量, 数据上传天数, 实时数据表单上传情况,
    门急诊人次, 门急诊实时数据符合率, 出院人次, 出院实时数据符合率
    (or the English names of `--format csv`); other columns are ignored.

    The table is checked against schemas/summary.yaml first. Failures are listed on stderr as
    `validate` lists them; a failing row is still ranked, without its failing values and with the
    flag invalid_row (fail) (docs/contract.md § 8).

    Exit 0 when the gate passes, 1 when it fails (a table without a row fails it too, unless
    --allow-empty), 2 when the table cannot be read.

    Examples:

    \b
      nj-audit rank samples/hospitals_2022.csv
      nj-audit rank report.xlsx --sort outpatient_rate --fail-on warn
      nj-audit audit uploads/ --period 2022 --format csv --output audit.csv
      nj-audit rank audit.csv
      nj-audit rank hospitals_2023.csv --history rank-history.sqlite
    """
    load_data_stack()
    from ..pii import mask_id_numbers
    from ..rank import rank_table
    from ..render.console import stderr_console
    from ..render.json import render_json, to_document
    from ..render.terminal import render_validate_table
    from ..render.text import sort_with
    from ..requests import RankRequest

    with errors_handled(debug, show_pii):
        targets = output_targets(output_format, output, AUDIT_EXTENSIONS, Format)
        refuse_overwriting(targets, [path], policy=policy)
        sort = sort_with(sort, ascending)
        chosen = chosen_policy(policy, fail_on, sort)
        language = chosen_lang(lang, policy)
        recorder = start_recording(history, chosen, "rank", "institution", label)
        request = RankRequest(
            path=path,
            policy=chosen,
            period_days=period_days,
            encoding=encoding,
            allow_empty=allow_empty,
            show_pii=show_pii,
        )
        ranking = rank_table(request)
        if not ranking.table.valid:
            render_validate_table(ranking.table, stderr_console())
        if recorder is not None:
            ranking = replace(ranking, result=recorder.judge(ranking.result, to_document))
        trends = html_trends(recorder, ranking.result, targets)
        location = Path(mask_id_numbers(str(path), show_pii))  # Code Quality's and GitHub's file
        emit_report(ranking.result, targets, sort, language, location, trends)
        if recorder is not None:
            recorder.record(ranking.result, render_json(ranking.result), inputs=[path])
    raise typer.Exit(int(ExitCode.PASSED if ranking.result.passed else ExitCode.FAILED))
