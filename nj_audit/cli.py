"""The `nj-audit` command line: options -> one library call -> render -> exit code."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from .errors import AuditError, ExitCode, UsageError

if TYPE_CHECKING:
    from .policy import Policy

app = typer.Typer(
    help="Audit uploads to a municipal health information platform: validate every row, measure real-time "
    "compliance per institution, rank, flag and gate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals would print patient rows into CI logs
    add_completion=False,
)
schemas_app = typer.Typer(
    help="Read the upload contract: forms, columns, labels and rules.", no_args_is_help=True
)
samples_app = typer.Typer(help="Make realistic sample batches.", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(samples_app, name="samples")

stderr = Console(stderr=True, highlight=False)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    junit = "junit"


class ValidateFormat(str, Enum):
    table = "table"
    json = "json"


class FailOn(str, Enum):
    fail = "fail"
    warn = "warn"
    never = "never"


class By(str, Enum):
    institution = "institution"
    district = "district"


class Lang(str, Enum):
    en = "en"
    zh = "zh"


# Options that `audit` and `rank` share
PolicyOption = Annotated[
    Path | None, typer.Option(help="Policy TOML (default: \\[tool.nj-audit] in ./pyproject.toml).")
]
FailOnOption = Annotated[
    FailOn | None, typer.Option(help="What fails the gate: fail, warn or never.")
]
FormatOption = Annotated[
    Format, typer.Option("--format", help="table, json, csv, markdown or junit.")
]
OutputOption = Annotated[Path | None, typer.Option(help="Write the report here instead of stdout.")]
SortOption = Annotated[
    str, typer.Option(help="Rank by this metric (rows_uploaded, outpatient_rate, ...).")
]
LangOption = Annotated[Lang, typer.Option(help="CSV headers in English or Chinese.")]
DebugOption = Annotated[bool, typer.Option(help="Show a traceback on errors.")]


def fail(error: AuditError | str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    stderr.print(
        f"[bold red]error:[/] {escape(str(error))}", markup=True, soft_wrap=True, highlight=False
    )
    raise typer.Exit(int(code))


@contextmanager
def errors_handled(debug: bool) -> Iterator[None]:
    """One red line on stderr and exit 2 for anything that stops the run; never a traceback
    (unless --debug, and even then without local variables)."""
    try:
        yield
    except typer.Exit:
        raise
    except AuditError as exc:
        if debug:
            traceback.print_exc()
        fail(exc)
    except BrokenPipeError:  # whoever read stdout stopped reading (`| head`): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        fail("interrupted")
    except MemoryError:
        fail("out of memory: lower --chunk-size")
    except Exception as exc:  # the last line of defence: no traceback in CI logs
        if debug:
            traceback.print_exc()
        fail(f"internal error ({type(exc).__name__}); rerun with --debug and report it")


def show_progress(quiet: bool, json_on_stdout: bool) -> bool:
    return not quiet and not json_on_stdout and sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int, int], None] | None]:
    """Rows judged and MB read on stderr, with rate and time left; the hook the library calls."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.fields[rows]:>12,} rows"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task("audit", total=None, rows=0)
        rows_done = 0

        def advance(rows: int, done: int, total: int) -> None:
            nonlocal rows_done
            rows_done += rows
            progress.update(task, completed=done, total=total, rows=rows_done)

        yield advance


