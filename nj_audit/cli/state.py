"""`nj-audit state add | compact | info`: a year-to-date state store (docs/scale.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import (
    ChunkSizeOption,
    DebugOption,
    EncodingOption,
    FormOption,
    LangOption,
    MemoryLimitOption,
    PolicyOption,
    QuietOption,
    WindowOption,
    chosen_lang,
    chosen_policy,
    errors_handled,
    known_form,
    show_progress,
    warn_unreadable,
)
from .helptext import command_group

state_app = command_group(
    "Keep judged uploads in a state store, to audit any period up to a year without reading"
    " its files again (nj-audit audit --state STORE; docs/scale.md).\n\nExamples:\n\n\b\n"
    "  nj-audit state add store/ uploads/2022-03-01/\n"
    "  nj-audit audit --state store/ --period 2022-03\n"
    "  nj-audit state compact store/ && nj-audit state info store/"
)
StoreArgument = Annotated[Path, typer.Argument(metavar="STORE", help="The state store (a folder).")]


def _shown(path: Path) -> str:
    """A path for a message: anything unprintable escaped."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(path))


def _waiting(store: Path, lang: str) -> None:
    from ..render.console import print_note
    from ..texts import text

    print_note(text("state.waiting", lang, store=_shown(store)))


def state_add(
    store: StoreArgument,
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Upload files or folders to add.")
    ],
    window: WindowOption = None,
    policy: PolicyOption = None,
    form: FormOption = None,
    encoding: EncodingOption = None,
    chunk_size: ChunkSizeOption = 1_000_000,
    memory_limit: MemoryLimitOption = "1GiB",
    buckets: Annotated[
        int | None,
        typer.Option(metavar="N", help="Buckets of a new store (default 64).", min=1, max=4096),
    ] = None,
    quiet: QuietOption = False,
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """Judge upload files and add their folded per-record states, rows, upload days and check
    failures to a state store (made when missing), partitioned by upload date.

    A file already in the store with the same content is left alone; a file added before with
    other content is refused (exit 2). A file that cannot be read is a warning here and a finding
    of `audit --state`, as of an audit of the files. The window and per-form windows are the
    store's: a store made with others is refused. Two adds on one store run one after the other.

    Examples:

    \b
      nj-audit state add store/ uploads/2022-03-01/
      nj-audit state add store/ uploads/2022-03-0*/ --memory-limit 2GiB
    """
    from ..engines.memory import parse_size
    from ..render.console import print_note, progress_bar
    from ..requests import StateAddRequest
    from ..store.adding import add_files
    from ..texts import text

    with errors_handled(debug):
        language = chosen_lang(lang, policy)
        form = known_form(form)
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
            result = add_files(request, progress=hook, on_wait=lambda: _waiting(store, language))
    warn_unreadable(result.unreadable)  # kept in the store: `audit --state` lists them too
    counts = {"files": len(result.added), "rows": result.rows, "states": result.states}
    counts["parts"] = result.parts
    shown = {key: f"{value:,}" for key, value in counts.items()}
    lines = [text("state.added", language, store=_shown(store), **shown)]
    if result.known:
        lines.append(text("state.known", language, count=f"{len(result.known):,}"))
        lines += [f"  {_shown(path)}" for path in result.known]
    if result.skipped:
        lines.append(text("state.skipped", language, count=f"{len(result.skipped):,}"))
    typer.echo("\n".join(lines))
    if not result.added and result.known:
        print_note(text("state.unchanged", language))


def state_compact(
    store: StoreArgument, lang: LangOption = None, debug: DebugOption = False
) -> None:
    """Fold each upload day's partition files into one (a year of daily adds: one file a day).
    Audits give the same document before and after.

    Example:

    \b
      nj-audit state compact store/
    """
    from ..store.compacting import compact_store
    from ..texts import text

    with errors_handled(debug):
        language = chosen_lang(lang)
        result = compact_store(store, on_wait=lambda: _waiting(store, language))
    if not result.days:
        typer.echo(text("state.nothing_to_compact", language, store=_shown(store)))
        return
    counts = {"days": result.days, "before": result.files_before, "after": result.files_after}
    counts |= {"states_before": result.states_before, "states_after": result.states_after}
    shown = {key: f"{value:,}" for key, value in counts.items()}
    typer.echo(text("state.compacted", language, store=_shown(store), **shown))


def state_info(
    store: StoreArgument,
    records: Annotated[
        bool, typer.Option("--records", help="Also count distinct records (folds the store).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="A JSON document instead.")] = False,
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """What a state store holds: upload dates, institutions, files, rows, record states, size on
    disk and the settings its states were judged with.

    Examples:

    \b
      nj-audit state info store/
      nj-audit state info store/ --records --json
    """
    from ..store.info import store_info

    with errors_handled(debug):
        language = chosen_lang(lang)
        info = store_info(store, records=records)
    typer.echo(
        info.to_json() if json_output else "\n".join([_shown(store), *info.lines(language)]),
        nl=not json_output,
    )
