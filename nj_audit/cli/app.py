"""The wiring every command shares: the Typer apps, the option types, errors as one line and exit
codes, the progress bar's switch, and where a report goes (stdout or `--output`, written
atomically; an output that is an input is refused by identity before anything is written).

Commands import the library lazily, inside their function, so that `--help` stays quick."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ..errors import AuditError, ExitCode, OutputError, UsageError
from .helptext import HELP_STYLE, SAMPLES_HELP, SCHEMAS_HELP, TOP_HELP, command_group, readable_help
from .root import RootCommand

if TYPE_CHECKING:
    from ..policy import Policy
    from ..reading import Unreadable as ReadUnreadable
    from ..results import AuditResult, Unreadable, ValidateResult


app = typer.Typer(
    cls=RootCommand,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals would print patient rows into CI logs
    **HELP_STYLE,  # type: ignore[arg-type]
)
schemas_app = command_group(SCHEMAS_HELP)
samples_app = command_group(SAMPLES_HELP)


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
    xlsx = "xlsx"
    html = "html"


class ValidateFormat(str, Enum):
    """What `validate` writes; `csv` is the failures file (one line per failing value)."""

    table = "table"
    json = "json"
    csv = "csv"
    github = "github"
    codequality = "codequality"


# An --output file's format from its name; github and codequality need a prefix (`github:FILE`)
AUDIT_EXTENSIONS = {".txt": "table", ".json": "json", ".csv": "csv", ".md": "markdown",
                    ".xml": "junit", ".xlsx": "xlsx", ".html": "html", ".htm": "html"}  # fmt: skip
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
        help="Policy TOML (default: [tool.nj-audit] in the nearest pyproject.toml; contract"
        " § 5.3).",
    ),
]
FailOnOption = Annotated[
    FailOn | None, typer.Option(help="What fails the gate: fail, warn or never.")
]
FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        help="What goes to stdout: table (the default, unless --output is given), json, csv,"
        " markdown, junit, github (annotations) or codequality (GitLab); xlsx (Excel) and html"
        " (one offline page) only with --output.",
    ),
]
OutputOption = Annotated[
    list[str] | None,
    typer.Option(
        "--output",
        "-o",
        metavar="[FORMAT:]FILE",
        help="Write a report to FILE, in the format its name says (.json, .csv, .md,"
        " .xml = JUnit, .txt = table, .xlsx = Excel, .html) or FORMAT: says (junit:audit.xml,"
        " codequality:cq.json), instead of stdout (with --format too: that report on stdout,"
        " unless a file takes it). Repeat for several; the audit runs once.",
    ),
]
SortOption = Annotated[
    str,
    typer.Option(
        metavar="METRIC",
        help="Rank by this metric (rows_uploaded, outpatient_rate, ...): the largest first, the "
        "worst status first, names from A; -METRIC turns it around.",
    ),
]
WindowOption = Annotated[
    str | None,
    typer.Option(metavar="WINDOW", help="Real-time window: 24h, 90m, 1d, 3600s (default 24h)."),
]
ChunkSizeOption = Annotated[
    int, typer.Option(metavar="N", help="Rows per chunk (memory is bounded by it).", min=1)
]
MemoryLimitOption = Annotated[
    str,
    typer.Option(
        metavar="SIZE", help="Target peak memory: 512MiB, 2GiB (states spill to disk past it)."
    ),
]
AscendingOption = Annotated[
    bool,
    typer.Option(
        "--ascending", help="The smallest values first (the weakest rates first); same as -METRIC."
    ),
]
LangOption = Annotated[
    Lang | None,
    typer.Option(
        help="The reports' language: en or zh (default: NJ_AUDIT_LANG, lang in"
        " [tool.nj-audit], else zh under a Chinese locale)."
    ),
]
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
StrictOption = Annotated[
    bool,
    typer.Option("--strict", help="Stop (exit 2) at any unreadable file instead of reporting it."),
]
AllowEmptyOption = Annotated[
    bool, typer.Option("--allow-empty", help="Let a run that read no data row pass.")
]
MaxBytesOption = Annotated[
    str | None,
    typer.Option(
        help="Most bytes one file may expand to, e.g. 8GiB (default: 100 times a compressed"
        " file's size, at least 1 GiB).",
        metavar="SIZE",
    ),
]


def parse_size(text: str | None) -> int | None:
    """`--max-bytes`: `8GiB`, `500MB`, `1048576` -> bytes (sizes.py)."""
    if text is None:
        return None
    from ..messages import said
    from ..sizes import parse_size as size_of

    size = size_of(text)
    if size is None:
        raise UsageError(said("error.bad_max_bytes", value=text))
    return size


def fail(error: AuditError | str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    """`error`'s one line in the run's language (a `said` message, or an AuditError holding one,
    is told from the catalogue), and exit."""
    from ..messages import told
    from ..render.console import current_lang, print_error

    lang = current_lang()
    print_error(error.told(lang) if isinstance(error, AuditError) else told(error, lang))
    raise typer.Exit(int(code))


def _unreadable_of(error: AuditError) -> Sequence[ReadUnreadable]:
    """The unreadable files of reading's NothingReadable, else none. It is only raised once
    reading is imported: an argument's error imports neither it nor the data stack."""
    if "nj_audit.reading" not in sys.modules:
        return ()
    from ..reading import NothingReadable

    return error.findings.unreadable if isinstance(error, NothingReadable) else ()