def write_output(text: str, output: Path | None) -> None:
    """The report on stdout, or in `output` (its callers have refused to overwrite an input)."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write output: {exc.strerror or exc}", output) from None


def refuse_overwriting_inputs(output: Path, inputs: list[Path]) -> None:
    target = output.resolve()
    for path in inputs:
        source = path.resolve()
        if target == source or (source.is_dir() and source in target.parents and target.exists()):
            raise UsageError("refusing to overwrite an input file", output)


# -- validate ---------------------------------------------------------------------------------


@app.command()
def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or folders (searched for *.csv, *.csv.gz, *.parquet)."),
    ],
    form: Annotated[
        str | None, typer.Option(help="The form of every file (default: from each file's name).")
    ] = None,
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DebugOption = False,
) -> None:
    """Validate every row against its form's schema and show which rules fail, where.

    Exit 0 when every row is valid, 1 when some are not, 2 when the files cannot be read.

    Examples:

        nj-audit validate samples/batch

        nj-audit validate export.csv --form outpatient_visit --failures failures.csv

        nj-audit validate samples/bookings_2022.csv --schema schemas/bookings.yaml
    """
    from . import report
    from .validate import run_validate

    with errors_handled(debug):
        if form is not None:
            _known_form(form)
        if failures is not None:
            refuse_overwriting_inputs(failures, [*paths, *([schema] if schema else [])])
        json_out = output_format == ValidateFormat.json
        sink = (
            open(failures, "w", encoding="utf-8", newline="")
            if failures is not None
            else nullcontext()
        )  # noqa: SIM115
        with progress_bar(show_progress(quiet, json_out)) as hook, sink as failures_out:
            result = run_validate(
                paths,
                form=form,
                schema_file=schema,
                encoding=encoding,
                show_pii=show_pii,
                failures_out=failures_out,
                chunk_rows=chunk_size,
                progress=hook,
            )
        if json_out:
            import json

            sys.stdout.write(
                json.dumps(report.validate_document(result), ensure_ascii=False, indent=2) + "\n"
            )
        else:
            report.render_validate_table(result, Console(highlight=False))
    raise typer.Exit(int(ExitCode.PASSED if result.valid else ExitCode.FAILED))


def _known_form(form: str) -> None:
    from .forms import FORM_IDS

    if form not in FORM_IDS:
        raise UsageError(f"unknown form {form!r}; forms are: {', '.join(FORM_IDS)}")


# -- audit ------------------------------------------------------------------------------------


@app.command()
def audit(
    paths: Annotated[list[Path], typer.Argument(help="Upload files or folders.")],
    period: Annotated[
        str | None, typer.Option(help="2022, 2022-03 or 2022-01-01:2022-06-30 (upload dates).")
    ] = None,
    window: Annotated[
        str | None, typer.Option(help="Real-time window: 24h, 90m, 1d, 3600s (default 24h).")
    ] = None,
    registry: Annotated[Path | None, typer.Option(help="CSV of org_code, name, district.")] = None,
    by: Annotated[By, typer.Option(help="Rows per institution or per district.")] = By.institution,
    policy: PolicyOption = None,
    fail_on: FailOnOption = None,
    output_format: FormatOption = Format.table,
    output: OutputOption = None,
    sort: SortOption = "rows_uploaded",
    lang: LangOption = Lang.en,
    form: Annotated[
        str | None, typer.Option(help="The form of every file (default: from each file's name).")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Force the CSV encoding.")] = None,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Allow id_card and name values in output.")
    ] = False,
    chunk_size: Annotated[
        int, typer.Option(help="Rows per chunk (memory is bounded by it).", min=1)
    ] = 1_000_000,
    engine: Annotated[str, typer.Option(help="pandas (default) or dask.")] = "pandas",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a local cluster).")
    ] = None,
    partitions: Annotated[int | None, typer.Option(help="Dask partitions per file.", min=1)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DebugOption = False,
) -> None:
    """Per-institution real-time compliance, form coverage and upload days, ranked, flagged and gated.

    Exit 0 when the gate passes, 1 when it fails, 2 when the audit cannot run.

    Examples:

        nj-audit audit samples/batch --registry samples/registry.csv

        nj-audit audit uploads/ --period 2022 --format json --output audit.json

        nj-audit audit uploads/ --by district --format markdown --fail-on warn
    """

    from .audit import run_audit
    from .registry import load_registry
    from .values import parse_period

    with errors_handled(debug):
        chosen = chosen_policy(policy, fail_on, sort, window)
        if form is not None:
            _known_form(form)
        chosen_period = parse_period(period) if period else None
        loaded_registry = load_registry(registry) if registry else None
        if by == By.district and loaded_registry is None:
            raise UsageError("--by district needs --registry")
        inputs = [*paths, *(p for p in (registry, policy) if p)]
        if output is not None:
            refuse_overwriting_inputs(output, inputs)
        json_out = output_format == Format.json and output is None
        common = dict(
            policy=chosen,
            form=form,
            period=chosen_period,
            registry=loaded_registry,
            by=by.value,
            encoding=encoding,
            chunk_rows=chunk_size,
        )
        if engine == "dask":
            from .engines.dask_engine import run_audit_dask

            result = run_audit_dask(paths, **common, scheduler=scheduler, partitions=partitions)  # type: ignore[arg-type]
        elif engine == "pandas":
            with progress_bar(show_progress(quiet, json_out)) as hook:
                result = run_audit(paths, **common, progress=hook)  # type: ignore[arg-type]
        else:
            raise UsageError(f"unknown --engine {engine!r}: pandas or dask")
        render_audit(result, output_format, output, sort, lang)
    raise typer.Exit(int(ExitCode.PASSED if result.passed else ExitCode.FAILED))


def chosen_policy(
    policy: Path | None, fail_on: FailOn | None, sort: str, window: str | None = None
) -> Policy:
    """`audit`'s and `rank`'s policy with their options applied, once `--sort` is known good."""
    from . import report
    from .policy import load_policy
    from .values import parse_window

    chosen = load_policy(policy)
    if window is not None:
        chosen = replace(chosen, window_seconds=parse_window(window))
    if fail_on is not None:
        chosen = replace(chosen, fail_on=fail_on.value)
    if sort not in report.SORT_KEYS:
        raise UsageError(f"unknown --sort {sort!r}; choose from {', '.join(report.SORT_KEYS)}")
    return chosen


def render_audit(result, output_format: Format, output: Path | None, sort: str, lang: Lang) -> None:  # type: ignore[no-untyped-def]
    """Shared by `audit` and `rank`."""
    from . import report

    if output_format == Format.table:
        if output is None:
            report.render_table(result, Console(highlight=False), sort)
            return
        console = Console(record=True, width=160, file=open(os.devnull, "w"), highlight=False)  # noqa: SIM115
        report.render_table(result, console, sort)
        write_output(console.export_text(), output)
        return
    text = {
        Format.json: lambda: report.render_json(result),
        Format.csv: lambda: report.render_csv(result, lang.value, sort),
        Format.markdown: lambda: report.render_markdown(result, sort),
        Format.junit: lambda: report.render_junit(result),
    }[output_format]()
    write_output(text, output)
    if output is not None:
        stderr.print(report.verdict_line(result), style="green" if result.passed else "bold red")


# -- schemas ----------------------------------------------------------------------------------


@schemas_app.command("list")
def schemas_list() -> None:
    """The 14 forms: id, Chinese name, real-time or archive, number of columns.

    Example:

        nj-audit schemas list
    """
    from rich.table import Table

    from .forms import FORMS
    from .schemas import load_schema

    table = Table(title="Forms (SPEC section 3)", title_justify="left")
    for header in ("form", "名称", "kind", "columns", "rules"):
        table.add_column(header)
    for form in FORMS:
        spec = load_schema(form.id)
        rules = sum(len(c.checks) for c in spec.schema.columns.values()) + len(spec.schema.checks)
        table.add_row(
            form.id,
            form.label,
            "real-time" if form.realtime else "archive",
            str(len(spec.columns)),
            str(rules),
        )
    Console(highlight=False).print(table)


@schemas_app.command("show")
def schemas_show(
    form: Annotated[str, typer.Argument(help="A form id, e.g. outpatient_visit.")],
    debug: DebugOption = False,
) -> None:
    """One form's columns, labels and rules, as the schema file states them.

    Example:

        nj-audit schemas show outpatient_visit
    """
    from rich.table import Table

    from .schemas import load_schema, schema_path
    from .validation import check_message

    with errors_handled(debug):
        _known_form(form)
        spec = load_schema(form)
    table = Table(
        title=f"{form} ({spec.schema.title}) - {schema_path(form).name}", title_justify="left"
    )
    for header in ("column", "中文", "description", "type", "required", "rules"):
        table.add_column(header, overflow="fold")
    for column in spec.columns:
        rules = [check_message(c) for c in spec.schema.columns[column.name].checks]
        table.add_row(
            column.name,
            column.label,
            column.description + (" (PII)" if column.pii else ""),
            column.kind,
            "yes" if column.required else "optional",
            "\n".join(rules),
        )
    console = Console(highlight=False)
    console.print(table)
    console.print("Cross-field rules:")
    for check in spec.schema.checks:
        console.print(f"  - {check_message(check)}")


# -- samples ----------------------------------------------------------------------------------


@samples_app.command("generate")
def samples_generate(
    outdir: Annotated[Path, typer.Argument(help="Folder to write the batch into.")],
    institutions: Annotated[int, typer.Option(help="Number of institutions.", min=1)] = 12,
    rows: Annotated[int, typer.Option(help="Rows in all (about).", min=1)] = 20_000,
    period: Annotated[
        str, typer.Option(help="Period of the events: 2022, 2022-03, ...")
    ] = "2022-03",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same batch).")] = 0,
    realtime_share: Annotated[
        float | None, typer.Option(help="Share of real-time uploads for every institution.")
    ] = None,
    correction_share: Annotated[
        float, typer.Option(help="Share of records uploaded twice.")
    ] = 0.02,
    invalid_share: Annotated[float, typer.Option(help="Share of rows with one defect.")] = 0.01,
    missed_day_share: Annotated[
        float | None, typer.Option(help="Share of days without upload.")
    ] = None,
    missing_form_share: Annotated[
        float | None, typer.Option(help="Share of real-time forms not uploaded.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Write a realistic batch of all 14 forms and a registry, calibrated on the 2022 Nanjing table.

    Example:

        nj-audit samples generate /tmp/batch --institutions 20 --rows 100000 --realtime-share 0.8
    """
    from .generate import generate_batch
    from .values import parse_period

    with errors_handled(debug):
        batch = generate_batch(
            outdir,
            institutions=institutions,
            rows=rows,
            period=parse_period(period),
            seed=seed,
            realtime_share=realtime_share,
            correction_share=correction_share,
            invalid_share=invalid_share,
            missed_day_share=missed_day_share,
            missing_form_share=missing_form_share,
        )
    stderr.print(f"wrote {len(batch.files)} files, {batch.rows} rows, registry {batch.registry}")


from . import cli_rank  # noqa: E402,F401 - registers the rank command
