"""`nj-audit state add | compact | info`: a year-to-date state store (docs/scale.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import (
    DebugOption,
    EncodingOption,
    FormOption,
    PolicyOption,
    QuietOption,
    chosen_policy,
    errors_handled,
    known_form,
    show_progress,
)

state_app = typer.Typer(
    help="Keep judged uploads in a state store, to audit any period up to a year without reading"
    " its files again (nj-audit audit --state STORE; docs/scale.md).\n\nExamples:\n\n"
    "    nj-audit state add store/ uploads/2022-03-01/\n\n"
    "    nj-audit audit --state store/ --period 2022-03\n\n"
    "    nj-audit state compact store/ && nj-audit state info store/",
    no_args_is_help=True,
)
StoreArgument = Annotated[Path, typer.Argument(metavar="STORE", help="The state store (a folder).")]


def _shown(path: Path) -> str:
    """A path for a message: anything unprintable escaped."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(path))


def _waiting(store: Path) -> None:
    from ..render.console import print_note

    print_note(f"{_shown(store)}: waiting for another nj-audit state command to finish")


def state_add(
    store: StoreArgument,
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Upload files or folders to add.")
    ],
    window: Annotated[
        str | None,
        typer.Option(metavar="WINDOW", help="Real-time window: 24h, 90m, 1d, 3600s (default 24h)."),
    ] = None,
    policy: PolicyOption = None,
    form: FormOption = None,
    encoding: EncodingOption = None,
    chunk_size: Annotated[
        int, typer.Option(metavar="N", help="Rows per chunk.", min=1)
    ] = 1_000_000,
    memory_limit: Annotated[
        str, typer.Option(metavar="SIZE", help="Target peak memory: 512MiB, 2GiB.")
    ] = "1GiB",
    buckets: Annotated[
        int | None,
        typer.Option(metavar="N", help="Buckets of a new store (default 64).", min=1, max=4096),
    ] = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Judge upload files and add their folded per-record states, rows, upload days and check
    failures to a state store (made when missing), partitioned by upload date.

    A file already in the store with the same content is left alone; a file added before with
    other content is refused (exit 2). The window and per-form windows are the store's: a store
    made with others is refused. Two adds on one store run one after the other.

    Examples:

        nj-audit state add store/ uploads/2022-03-01/

        nj-audit state add store/ uploads/2022-03-0*/ --window 2h --memory-limit 2GiB
    """
    from ..engines.memory import parse_size
    from ..render.console import print_note, progress_bar
    from ..requests import StateAddRequest
    from ..store.adding import add_files

    with errors_handled(debug):
        known_form(form)
        request = StateAddRequest(
            store=store,
            paths=paths,
            policy=chosen_policy(policy, None, "rows_uploaded", window),
            form=form,
            encoding=encoding,
            chunk_rows=chunk_size,
            memory_limit=parse_size(memory_limit),
            buckets=buckets,
        )
        with progress_bar(show_progress(quiet, False)) as hook:
            result = add_files(request, progress=hook, on_wait=lambda: _waiting(store))
    lines = [
        f"{_shown(store)}: added {len(result.added):,} files ({result.rows:,} rows,"
        f" {result.states:,} record states in {result.parts:,} partition files)"
    ]
    if result.known:
        lines.append(f"{len(result.known):,} files already in the store with the same content:")
        lines += [f"  {_shown(path)}" for path in result.known]
    if result.skipped:
        lines.append(f"{len(result.skipped):,} files skipped (their name names no form)")
    typer.echo("\n".join(lines))
    if not result.added and result.known:
        print_note("nothing new: the store is unchanged")


def state_compact(store: StoreArgument, debug: DebugOption = False) -> None:
    """Fold each upload day's partition files into one (a year of daily adds: one file a day).
    Audits give the same document before and after.

    Example:

        nj-audit state compact store/
    """
    from ..store.compacting import compact_store

    with errors_handled(debug):
        result = compact_store(store, on_wait=lambda: _waiting(store))
    if not result.days:
        typer.echo(f"{_shown(store)}: nothing to compact (one partition file a day)")
        return
    typer.echo(
        f"{_shown(store)}: {result.days:,} days compacted, {result.files_before:,} partition files"
        f" into {result.files_after:,}, {result.states_before:,} record states into"
        f" {result.states_after:,}"
    )


def state_info(
    store: StoreArgument,
    records: Annotated[
        bool, typer.Option("--records", help="Also count distinct records (folds the store).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="A JSON document instead.")] = False,
    debug: DebugOption = False,
) -> None:
    """What a state store holds: upload dates, institutions, files, rows, record states, size on
    disk and the settings its states were judged with.

    Examples:

        nj-audit state info store/

        nj-audit state info store/ --records --json
    """
    from ..store.info import store_info

    with errors_handled(debug):
        info = store_info(store, records=records)
    typer.echo(
        info.to_json() if json_output else "\n".join([_shown(store), *info.lines()]),
        nl=not json_output,
    )
