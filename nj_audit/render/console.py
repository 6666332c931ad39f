"""The command line's consoles: stdout for results, stderr for diagnostics (one red line per error,
one yellow line per warning, the progress bar, the verdict when the report went to a file).

A diagnostic is one line whatever it quotes: control characters are escaped, markup is never
interpreted, and anything shaped like an ID number (a file named after a patient) is masked unless
`--show-pii` was given (`reveal_pii`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.text import Text

from ..errors import OutputError
from ..pii import mask_id_numbers
from ..texts import text
from .text import printable

ProgressHook = Callable[[int, int, int], None]
_SHOW_PII = [False]  # set once per run by the command line (--show-pii)
_LANG = ["en"]  # the run's language, for the diagnostics (set by the command line)


def use_lang(lang: str) -> None:
    """The language of the diagnostics' prefixes and of the progress bar."""
    _LANG[0] = lang


def current_lang() -> str:
    return _LANG[0]


def _space() -> str:
    """After `error:` a space; after `错误：` (a full-width colon) none."""
    return "" if _LANG[0] == "zh" else " "


def reveal_pii(show: bool) -> None:
    """Whether diagnostics show ID-number-shaped text unmasked (the command's --show-pii)."""
    _SHOW_PII[0] = show


def safe_line(message: str) -> str:
    """A diagnostic as it may be shown: one line, escaped, ID numbers masked."""
    return printable(mask_id_numbers(message, _SHOW_PII[0]))


REPORT_WIDTH = 120  # the table's width off a terminal when COLUMNS does not say


def report_width() -> int:
    """The width of a table that goes to a file or a pipe: COLUMNS (as rich reads it), else
    REPORT_WIDTH, so that `> file` and `--output file` hold the same table."""
    import os

    columns = os.environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and int(columns) > 0 else REPORT_WIDTH


def stdout_console() -> Console:
    if sys.stdout is None:  # started with stdout closed (`>&-`): rich would print into nothing
        raise OutputError("cannot write the report: stdout is closed", "<stdout>")
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=report_width())
    return console


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    """`error: FILE:LINE: what is wrong`, in red, on one line of stderr."""
    line = Text.assemble((text("diag.error", _LANG[0]), "bold red"), _space(), safe_line(message))
    stderr_console().print(line, soft_wrap=True, highlight=False)


def print_warning(message: str) -> None:
    """`warning: FILE: what was skipped or could not be read`, in yellow, on one line of stderr."""
    line = Text.assemble((text("diag.warning", _LANG[0]), "yellow"), _space(), safe_line(message))
    stderr_console().print(line, soft_wrap=True, highlight=False)


def print_note(message: str, passed: bool | None = None) -> None:
    """A line on stderr: green when something passed, red when it failed, plain otherwise."""
    style = "" if passed is None else "green" if passed else "bold red"
    stderr_console().print(Text(safe_line(message), style=style), soft_wrap=True)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressHook | None]:
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
        TextColumn("{task.fields[rows]:>12,} " + text("progress.rows", _LANG[0])),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("audit", total=None, rows=0)
        rows_done = 0

        def advance(rows: int, done: int, total: int) -> None:
            nonlocal rows_done
            rows_done += rows
            progress.update(task, completed=done, total=total, rows=rows_done)

        yield advance


def table_text(render: Callable[[Console], None], width: int | None = None) -> str:
    """What `render` prints on a console of `width` columns, as plain text (for `--output`)."""
    import os

    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=width or report_width(), file=sink, highlight=False)
        render(console)
    return console.export_text()
