"""The wiring every command shares: the Typer apps, the option types, errors as one line and exit
codes, the progress bar's switch, and where a report goes (stdout or `--output`).

Commands import the library lazily, inside their function, so that `--help` stays quick."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ..errors import AuditError, ExitCode, UsageError

if TYPE_CHECKING:
    from ..policy import Policy
    from ..results import AuditResult

app = typer.Typer(
    help="Audit uploads to a municipal health information platform: validate every row, measure"
    " real-time compliance per institution, rank, flag and gate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals would print patient rows into CI logs
    add_completion=False,
)
schemas_app = typer.Typer(
    help="Read the upload contract: forms, columns, labels and rules.", no_args_is_help=True
)
samples_app = typer.Typer(help="Make realistic sample batches.", no_args_is_help=True)


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


# Options that several commands share
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
FormOption = Annotated[
    str | None, typer.Option(help="The form of every file (default: from each file's name).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
DebugOption = Annotated[bool, typer.Option(help="Show a traceback on errors.")]


def fail(error: AuditError | str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    from ..render.console import print_error

    print_error(str(error))
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


def known_form(form: str | None) -> None:
    from ..forms import FORM_IDS

    if form is not None and form not in FORM_IDS:
        raise UsageError(f"unknown form {form!r}; forms are: {', '.join(FORM_IDS)}")


def chosen_policy(
    policy: Path | None, fail_on: FailOn | None, sort: str, window: str | None = None
) -> Policy:
    """`audit`'s and `rank`'s policy with their options applied, once `--sort` is known good."""
    from ..period import parse_window
    from ..policy import load_policy
    from ..render.text import SORT_KEYS

    chosen = load_policy(policy)
    if window is not None:
        chosen = replace(chosen, window_seconds=parse_window(window))
    if fail_on is not None:
        chosen = replace(chosen, fail_on=fail_on.value)
    if sort not in SORT_KEYS:
        raise UsageError(f"unknown --sort {sort!r}; choose from {', '.join(SORT_KEYS)}")
    return chosen


def emit_report(
    result: AuditResult, output_format: Format, output: Path | None, sort: str, lang: Lang
) -> None:
    """The audit's (or rank's) report in `output_format`, on stdout or in `output`."""
    from ..render import csv as csv_report
    from ..render import json as json_report
    from ..render import junit, markdown
    from ..render.console import print_note, stdout_console, table_text
    from ..render.terminal import render_table
    from ..render.text import verdict_line

    if output_format == Format.table:
        if output is None:
            render_table(result, stdout_console(), sort)
            return
        write_output(table_text(lambda console: render_table(result, console, sort)), output)
        return
    text = {
        Format.json: lambda: json_report.render_json(result),
        Format.csv: lambda: csv_report.render_csv(result, lang.value, sort),
        Format.markdown: lambda: markdown.render_markdown(result, sort),
        Format.junit: lambda: junit.render_junit(result),
    }[output_format]()
    write_output(text, output)
    if output is not None:
        print_note(verdict_line(result), passed=result.passed)
