"""Where a run's reports go: the `--output [FORMAT:]FILE` targets and stdout, outputs that are
inputs refused by identity before anything is written, every file written atomically, the GitHub
step summary, and every report of a run rendered from its one result."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AuditError, OutputError, UsageError
from .app import stdout_errors


def _said(key: str, **values: object) -> str:
    from ..messages import said

    return said(key, **values)


if TYPE_CHECKING:
    from ..history.recording import Recorder
    from ..render.html import Trends
    from ..results import AuditResult


def write_output(text: str, output: Path | None) -> None:
    """The report on stdout, or in `output`, atomically (see `nj_audit.atomic`; its callers have
    refused outputs that are inputs)."""
    if output is None:
        if sys.stdout is None:
            raise OutputError(_said("error.stdout_closed"), "<stdout>")
        with stdout_errors():
            sys.stdout.write(text)
        return
    from ..atomic import write_text

    write_text(output, text)


def refuse_outputs_that_are_inputs(
    outputs: list[Path | None],
    paths: list[Path],
    registry: Path | None = None,
    policy: Path | None = None,
    schema: Path | None = None,
) -> list[Path]:
    """Exit 2 before anything is written when an output is the same file (device and inode) as
    an input named on the command line, the registry, the policy, the schema, or the
    pyproject.toml the policy comes from. Uploads found in folders are checked when they are
    found (`reading.discover`). The outputs given, for the request."""
    from ..atomic import refuse_inputs
    from ..policy import implicit_policy_file

    chosen = [o for o in outputs if o is not None]
    if not chosen:
        return []
    inputs = [("an input file", p) for p in paths if not p.is_dir()]
    named = (("the registry", registry), ("the policy", policy), ("the schema", schema))
    inputs += [(what, p) for what, p in named if p is not None]
    if policy is None and (pyproject := implicit_policy_file()) is not None:
        inputs.append(("the policy's pyproject.toml", pyproject))
    refuse_inputs(chosen, inputs)
    return chosen


FILE_ONLY_FORMATS = ("xlsx", "html")  # a workbook and a page: not for stdout


@dataclass(frozen=True)
class Target:
    """One report of a run: its format, and its file (None: stdout)."""

    format: str
    path: Path | None


def output_targets(
    chosen: Enum | None,
    outputs: list[str] | None,
    extensions: dict[str, str],
    formats: type[Enum],
    beside: list[str] | None = None,
) -> list[Target]:
    """The files of the `--output` options (and `beside`, files next to the report, such as
    validate's `--failures`), then stdout in `--format` (`chosen`; None: not given, the table).

    A file's format is its `FORMAT:` prefix, else its extension's, else (a name no extension
    tells, as `audit.out`) `--format`'s, as 0.1.0 wrote every `--output`. Stdout is left out
    when a file already gets `--format`'s format (`--format json --output audit.json` writes
    the file only, as it always did), and when `--output` is given without `--format`: the
    reports go there instead of stdout."""
    stdout_format = "table" if chosen is None else str(chosen.value)
    names = [f.value for f in formats]
    files: list[Target] = []
    for spec in [*(outputs or []), *(beside or [])]:
        prefix, colon, rest = spec.partition(":")
        if colon and rest and prefix.lower() in names:
            target = Target(prefix.lower(), Path(rest))
        else:
            ext = next((e for e in extensions if spec.lower().endswith(e)), None)
            target = Target(extensions[ext] if ext else stdout_format, Path(spec))
        assert target.path is not None
        if any(t.path is not None and t.path.resolve() == target.path.resolve() for t in files):
            raise UsageError(_said("error.same_output"), target.path)
        files.append(target)
    if any(t.format == stdout_format for t in files) or (outputs and chosen is None):
        return files
    if stdout_format in FILE_ONLY_FORMATS:
        raise UsageError(_said("error.needs_output", format=stdout_format))
    return [*files, Target(stdout_format, None)]


def refuse_overwriting(
    targets: list[Target],
    paths: list[Path],
    registry: Path | None = None,
    policy: Path | None = None,
    schema: Path | None = None,
) -> list[Path]:
    """`refuse_outputs_that_are_inputs` for the files of a run's reports: the files, for the
    request (so that a folder's discovery leaves this run's own reports out)."""
    outputs = [t.path for t in targets]
    return refuse_outputs_that_are_inputs(outputs, paths, registry, policy, schema)


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


def html_trends(
    recorder: Recorder | None, result: AuditResult, targets: list[Target]
) -> Trends | None:
    """With --history and an HTML report: the rates over the last runs and the changes since
    the previous one, from the history before this run is appended."""
    if recorder is None or not any(t.format == "html" for t in targets):
        return None
    from ..history import HistoryStore
    from ..history.report import report_trends
    from ..render.json import to_document

    with HistoryStore.open(recorder.path) as store:
        return report_trends(store, to_document(result), recorder.settings)


def emit_report(
    result: AuditResult,
    targets: list[Target],
    sort: str,
    lang: str,
    location: Path,
    trends: Trends | None = None,
) -> None:
    """The audit's (or rank's) reports: each target in its format, from the one result.
    `location` is what was audited (the first path), where Code Quality anchors its issues."""
    from ..render.console import print_note, stdout_console, table_text
    from ..render.terminal import render_table
    from ..render.text import verdict_line

    report = full_report(targets)

    # Each renderer's module is imported only when its format is asked for (the HTML report's
    # Jinja2 alone cost 0.05 s of every audit's start).
    def table() -> str:
        return table_text(lambda console: render_table(result, console, sort, lang=lang))

    def json() -> str:
        from ..render.json import render_json

        return render_json(result, lang, sort)

    def csv() -> str:
        from ..render.csv import render_csv

        return render_csv(result, lang, sort)

    def markdown() -> str:
        from ..render.markdown import render_markdown

        return render_markdown(result, sort, lang)

    def junit() -> str:
        from ..render.junit import render_junit

        return render_junit(result, lang)

    def github() -> str:
        from ..render.github import render_audit_github

        return render_audit_github(result, report, sort, ci_root())

    def codequality() -> str:
        from ..render.codequality import render_audit_codequality

        return render_audit_codequality(result, location, ci_root())

    def html() -> str:
        from ..render.html import render_html

        return render_html(result, lang, sort, trends)

    renderers = {
        "table": table,
        "json": json,
        "csv": csv,
        "markdown": markdown,
        "junit": junit,
        "github": github,
        "codequality": codequality,
        "html": html,
    }
    for target in targets:
        if target.format == "xlsx":
            from ..atomic import write_bytes
            from ..render.xlsx import render_xlsx

            assert target.path is not None  # output_targets refused xlsx on stdout
            write_bytes(target.path, render_xlsx(result, lang, sort))
        elif target.format == "table" and target.path is None:
            with stdout_errors():
                render_table(result, stdout_console(), sort, lang=lang)  # in colour on a terminal
        else:
            write_output(renderers[target.format](), target.path)
    if any(t.format == "github" for t in targets):
        append_step_summary(markdown(), report)
    # every report on a file, or an empty audit: the verdict on stderr says why, whatever the format
    if all(t.path is not None for t in targets) or result.empty:
        print_note(verdict_line(result, lang), passed=result.passed)
