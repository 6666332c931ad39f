"""`nj-audit validate`: options -> a ValidateRequest -> `validate()` -> failures -> exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ExitCode
from .app import (
    VALIDATE_EXTENSIONS,
    AllowEmptyOption,
    DebugOption,
    EncodingOption,
    FormOption,
    LangOption,
    MaxBytesOption,
    OutputOption,
    QuietOption,
    StrictOption,
    ValidateFormat,
    chosen_lang,
    errors_handled,
    known_form,
    parse_size,
    show_progress,
    stdout_errors,
    warn_findings,
)
from .loading import load_data_stack
from .outputs import (
    Target,
    append_step_summary,
    ci_root,
    full_report,
    output_targets,
    refuse_overwriting,
    write_output,
)

if TYPE_CHECKING:
    from ..results import ValidateResult
    from ..validate import FailureRecord, FailureSink


def validate_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...", help="Files or folders (searched for *.csv, *.csv.gz, *.parquet)."
        ),
    ],
    form: FormOption = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE|NAME",
            help="Validate against this pandera YAML schema instead, or a bundled table's:"
            " bookings, summary, online_bookings, hotline.",
        ),
    ] = None,
    failures: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write every failure to this CSV file (as -o csv:FILE)."),
    ] = None,
    output_format: Annotated[
        ValidateFormat | None,
        typer.Option(
            "--format",
            help="What goes to stdout: table (the default, unless --output is given), json, csv"
            " (every failure), github (annotations) or codequality (GitLab).",
        ),
    ] = None,
    output: OutputOption = None,
    encoding: EncodingOption = None,
    show_pii: Annotated[
        bool,
        typer.Option("--show-pii", help="Show id_card, name and ID-number-shaped values unmasked."),
    ] = False,
    chunk_size: Annotated[
        int, typer.Option(metavar="N", help="Rows per chunk.", min=1)
    ] = 1_000_000,
    strict: StrictOption = False,
    allow_empty: AllowEmptyOption = False,
    max_bytes: MaxBytesOption = None,
    quiet: QuietOption = False,
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """Validate every row against its form's schema (docs/contract.md § 3) and show which rules
    fail, where.

    `--output` takes .txt (the table), .json, .csv (every failure: file, line, form, column,
    check, value) or FORMAT:FILE (github:annotations.txt, codequality:cq.json); files are read
    once for all of them.

    Exit 0 when every row is valid, 1 when some are not, some file is unreadable or no data row
    was read at all (unless --allow-empty), 2 when no file can be read (with --strict: any).
    The --failures file is written atomically: an interrupted or failed run leaves the previous
    one as it was.

    Examples:

    \b
      nj-audit validate samples/batch
      nj-audit validate export.csv --form outpatient_visit --failures failures.csv
      nj-audit validate uploads/ --format github -o codequality:cq.json
      nj-audit validate samples/bookings_2022.csv --schema bookings
      nj-audit validate samples/hotline_2022.csv --schema hotline
    """
    load_data_stack()
    from ..render.console import print_note, progress_bar
    from ..render.text import validate_verdict
    from ..requests import ValidateRequest
    from ..schemas import named_schema
    from ..validate import run_validate

    with errors_handled(debug, show_pii):
        language = chosen_lang(lang)
        form = known_form(form)
        schema = named_schema(schema) if schema is not None else None
        beside = [f"csv:{failures}"] if failures is not None else []
        targets = output_targets(output_format, output, VALIDATE_EXTENSIONS, ValidateFormat, beside)
        outputs = refuse_overwriting(targets, paths, schema=schema)
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
        json_out = any(t.format == "json" and t.path is None for t in targets)
        with progress_bar(show_progress(quiet, json_out)) as hook, failure_sinks(targets) as sink:
            result = run_validate(request, on_failure=sink, progress=hook)
        warn_findings(result)
        emit_validate(result, targets, language)
        # every report on a file, or nothing read: the verdict on stderr, where CI logs show it
        if all(t.path is not None for t in targets) or (result.empty and json_out):
            print_note(validate_verdict(result, language), passed=result.passed)
    raise typer.Exit(int(ExitCode.PASSED if result.passed else ExitCode.FAILED))


@contextmanager
def failure_sinks(targets: list[Target]) -> Iterator[FailureSink | None]:
    """The failures CSV targets, written as the failures are found (memory does not grow with
    their number): one writer per file (or stdout), all fed each failure. Files are written
    atomically and only created at the first line: an interrupted or refused run leaves the
    previous file as it was."""
    from ..atomic import AtomicText
    from ..render.csv import FailureWriter

    with ExitStack() as stack:
        writers = []
        for target in targets:
            if target.format != "csv":
                continue
            stream = (
                sys.stdout if target.path is None else stack.enter_context(AtomicText(target.path))
            )
            writers.append(FailureWriter(stream))

        def every(record: FailureRecord) -> None:
            for writer in writers:
                writer(record)

        yield (writers[0] if len(writers) == 1 else every) if writers else None
        for writer in writers:  # a header, at least, in every failures file
            with stdout_errors():
                writer.finish()


def emit_validate(result: ValidateResult, targets: list[Target], lang: str = "en") -> None:
    """Every target but the failures CSV (already written), from the one result."""
    from ..render.codequality import render_validate_codequality
    from ..render.console import stdout_console, table_text
    from ..render.github import render_validate_github
    from ..render.json import render_validate_json
    from ..render.markdown import render_validate_markdown
    from ..render.terminal import render_validate_table

    report = full_report(targets)
    renderers = {
        "table": lambda: table_text(lambda console: render_validate_table(result, console, lang)),
        "json": lambda: render_validate_json(result, lang),
        "github": lambda: render_validate_github(result, report, ci_root()),
        "codequality": lambda: render_validate_codequality(result, ci_root()),
    }
    for target in targets:
        if target.format == "csv":
            continue
        if target.format == "table" and target.path is None:
            with stdout_errors():
                render_validate_table(result, stdout_console(), lang)
        else:
            write_output(renderers[target.format](), target.path)
    if any(t.format == "github" for t in targets):
        append_step_summary(render_validate_markdown(result, lang), report)