@contextmanager
def errors_handled(debug: bool, show_pii: bool = False) -> Iterator[None]:
    """One red line on stderr and exit 2 for anything that stops the run; never a traceback
    (unless --debug, and even then without local variables). What went to stdout is flushed here,
    so that a full or closed stdout is an error too (not a message at the interpreter's exit)."""
    from ..messages import said
    from ..render.console import reveal_pii, use_lang
    from ..texts import default_lang

    reveal_pii(show_pii)
    use_lang(default_lang())  # errors before the command knows its --lang follow the locale
    try:
        yield
        _flush_stdout()
    except typer.Exit:
        raise
    except AuditError as exc:
        if debug:
            _traceback()
        unreadable = _unreadable_of(exc)
        if len(unreadable) > 1:
            warn_unreadable(unreadable)
        fail(exc)
    except BrokenPipeError:  # whoever read stdout stopped reading (`| head`): nothing left to say
        _quiet_stdout()
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        fail(said("error.interrupted"))
    except MemoryError:
        fail(said("error.out_of_memory"))
    except OSError as exc:  # the system refused something no step above wraps
        if debug:
            _traceback()
        fail(said("error.system_error", reason=exc.strerror or type(exc).__name__))
    except Exception as exc:  # the last line of defence: no traceback in CI logs
        if debug:
            _traceback()
        fail(said("error.internal_error", kind=type(exc).__name__))


def _traceback() -> None:
    """--debug: the traceback (no local variables), with ID-number-shaped text masked."""
    from ..render.console import safe_line

    for line in traceback.format_exc().splitlines():
        print(safe_line(line), file=sys.stderr)


def _flush_stdout() -> None:
    if sys.stdout is not None:
        with stdout_errors():
            sys.stdout.flush()


@contextmanager
def stdout_errors() -> Iterator[None]:
    """A write to stdout that fails (`> /dev/full`, a closed descriptor) as one error line."""
    try:
        yield
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: I/O operation on a closed file
        _quiet_stdout()
        from ..messages import said

        reason = getattr(exc, "strerror", None) or "it is closed"
        raise OutputError(said("error.cannot_write_report", reason=reason), "<stdout>") from None


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's own flush at exit says nothing."""
    with suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def show_progress(quiet: bool, json_on_stdout: bool) -> bool:
    return not quiet and not json_on_stdout and sys.stderr.isatty() and not os.environ.get("CI")


def warn_unreadable(items: Sequence[Unreadable | ReadUnreadable]) -> None:
    """One warning line on stderr per file that could not be read."""
    from ..messages import unreadable_told
    from ..render.console import current_lang, print_warning
    from ..results import Unreadable as Shown

    lang = current_lang()
    for item in items:
        if isinstance(item, Shown):
            where = item.where
        else:
            where = f"{item.path}:{item.line}" if item.line else str(item.path)
        print_warning(f"{where}: {unreadable_told(item.message, item.reason, lang)}")


def warn_findings(result: AuditResult | ValidateResult) -> None:
    """The files that could not be read, those no form matches and the reports left out, one
    warning line each, whatever the format (the table lists them too)."""
    from ..messages import said, told
    from ..render.console import current_lang, print_warning
    from ..texts import text

    warn_unreadable(result.unreadable)
    lang = current_lang()
    for path in result.skipped:
        print_warning(f"{path}: {text('note.skipped', lang)} {text('note.no_form', lang)}")
    for path in result.reports:
        print_warning(f"{path}: {told(said('error.report_skipped'), lang)}")


def chosen_lang(lang: Lang | None, policy: Path | None = None) -> str:
    """The run's language (`--lang`, NJ_AUDIT_LANG, the policy's `lang`, the locale), also set
    for the diagnostics on stderr. A policy that cannot be read says nothing here: the commands
    that use it refuse it themselves."""
    from ..render.console import use_lang
    from ..texts import default_lang

    if lang is not None:
        chosen = lang.value
    else:
        configured = None
        if not os.environ.get("NJ_AUDIT_LANG"):
            from ..policy import load_policy

            with suppress(AuditError, OSError, ValueError):
                configured = load_policy(policy).lang
        chosen = default_lang(configured)
    use_lang(chosen)
    return chosen


def known_form(form: str | None) -> str | None:
    """`--form`'s form id (given as the id in any case, or the Chinese name), else UsageError."""
    from ..forms import FORM_IDS, form_named

    if form is None:
        return None
    form_id = form_named(form)
    if form_id is None:
        from ..messages import said

        raise UsageError(said("error.unknown_form", form=form, forms=", ".join(FORM_IDS)))
    return form_id


def chosen_policy(
    policy: Path | None, fail_on: FailOn | None, sort: str, window: str | None = None
) -> Policy:
    """`audit`'s and `rank`'s policy with their options applied, once `--sort` is known good."""
    from ..period import parse_window
    from ..policy import load_policy
    from ..render.text import SORT_KEYS, sort_metric

    chosen = load_policy(policy)
    if window is not None:
        chosen = replace(chosen, window_seconds=parse_window(window))
    if fail_on is not None:
        chosen = replace(chosen, fail_on=fail_on.value)
    if sort_metric(sort) not in SORT_KEYS:
        from ..messages import said

        raise UsageError(said("error.unknown_sort", sort=sort, choices=", ".join(SORT_KEYS)))
    return chosen
