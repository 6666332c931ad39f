"""`validate`: which rows of which files fail which rule, with lines and (masked) examples."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from .checks import EXPLAINERS
from .pii import shown
from .readahead import typed_chunks
from .reading import DEFAULT_CHUNK_ROWS, Chunk, discover, stored_size
from .report import safe_cell
from .schemas import FormSchema, load_schema, load_schema_file
from .validation import ROW, Failure, judge

EXAMPLES_PER_CHECK = 3
FAILURE_COLUMNS = ("file", "line", "form", "column", "check", "value")


@dataclass(frozen=True)
class Example:
    file: str
    line: int
    value: str


@dataclass
class CheckSummary:
    column: str
    check: str
    message: str
    rows: int = 0
    examples: list[Example] = field(default_factory=list)
    other: str | None = None  # the other column of a cross-field rule

    @property
    def label(self) -> str:
        """`not_after upload_time` reads better than `not_after` where a column has two such rules."""
        return f"{self.check} {self.other}" if self.other else self.check


@dataclass
class FormSummary:
    form: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    invalid_rows: int = 0
    checks: dict[tuple[str, str], CheckSummary] = field(default_factory=dict)


@dataclass
class ValidateResult:
    forms: list[FormSummary]
    skipped: list[Path]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.forms)

    @property
    def invalid_rows(self) -> int:
        return sum(f.invalid_rows for f in self.forms)

    @property
    def valid(self) -> bool:
        return self.invalid_rows == 0


def failure_values(chunk: Chunk, failure: Failure, spec: FormSchema, show_pii: bool) -> list[str]:
    """The text shown for each failing row: the cell (masked if PII), or the check's explanation."""
    rows = failure.rows
    if failure.column == ROW:
        return [chunk.damage[int(r)][1] for r in rows]
    explain = EXPLAINERS.get(failure.check)
    if explain is not None:
        return list(explain(chunk.frame, rows, **failure.stats))  # type: ignore[operator]
    if failure.column not in chunk.frame.columns:
        return [""] * len(rows)
    cells = chunk.frame[failure.column].to_numpy(dtype=object)[rows]
    pii = set(spec.pii_columns)
    return [shown(None if pd.isna(v) else v, failure.column, pii, show_pii) for v in cells]


def run_validate(
    paths: Iterable[Path],
    *,
    form: str | None = None,
    schema_file: Path | None = None,
    encoding: str | None = None,
    show_pii: bool = False,
    failures_out: TextIO | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int, int, int], None] | None = None,
) -> ValidateResult:
    """Validate every row of every file; optionally write every failure to `failures_out` as CSV."""
    custom = load_schema_file(schema_file) if schema_file else None
    found = discover(list(paths), form or (custom.name if custom else None))
    writer = csv.writer(failures_out, lineterminator="\n") if failures_out is not None else None
    if writer:
        writer.writerow(FAILURE_COLUMNS)
    summaries: dict[str, FormSummary] = {}
    sizes = [stored_size(file.path) for file in found.files]
    for number, file in enumerate(found.files):
        spec = custom or load_schema(file.form)
        summary = summaries.setdefault(spec.name, FormSummary(spec.name))
        summary.files.append(str(file.path))
        for chunk, typed in typed_chunks(
            file.path, spec, encoding, chunk_rows, form=None if custom else file.form
        ):
            verdict = judge(chunk, spec, typed)
            summary.rows += len(chunk.frame)
            summary.invalid_rows += int((~verdict.valid).sum())
            for failure in verdict.failures:
                record_failure(summary, file.path, chunk, failure, spec, show_pii, writer)
            if progress:
                progress(
                    len(chunk.frame),
                    sum(sizes[:number]) + min(chunk.consumed, sizes[number]),
                    sum(sizes),
                )
    ordered = [summaries[name] for name in sorted(summaries)]
    return ValidateResult(ordered, found.skipped)


def record_failure(
    summary: FormSummary,
    path: Path,
    chunk: Chunk,
    failure: Failure,
    spec: FormSchema,
    show_pii: bool,
    writer: csv.writer | None,  # type: ignore[valid-type]
) -> None:
    entry = summary.checks.setdefault(
        (failure.column, failure.check),
        CheckSummary(
            failure.column, failure.check, failure.message, other=failure.stats.get("other")
        ),
    )
    if failure.check == "missing_column":
        if entry.rows == 0 and len(failure.rows):
            entry.examples.append(Example(str(path), 1, ""))
        entry.rows += len(failure.rows)
        if writer and len(failure.rows):
            writer.writerow(
                [safe_cell(v) for v in (path, 1, spec.name, failure.column, failure.check, "")]
            )
        return
    entry.rows += len(failure.rows)
    room = EXAMPLES_PER_CHECK - len(entry.examples)
    if writer is None and room <= 0:
        return
    wanted = failure.rows if writer else failure.rows[:room]
    values = failure_values(chunk, replace(failure, rows=wanted), spec, show_pii)
    lines = chunk.lines[wanted]
    for line, value in list(zip(lines, values))[: max(room, 0)]:
        entry.examples.append(Example(str(path), int(line), value))
    if writer:
        for line, value in zip(np.asarray(lines).tolist(), values):
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (path, line, spec.name, failure.column, failure.check, value)
                ]
            )
