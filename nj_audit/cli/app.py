"""The wiring every command shares: the Typer apps, the option types, errors as one line and exit
codes, the progress bar's switch, and where a report goes (stdout or `--output`).

Commands import the library lazily, inside their function, so that `--help` stays quick."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ..errors import AuditError, ExitCode, UsageError
from .helptext import SAMPLES_HELP, SCHEMAS_HELP, TOP_HELP, readable_help

if TYPE_CHECKING:
    from ..policy import Policy
    from ..results import AuditResult

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals would print patient rows into CI logs
)
schemas_app = typer.Typer(help=SCHEMAS_HELP, no_args_is_help=True)
samples_app = typer.Typer(help=SAMPLES_HELP, no_args_is_help=True)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"nj-audit {__version__}\n")
        raise typer.Exit()


@app.callback(help=TOP_HELP)
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


readable_help()


class Format(str, Enum):
    """What `audit` and `rank` write: to stdout (`--format`) or to files (`--output`)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    junit = "junit"
    github = "github"
    codequality = "codequality"


class ValidateFormat(str, Enum):
    """What `validate` writes; `csv` is the failures file (one line per failing value)."""

    table = "table"
    json = "json"
    csv = "csv"
    github = "github"
    codequality = "codequality"


# An --output file's format from its name; github and codequality need a prefix (`github:FILE`)
AUDIT_EXTENSIONS = {".txt": "table", ".json": "json", ".csv": "csv", ".md": "markdown",
                    ".xml": "junit"}  # fmt: skip
VALIDATE_EXTENSIONS = {".txt": "table", ".json": "json", ".csv": "csv"}


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
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Policy TOML (default: \\[tool.nj-audit] in the nearest pyproject.toml; contract"
        " § 5.3).",
    ),
]
FailOnOption = Annotated[
    FailOn | None, typer.Option(help="What fails the gate: fail, warn or never.")
]
FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="What goes to stdout: table, json, csv, markdown, junit, github (annotations) or"
        " codequality (GitLab).",
    ),
]
OutputOption = Annotated[
    list[str] | None,
    typer.Option(
        "--output",
        "-o",
        metavar="[FORMAT:]FILE",
        help="Also write a report to FILE, in the format its name says (.json, .csv, .md,"
        " .xml = JUnit, .txt = table) or FORMAT: says (junit:audit.xml, codequality:cq.json)."
        " Repeat for several; the audit runs once.",
    ),
]
SortOption = Annotated[
    str,
    typer.Option(
        metavar="METRIC", help="Rank by this metric (rows_uploaded, outpatient_rate, ...)."
    ),
]
LangOption = Annotated[Lang, typer.Option(help="CSV headers in English or Chinese.")]
FormOption = Annotated[
    str | None,
    typer.Option(metavar="FORM", help="The form of every file (default: from each file's name)."),
]
EncodingOption = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Force the CSV encoding (default: detect UTF-8/GB18030)."),
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


@dataclass(frozen=True)
class Target:
    """One report of a run: its format, and its file (None: stdout)."""

    format: str
    path: Path | None


def output_targets(
    stdout_format: str, outputs: list[str] | None, extensions: dict[str, str], formats: type[Enum]
) -> list[Target]:
    """The files of the `--output` options, then stdout in `--format`.

    A file's format is its `FORMAT:` prefix, else its extension's, else (a name no extension
    tells, as `audit.out`) `--format`'s, as 0.1.0 wrote every `--output`. Stdout is left out
    when a file already gets `--format`'s format: `--format json --output audit.json` writes
    the file only, as it always did."""
    names = [f.value for f in formats]
    files: list[Target] = []
    for spec in outputs or []:
        prefix, colon, rest = spec.partition(":")
        if colon and rest and prefix.lower() in names:
            target = Target(prefix.lower(), Path(rest))
        else:
            ext = next((e for e in extensions if spec.lower().endswith(e)), None)
            target = Target(extensions[ext] if ext else stdout_format, Path(spec))
        assert target.path is not None
        if any(t.path is not None and t.path.resolve() == target.path.resolve() for t in files):
            raise UsageError("two --output options name the same file", target.path)
        files.append(target)
    if any(t.format == stdout_format for t in files):
        return files
    return [*files, Target(stdout_format, None)]


def refuse_overwriting(targets: list[Target], inputs: list[Path]) -> None:
    for target in targets:
        if target.path is not None:
            refuse_overwriting_inputs(target.path, inputs)


def full_report(targets: list[Target]) -> str | None:
    """What the annotations' closing notice names as the whole report: the first file written
    in another format, else the job summary when there is one."""
    written = [t for t in targets if t.path is not None and t.format != "github"]
    if written:
        return str(written[0].path)
    return "the job summary" if os.environ.get("GITHUB_STEP_SUMMARY") else None


def ci_root() -> Path:
    """The repository's folder, to which annotation and Code Quality paths are relative."""
    root = os.environ.get("GITHUB_WORKSPACE") or os.environ.get("CI_PROJECT_DIR")
    return Path(root) if root else Path.cwd()


SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary over 1 MiB ("up to ... 1024k")


def append_step_summary(markdown: str, report: str | None) -> None:
    """With `--format github` under GitHub Actions: the Markdown summary appended to
    $GITHUB_STEP_SUMMARY, cut so that the step's summary stays under GitHub's limit."""
    from ..render.console import print_note
    from ..render.markdown import fit_summary

    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    path = Path(target)
    try:
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        budget = SUMMARY_LIMIT - len(before.encode("utf-8")) - 1024  # a margin for GitHub's count
        separator = "\n" if before and not before.endswith("\n") else ""
        write_output(before + separator + fit_summary(markdown, max(budget, 0), report), path)
    except (OSError, UnicodeDecodeError, AuditError) as exc:  # the reports are out: only warn
        print_note(f"warning: {path}: the step summary was not written ({exc})")


def emit_report(
    result: AuditResult, targets: list[Target], sort: str, lang: Lang, location: Path
) -> None:
    """The audit's (or rank's) reports: each target in its format, from the one result.
    `location` is what was audited (the first path), where Code Quality anchors its issues."""
    from ..render import codequality, github, junit, markdown
    from ..render import csv as csv_report
    from ..render import json as json_report
    from ..render.console import print_note, stdout_console, table_text
    from ..render.terminal import render_table
    from ..render.text import verdict_line

    report = full_report(targets)
    renderers = {
        "table": lambda: table_text(lambda console: render_table(result, console, sort)),
        "json": lambda: json_report.render_json(result),
        "csv": lambda: csv_report.render_csv(result, lang.value, sort),
        "markdown": lambda: markdown.render_markdown(result, sort),
        "junit": lambda: junit.render_junit(result),
        "github": lambda: github.render_audit_github(result, report, sort, ci_root()),
        "codequality": lambda: codequality.render_audit_codequality(result, location, ci_root()),
    }
    for target in targets:
        if target.format == "table" and target.path is None:
            render_table(result, stdout_console(), sort)  # in colour on a terminal
        else:
            write_output(renderers[target.format](), target.path)
    if any(t.format == "github" for t in targets):
        append_step_summary(markdown.render_markdown(result, sort), report)
    if all(t.path is not None for t in targets):
        print_note(verdict_line(result), passed=result.passed)
