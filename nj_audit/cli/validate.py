"""`nj-audit validate`: options -> a ValidateRequest -> `validate()` -> failures -> exit code."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ExitCode
from .app import (
    AllowEmptyOption,
    DebugOption,
    FormOption,
    MaxBytesOption,
    QuietOption,
    StrictOption,
    ValidateFormat,
    errors_handled,
    known_form,
    parse_size,
    refuse_outputs_that_are_inputs,
    show_progress,
    stdout_errors,
    warn_findings,
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
        bool,
        typer.Option("--show-pii", help="Show id_card, name and ID-number-shaped values unmasked."),
    ] = False,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk.", min=1)] = 1_000_000,
    strict: StrictOption = False,
    allow_empty: AllowEmptyOption = False,
    max_bytes: MaxBytesOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Validate every row against its form's schema and show which rules fail, where.

    Exit 0 when every row is valid, 1 when some are not, some file is unreadable or no data row
    was read at all (unless --allow-empty), 2 when no file can be read (with --strict: any).
    The --failures file is written atomically: an interrupted or failed run leaves the previous
    one as it was.

    Examples:

        nj-audit validate samples/batch

        nj-audit validate export.csv --form outpatient_visit --failures failures.csv

        nj-audit validate samples/bookings_2022.csv --schema schemas/bookings.yaml
    """
    from ..atomic import AtomicText
    from ..render.console import print_note, progress_bar, stdout_console
    from ..render.csv import FailureWriter
    from ..render.json import render_validate_json
    from ..render.terminal import render_validate_table
    from ..render.text import validate_verdict
    from ..requests import ValidateRequest
    from ..validate import run_validate
    from .app import write_output

    with errors_handled(debug, show_pii):
        outputs = refuse_outputs_that_are_inputs([failures], paths, schema=schema)
        known_form(form)
        request = ValidateRequest(
            paths=paths,
            form=form,
            schema_file=schema,
            encoding=encoding,
            show_pii=show_pii,
            chunk_rows=chunk_size,
            allow_empty=allow_empty,
            strict=strict,
            max_bytes=parse_size(max_bytes),
            outputs=outputs,
        )
        json_out = output_format == ValidateFormat.json
        # nothing is created before the first failure is written: a refused run leaves no trace
        sink = AtomicText(failures) if failures is not None else nullcontext()
        with progress_bar(show_progress(quiet, json_out)) as hook, sink as stream:
            writer = FailureWriter(stream) if stream is not None else None
            result = run_validate(request, on_failure=writer, progress=hook)
            if writer is not None:
                writer.finish()
        warn_findings(result)
        if result.empty and json_out:  # say why it failed where CI logs show it
            print_note(validate_verdict(result), passed=result.passed)
        if json_out:
            write_output(render_validate_json(result), None)
        else:
            with stdout_errors():
                render_validate_table(result, stdout_console())
    raise typer.Exit(int(ExitCode.PASSED if result.passed else ExitCode.FAILED))
