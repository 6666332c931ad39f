"""The command line's consoles: stdout for results, stderr for diagnostics (one red line per error,
the progress bar, the verdict when the report went to a file)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

ProgressHook = Callable[[int, int, int], None]


def stdout_console() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    """`error: FILE:LINE: what is wrong`, in red, on one line of stderr."""
    stderr_console().print(
        f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True, highlight=False
    )


def print_note(message: str, passed: bool | None = None) -> None:
    """A line on stderr: green when something passed, red when it failed, plain otherwise."""
    style = None if passed is None else "green" if passed else "bold red"
    stderr_console().print(message, style=style, markup=False)


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
        TextColumn("{task.fields[rows]:>12,} rows"),
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


def table_text(render: Callable[[Console], None], width: int = 160) -> str:
    """What `render` prints on a console of `width` columns, as plain text (for `--output`)."""
    import os

    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=width, file=sink, highlight=False)
        render(console)
    return console.export_text()
