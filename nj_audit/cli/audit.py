"""`nj-audit audit`: options -> an AuditRequest -> `audit()` -> the report -> the exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ExitCode, UsageError
from .app import (
    AUDIT_EXTENSIONS,
    AllowEmptyOption,
    AscendingOption,
    By,
    ChunkSizeOption,
    DebugOption,
    EncodingOption,
    FailOnOption,
    Format,
    FormatOption,
    FormOption,
    LangOption,
    MaxBytesOption,
    MemoryLimitOption,
    OutputOption,
    PolicyOption,
    QuietOption,
    SortOption,
    StrictOption,
    WindowOption,
    chosen_lang,
    chosen_policy,
    errors_handled,
    known_form,
    parse_size,
    show_progress,
    warn_findings,
)
from .history import HistoryOption, LabelOption, start_recording
from .loading import load_data_stack
from .outputs import (
    emit_report,
    html_trends,
    output_targets,
    refuse_overwriting,
)


def audit_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="PATH...", help="Upload files or folders (or --state STORE)."),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            metavar="PERIOD", help="2022, 2022-03 or 2022-01-01:2022-06-30 (upload dates)."
        ),
    ] = None,
    window: WindowOption = None,
    registry: Annotated[
        Path | None, typer.Option(metavar="FILE", help="CSV of org_code, name, district.")
    ] = None,
    by: Annotated[By, typer.Option(help="Rows per institution or per district.")] = By.institution,
    policy: PolicyOption = None,
    fail_on: FailOnOption = None,
    output_format: FormatOption = None,
    output: OutputOption = None,
    sort: SortOption = "rows_uploaded",
    ascending: AscendingOption = False,
    lang: LangOption = None,
    form: FormOption = None,
    encoding: EncodingOption = None,
    show_pii: Annotated[
        bool,
        typer.Option(
            "--show-pii", help="Show org_codes shaped like an ID number or a name unmasked."
        ),
    ] = False,
    chunk_size: ChunkSizeOption = 1_000_000,
    engine: Annotated[
        str, typer.Option(metavar="pandas|dask", help="pandas (default) or dask.")
    ] = "pandas",
    scheduler: Annotated[
        str | None,
        typer.Option(metavar="ADDRESS", help="Dask scheduler address (default: a local cluster)."),
    ] = None,
    partitions: Annotated[
        int | None, typer.Option(metavar="N", help="Dask partitions per file.", min=1)
    ] = None,
    strict: StrictOption = False,
    allow_empty: AllowEmptyOption = False,
    max_bytes: MaxBytesOption = None,
    memory_limit: MemoryLimitOption = "1GiB",
    temp_dir: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Folder for spill files (default: the system's temp)."),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(metavar="STORE", help="Audit a state store (nj-audit state add) instead."),
    ] = None,
    quiet: QuietOption = False,
    history: HistoryOption = None,
    label: LabelOption = None,
    debug: DebugOption = False,
) -> None:
    """Per-institution real-time compliance, form coverage and upload days, ranked, flagged and
    gated.

    Exit 0 when the gate passes, 1 when it fails (an unreadable file, or no data row at all, fails
    it too), 2 when the audit cannot run (bad arguments, no file could be read; with --strict, any
    unreadable file). docs/contract.md § 6.

    Examples:

    \b
      nj-audit audit samples/batch --registry samples/registry.csv
      nj-audit audit uploads/ --period 2022 --format json --output audit.json
      nj-audit audit uploads/ -o audit.json -o summary.md --format github
      nj-audit audit uploads/ --by district --format markdown --fail-on warn
      nj-audit audit uploads/ --history audits.sqlite --label nightly
      nj-audit audit year/ --memory-limit 2GiB --temp-dir /scratch
      nj-audit audit --state store/ --period 2022 --registry registry.csv
    """
    with errors_handled(debug, show_pii):  # an argument's error, before the data stack loads
        paths = paths or []
        if bool(paths) == (state is not None):
            raise UsageError("give upload files or folders, or --state STORE (not both)")
    load_data_stack()
    from ..audit import run_audit
    from ..engines.memory import parse_size as parse_memory_size
    from ..period import parse_period
    from ..pii import mask_id_numbers
    from ..registry import load_registry
    from ..render.console import progress_bar
    from ..render.json import render_json, to_document
    from ..render.text import sort_with
    from ..requests import AuditRequest

    with errors_handled(debug, show_pii):
        memory = parse_memory_size(memory_limit)
        targets = output_targets(output_format, output, AUDIT_EXTENSIONS, Format)
        inputs = [*paths, *([state] if state else [])]
        outputs = refuse_overwriting(targets, inputs, registry, policy)
        sort = sort_with(sort, ascending)
        chosen = chosen_policy(policy, fail_on, sort, window)
        language = chosen_lang(lang, policy)
        form = known_form(form)
        recorder = start_recording(history, chosen, "audit", by.value, label)
        chosen_period = parse_period(period) if period else None
        limit = parse_size(max_bytes)
        loaded_registry = load_registry(registry) if registry else None
        if by == By.district and loaded_registry is None:
            raise UsageError("--by district needs --registry")
        request = AuditRequest(
            paths=paths,
            policy=chosen,
            form=form,
            period=chosen_period,
            registry=loaded_registry,
            by=by.value,
            encoding=encoding,
            chunk_rows=chunk_size,
            engine=engine,
            scheduler=scheduler,
            partitions=partitions,
            memory_limit=memory,
            temp_dir=temp_dir,
            state=state,
            show_pii=show_pii,
            allow_empty=allow_empty,
            strict=strict,
            max_bytes=limit,
            outputs=outputs,
        )
        json_out = any(t.format == "json" and t.path is None for t in targets)
        with progress_bar(engine == "pandas" and show_progress(quiet, json_out)) as hook:
            result = run_audit(request, progress=hook)
        if recorder is not None:
            result = recorder.judge(result, to_document)
        warn_findings(result)
        trends = html_trends(recorder, result, targets)
        location = Path(mask_id_numbers(str(inputs[0]), show_pii))  # Code Quality's, GitHub's
        emit_report(result, targets, sort, language, location, trends)
        if recorder is not None:
            recorder.record(result, render_json(result), inputs=inputs)
    raise typer.Exit(int(ExitCode.PASSED if result.passed else ExitCode.FAILED))
