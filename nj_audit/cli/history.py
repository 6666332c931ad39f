"""`nj-audit history ...`: the runs kept in the history file, and `--history` for audit and rank.

Every command finds the file in `--history FILE`, else in the environment variable
NJ_AUDIT_HISTORY, else in `history = "FILE"` of the policy ([tool.nj-audit] in ./pyproject.toml).
Exit 2 (one line on stderr) when it cannot: no file given, not a history, no such run."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UsageError
from .app import (
    AUDIT_EXTENSIONS,
    AscendingOption,
    DebugOption,
    Format,
    FormatOption,
    LangOption,
    OutputOption,
    PolicyOption,
    SortOption,
    chosen_lang,
    errors_handled,
)
from .helptext import HISTORY_HELP, command_group
from .outputs import (
    emit_report,
    output_targets,
    refuse_overwriting,
    write_output,
)

if TYPE_CHECKING:
    from ..history.recording import Recorder
    from ..policy import Policy

history_app = command_group(HISTORY_HELP)

LastOption = Annotated[int | None, typer.Option(metavar="N", help="Only the N newest runs.", min=1)]
HistoryOption = Annotated[
    Path | None,
    typer.Option(
        "--history",
        metavar="FILE",
        envvar="NJ_AUDIT_HISTORY",
        help="History file (SQLite; default: $NJ_AUDIT_HISTORY, else the policy's history key).",
        show_envvar=False,
    ),
]
LabelOption = Annotated[
    str | None,
    typer.Option(
        metavar="LABEL", help="With --history: a label for this run (nightly, rerun, ...)."
    ),
]


class HistoryFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class CompareFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    junit = "junit"


HistoryFormatOption = Annotated[
    HistoryFormat, typer.Option("--format", help="table, json or markdown.")
]
NO_HISTORY = (
    'no history file: give --history FILE, set NJ_AUDIT_HISTORY or history = "FILE" in '
    "[tool.nj-audit]"
)


def history_file(given: Path | None, policy: Path | None = None, exists: bool = True) -> Path:
    """The file a history command works on (one that exists unless `exists` is False)."""
    from ..policy import load_policy

    path = given or load_policy(policy).history
    if path is None:
        raise UsageError(NO_HISTORY)
    if exists and not path.is_file():
        raise UsageError("no such history file", path)
    return path


def start_recording(
    given: Path | None, policy: Policy, command: str, scope: str, label: str | None
) -> Recorder | None:
    """audit's and rank's recorder when a history file is set; the file is checked now."""
    path = given or policy.history
    if path is None:
        if label is not None:
            raise UsageError("--label needs a history file (--history)")
        return None
    from ..history.recording import Recorder  # only then: the history's modules cost 0.1 s

    return Recorder.begin(path, command, policy, scope, label)


def history_list(
    last: LastOption = None,
    label: Annotated[
        str | None, typer.Option(metavar="LABEL", help="Only the runs with this label.")
    ] = None,
    history: HistoryOption = None,
    output_format: HistoryFormatOption = HistoryFormat.table,
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """The runs in the history, oldest first: id, start time (UTC), command, scope, label,
    period, window, verdict and exit code, rows, and the accepted baseline (*).

    Examples:

    \b
      nj-audit history list --history audits.sqlite --last 10
      NJ_AUDIT_HISTORY=audits.sqlite nj-audit history list --format json
    """
    from ..history import HistoryStore
    from ..render.console import stdout_console
    from ..render.history_terminal import render_runs
    from ..render.history_text import list_markdown, to_json_text

    with errors_handled(debug):
        language = chosen_lang(lang)
        with HistoryStore.open(history_file(history)) as store:
            runs = store.runs(last=last, label=label)
        if output_format == HistoryFormat.table:
            render_runs(runs, stdout_console(), language)
        elif output_format == HistoryFormat.json:
            write_output(to_json_text({"runs": [r.to_json() for r in runs]}), None)
        else:
            write_output(list_markdown(runs, language), None)


def history_show(
    run: Annotated[
        str,
        typer.Argument(
            metavar="RUN", help="A run: id, latest, latest~N, accepted or a uuid prefix."
        ),
    ] = "latest",
    history: HistoryOption = None,
    output_format: FormatOption = None,
    output: OutputOption = None,
    sort: SortOption = "rows_uploaded",
    ascending: AscendingOption = False,
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """A stored run's report, in any format: `--format json` is the stored document byte for
    byte; the other formats render it again as the audit would have.

    Examples:

    \b
      nj-audit history show latest --history audits.sqlite
      nj-audit history show 12 --history audits.sqlite --format json > 12.json
      nj-audit history show latest~1 --history audits.sqlite --format csv
    """
    import json

    from ..documents import result_of
    from ..history import HistoryStore
    from ..render.text import SORT_KEYS, sort_metric, sort_with

    with errors_handled(debug):
        language = chosen_lang(lang)
        sort = sort_with(sort, ascending)
        if sort_metric(sort) not in SORT_KEYS:
            raise UsageError(f"unknown --sort {sort!r}; choose from {', '.join(SORT_KEYS)}")
        path = history_file(history)
        with HistoryStore.open(path) as store:
            info = store.resolve(run)
            text = store.document(info)
        targets = output_targets(output_format, output, AUDIT_EXTENSIONS, Format)
        refuse_overwriting(targets, [path])
        for target in targets:  # JSON: the stored text itself, byte for byte
            if target.format == Format.json.value:
                write_output(text, target.path)
        others = [t for t in targets if t.format != Format.json.value]
        if others:
            emit_report(result_of(json.loads(text), info.scope), others, sort, language, path)


def history_accept(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="A run: id, latest, latest~N or a uuid prefix.")
    ],
    history: HistoryOption = None,
    output_format: HistoryFormatOption = HistoryFormat.table,
    debug: DebugOption = False,
) -> None:
    """Pin a run as the baseline of its command and scope (`baseline = "accepted"` in the
    [regressions] rules, and the baseline of `history trend`). One run per command and scope is
    accepted; the one before is un-pinned. Prune never deletes it.

    Examples:

    \b
      nj-audit history accept latest --history audits.sqlite
    """
    from ..history import HistoryStore
    from ..render.history_text import run_text, to_json_text

    with errors_handled(debug):
        with HistoryStore.open(history_file(history)) as store:
            accepted = store.accept(store.resolve(run))
        if output_format == HistoryFormat.json:
            write_output(to_json_text(accepted.to_json()), None)
        else:
            scope = f"{accepted.command} runs by {accepted.scope}"
            write_output(f"accepted {run_text(accepted)} as the baseline of {scope}\n", None)


def _keep_rules(keep: list[str]) -> tuple[int | None, int | None]:
    """`--keep 30` keeps the 30 newest runs, `--keep 90d` the runs of the last 90 days."""
    last = days = None
    for rule in keep:
        text = rule.strip().lower()
        number = text[:-1] if text.endswith("d") else text
        if not number.isdigit():
            raise UsageError(f"bad --keep {rule!r}: give a number of runs (30) or of days (90d)")
        if text.endswith("d"):
            days = max(days or 0, int(number))
        else:
            last = max(last or 0, int(number))
    return last, days


def history_prune(
    keep: Annotated[
        list[str],
        typer.Option(
            metavar="N|Nd", help="Keep the N newest runs (30) or the last N days (90d); repeatable."
        ),
    ],
    vacuum: Annotated[bool, typer.Option(help="Give the freed space back to the disk.")] = False,
    history: HistoryOption = None,
    output_format: HistoryFormatOption = HistoryFormat.table,
    debug: DebugOption = False,
) -> None:
    """Delete the runs that no --keep keeps, in one transaction. Accepted baselines are kept.

    Examples:

    \b
      nj-audit history prune --keep 400d --history audits.sqlite
      nj-audit history prune --keep 30 --keep 90d --vacuum
    """
    from ..history import HistoryStore
    from ..render.history_text import to_json_text

    with errors_handled(debug):
        keep_last, keep_days = _keep_rules(keep)
        with HistoryStore.open(history_file(history)) as store:
            deleted = store.prune(keep_last, keep_days, vacuum=vacuum)
            remaining = len(store.runs())
        if output_format == HistoryFormat.json:
            write_output(to_json_text({"deleted": deleted, "remaining": remaining}), None)
        else:
            write_output(f"pruned {deleted} runs; {remaining} remain\n", None)


class ImportAs(str, Enum):
    audit = "audit"
    rank = "rank"


def history_import(
    documents: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Saved JSON documents (--format json).")
    ],
    as_command: Annotated[
        ImportAs | None,
        typer.Option(
            "--as",
            help="Vouch that audit (or rank) made them with today's schemas and policy, so that"
            " they compare with the runs recorded from now on.",
        ),
    ] = None,
    policy: PolicyOption = None,
    history: HistoryOption = None,
    output_format: HistoryFormatOption = HistoryFormat.table,
    debug: DebugOption = False,
) -> None:
    """Backfill the history from saved JSON documents. A document already stored (same text) is
    skipped. Without --as, an imported run compares only with other imported runs.

    Examples:

    \b
      nj-audit history import reports/audit-2023-*.json --history audits.sqlite
      nj-audit history import old/*.json --as audit --policy policy.toml
    """
    from ..history import HistoryStore
    from ..history.recording import policy_digest, schema_digest
    from ..policy import load_policy
    from ..render.history_text import to_json_text

    with errors_handled(debug):
        chosen = load_policy(policy)
        path = history_file(history, policy, exists=False)
        vouched: dict[str, str | None] = {}
        if as_command is not None:
            vouched = {
                "command": as_command.value,
                "schema_digest": schema_digest(),
                "policy_digest": policy_digest(chosen),
            }
        with HistoryStore.open(path) as store:
            added = store.import_documents(documents, **vouched)
        skipped = len(documents) - len(added)
        if output_format == HistoryFormat.json:
            runs = [r.to_json() for r in added]
            write_output(to_json_text({"added": runs, "skipped": skipped}), None)
        else:
            write_output(f"imported {len(added)} runs ({skipped} already stored)\n", None)
