"""`nj-audit rank`: a published summary table -> the audit's ranking, flags and gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ExitCode
from .app import (
    DebugOption,
    FailOnOption,
    Format,
    FormatOption,
    Lang,
    LangOption,
    OutputOption,
    PolicyOption,
    SortOption,
    chosen_policy,
    emit_report,
    errors_handled,
    refuse_outputs_that_are_inputs,
)


def rank_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="Summary table: CSV (UTF-8 or GB18030) or xlsx, English or Chinese headers."
        ),
    ],
    period_days: Annotated[
        int | None,
        typer.Option(
            help="Days in the table's period (default: its period_days column, else 365).", min=1
        ),
    ] = None,
    policy: PolicyOption = None,
    fail_on: FailOnOption = None,
    output_format: FormatOption = Format.table,
    output: OutputOption = None,
    sort: SortOption = "rows_uploaded",
    lang: LangOption = Lang.en,
    encoding: Annotated[
        str | None, typer.Option(help="Force the CSV encoding (default: detect UTF-8/GB18030).")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Rank and flag the institutions of a published summary table with the audit's policy.

    Columns: 接入单位, 数据上传量, 数据上传天数, 实时数据表单上传情况, 门急诊人次,
    门急诊实时数据符合率, 出院人次, 出院实时数据符合率 (or the English names of `--format csv`);
    other columns are ignored.

    The table is checked against schemas/summary.yaml first. Failures are listed on stderr as
    `validate` lists them; a failing row is still ranked, without its failing values and with the
    flag invalid_row (fail).

    Exit 0 when the gate passes, 1 when it fails, 2 when the table cannot be read.

    Examples:

        nj-audit rank samples/hospitals_2022.csv

        nj-audit rank report.xlsx --sort outpatient_rate --fail-on warn

        nj-audit audit uploads/ --period 2022 --format csv --output audit.csv

        nj-audit rank audit.csv
    """
    from ..rank import rank_table
    from ..render.console import stderr_console
    from ..render.terminal import render_validate_table
    from ..requests import RankRequest

    with errors_handled(debug):
        refuse_outputs_that_are_inputs([output], [path], policy=policy)
        chosen = chosen_policy(policy, fail_on, sort)
        request = RankRequest(path=path, policy=chosen, period_days=period_days, encoding=encoding)
        ranking = rank_table(request)
        if not ranking.table.valid:
            render_validate_table(ranking.table, stderr_console())
        emit_report(ranking.result, output_format, output, sort, lang)
    raise typer.Exit(int(ExitCode.PASSED if ranking.result.passed else ExitCode.FAILED))
