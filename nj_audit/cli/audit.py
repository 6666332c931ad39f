"""`nj-audit audit`: options -> an AuditRequest -> `audit()` -> the report -> the exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ExitCode, UsageError
from .app import (
    By,
    DebugOption,
    FailOnOption,
    Format,
    FormatOption,
    FormOption,
    Lang,
    LangOption,
    OutputOption,
    PolicyOption,
    QuietOption,
    SortOption,
    chosen_policy,
    emit_report,
    errors_handled,
    known_form,
    refuse_overwriting_inputs,
    show_progress,
)


def audit_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Upload files or folders (or --state STORE).")
    ] = None,
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
    form: FormOption = None,
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
    memory_limit: Annotated[
        str, typer.Option(help="Target peak memory: 512MiB, 2GiB (states spill to disk past it).")
    ] = "1GiB",
    temp_dir: Annotated[
        Path | None, typer.Option(help="Folder for spill files (default: the system's temp).")
    ] = None,
    state: Annotated[
        Path | None, typer.Option(help="Audit a state store (nj-audit state add) instead.")
    ] = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Per-institution real-time compliance, form coverage and upload days, ranked, flagged and
    gated.

    Exit 0 when the gate passes, 1 when it fails, 2 when the audit cannot run.

    Examples:

        nj-audit audit samples/batch --registry samples/registry.csv

        nj-audit audit uploads/ --period 2022 --format json --output audit.json

        nj-audit audit uploads/ --by district --format markdown --fail-on warn

        nj-audit audit year/ --memory-limit 2GiB --temp-dir /scratch

        nj-audit audit --state store/ --period 2022 --registry registry.csv
    """
    from ..audit import run_audit
    from ..engines.memory import parse_size
    from ..period import parse_period
    from ..registry import load_registry
    from ..render.console import progress_bar
    from ..requests import AuditRequest

    with errors_handled(debug):
        chosen = chosen_policy(policy, fail_on, sort, window)
        known_form(form)
        chosen_period = parse_period(period) if period else None
        loaded_registry = load_registry(registry) if registry else None
        if by == By.district and loaded_registry is None:
            raise UsageError("--by district needs --registry")
        paths = paths or []
        if bool(paths) == (state is not None):
            raise UsageError("give upload files or folders, or --state STORE (not both)")
        limit = parse_size(memory_limit)
        if output is not None:
            inputs = [*paths, *(p for p in (registry, policy, state) if p)]
            refuse_overwriting_inputs(output, inputs)
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
            memory_limit=limit,
            temp_dir=temp_dir,
            state=state,
        )
        json_out = output_format == Format.json and output is None
        with progress_bar(engine == "pandas" and show_progress(quiet, json_out)) as hook:
            result = run_audit(request, progress=hook)
        emit_report(result, output_format, output, sort, lang)
    raise typer.Exit(int(ExitCode.PASSED if result.passed else ExitCode.FAILED))
