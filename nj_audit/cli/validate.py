"""`nj-audit validate`: options -> a ValidateRequest -> `validate()` -> failures -> exit code."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ExitCode
from .app import (
    DebugOption,
    FormOption,
    QuietOption,
    ValidateFormat,
    errors_handled,
    known_form,
    refuse_overwriting_inputs,
    show_progress,
)


def validate_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or folders (searched for *.csv, *.csv.gz, *.parquet)."),
    ],
    form: FormOption = None,
    schema: Annotated[
        Path | None, typer.Option(help="Validate against this pandera YAML schema instead.")
    ] = None,
    failures: Annotated[
        Path | None, typer.Option(help="Write every failure to this CSV file.")
    ] = None,
    output_format: Annotated[
        ValidateFormat, typer.Option("--format", help="table or json.")
    ] = ValidateFormat.table,
    encoding: Annotated[
        str | None, typer.Option(help="Force the CSV encoding (default: detect UTF-8/GB18030).")
    ] = None,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Show id_card and name values unmasked.")
    ] = False,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk.", min=1)] = 1_000_000,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Validate every row against its form's schema and show which rules fail, where.

    Exit 0 when every row is valid, 1 when some are not, 2 when the files cannot be read.

    Examples:

        nj-audit validate samples/batch

        nj-audit validate export.csv --form outpatient_visit --failures failures.csv

        nj-audit validate samples/bookings_2022.csv --schema schemas/bookings.yaml
    """
    import sys

    from ..render.console import progress_bar, stdout_console
    from ..render.csv import FailureWriter
    from ..render.json import render_validate_json
    from ..render.terminal import render_validate_table
    from ..requests import ValidateRequest
    from ..validate import run_validate

    with errors_handled(debug):
        known_form(form)
        if failures is not None:
            refuse_overwriting_inputs(failures, [*paths, *([schema] if schema else [])])
        request = ValidateRequest(
            paths=paths,
            form=form,
            schema_file=schema,
            encoding=encoding,
            show_pii=show_pii,
            chunk_rows=chunk_size,
        )
        json_out = output_format == ValidateFormat.json
        sink = (
            open(failures, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by `with`
            if failures is not None
            else nullcontext()
        )
        with progress_bar(show_progress(quiet, json_out)) as hook, sink as stream:
            writer = FailureWriter(stream) if stream is not None else None
            result = run_validate(request, on_failure=writer, progress=hook)
        if json_out:
            sys.stdout.write(render_validate_json(result))
        else:
            render_validate_table(result, stdout_console())
    raise typer.Exit(int(ExitCode.PASSED if result.valid else ExitCode.FAILED))
