"""`validate`: which rows of which files fail which rule, with lines and (masked) examples.

Failures are counted per form and check, with up to three examples each; every single failure can
also be handed to a sink as it is found (the `--failures` CSV), so that memory does not grow with
the number of failures. A file that cannot be read is a finding (the other files are validated);
values and file names shaped like an ID number are masked unless --show-pii.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import EXPLAINERS
from .pii import looks_like_a_name, mask, mask_id_numbers, shown, shown_org_code
from .readahead import typed_chunks
from .reading import Chunk, Findings, check_encoding, discover, refuse_nothing_read, stored_size
from .requests import ProgressHook, ValidateRequest
from .results import CheckSummary, Example, FileFailures, FormSummary, Unreadable, ValidateResult
from .rules import ROW, Failure, judge
from .schemas import FormSchema, load_schema, load_schema_file

EXAMPLES_PER_CHECK = 3
ID_COLUMNS = frozenset({"org_code", "record_id", "patient_id"})


@dataclass(frozen=True)
class FailureRecord:
    """One failing value: a line of the `--failures` file."""

    file: str
    line: int
    form: str
    column: str
    check: str
    value: str  # masked unless --show-pii, or the check's explanation


FailureSink = Callable[[FailureRecord], None]


@dataclass
class _FileTally:
    rows: int = 0
    examples: list[Example] = field(default_factory=list)


@dataclass
class _CheckTally:
    column: str
    check: str
    message: str
    other: str | None
    rows: int = 0
    examples: list[Example] = field(default_factory=list)
    files: dict[str, _FileTally] = field(default_factory=dict)  # per file: for CI annotations

    def frozen(self) -> CheckSummary:
        examples = tuple(self.examples)
        files = tuple(
            FileFailures(name, f.rows, tuple(f.examples)) for name, f in self.files.items()
        )
        return CheckSummary(
            self.column, self.check, self.message, self.rows, examples, self.other, files
        )


@dataclass
class FormTally:
    """What `validate` keeps of a form while the files are read."""

    form: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    invalid_rows: int = 0
    checks: dict[tuple[str, str], _CheckTally] = field(default_factory=dict)

    def frozen(self) -> FormSummary:
        checks = tuple(c.frozen() for c in self.checks.values())
        return FormSummary(self.form, tuple(self.files), self.rows, self.invalid_rows, checks)


def run_validate(
    request: ValidateRequest,
    on_failure: FailureSink | None = None,
    progress: ProgressHook | None = None,
) -> ValidateResult:
    """Validate every row of every file; each failure is also handed to `on_failure`. When no file
    at all could be read, validation could not run (InputError)."""
    if request.encoding is not None:
        check_encoding(request.encoding)
    custom = load_schema_file(request.schema_file) if request.schema_file else None
    form_id = request.form or (custom.name if custom else None)
    found = discover(list(request.paths), form_id, request.outputs, request.allow_empty)
    findings = Findings(found, request.strict)
    tallies: dict[str, FormTally] = {}
    sizes = [stored_size(file.path) for file in found.files]
    show = request.show_pii
    for number, file in enumerate(found.files):
        spec = custom or load_schema(file.form)
        tally = tallies.setdefault(spec.name, FormTally(spec.name))
        tally.files.append(mask_id_numbers(str(file.path), show))
        form = None if custom else file.form
        chunks = typed_chunks(
            file.path, spec, request.encoding, request.chunk_rows, form, request.max_bytes
        )
        with findings.reading(file.path, request.strict):
            for chunk, typed in chunks:
                verdict = judge(chunk, spec, typed)
                tally.rows += len(chunk.frame)
                tally.invalid_rows += int((~verdict.valid).sum())
                for failure in verdict.failures:
                    record_failure(tally, file.path, chunk, failure, spec, show, on_failure)
                if progress:
                    done = sum(sizes[:number]) + min(chunk.consumed, sizes[number])
                    progress(len(chunk.frame), done, sum(sizes))
    read = findings.frozen()
    refuse_nothing_read(read, sum(tally.rows for tally in tallies.values()))
    forms = tuple(tallies[name].frozen() for name in sorted(tallies))
    return ValidateResult(
        forms,
        tuple(Path(mask_id_numbers(str(p), show)) for p in found.skipped),
        tuple(
            Unreadable(
                mask_id_numbers(str(u.path), show),
                u.reason,
                mask_id_numbers(u.message, show),
                None,
                u.line,
            )
            for u in read.unreadable
        ),
        tuple(Path(mask_id_numbers(str(p), show)) for p in read.reports),
        request.allow_empty,
    )


def failure_values(chunk: Chunk, failure: Failure, spec: FormSchema, show_pii: bool) -> list[str]:
    """The text shown for each failing row: the cell (masked if PII), or the check's explanation."""
    rows = failure.rows
    if failure.column == ROW:
        return [chunk.damage[int(r)][1] for r in rows]
    explain = EXPLAINERS.get(failure.check)
    if explain is not None:
        return list(explain(chunk.frame, rows, **failure.stats))
    if failure.column not in chunk.frame.columns:
        return [""] * len(rows)
    cells = chunk.frame[failure.column].to_numpy(dtype=object)[rows]
    pii = set(spec.pii_columns)
    values = [shown(None if pd.isna(v) else v, failure.column, pii, show_pii) for v in cells]
    if not show_pii and failure.column in ID_COLUMNS:  # a name or an ID there: columns swapped
        values = [shown_org_code(value, False) for value in values]
    elif not show_pii and _holds_no_words(spec, failure.column):
        values = [mask(value, "id_card") if looks_like_a_name(value) else value for value in values]
    return values


def _holds_no_words(spec: FormSchema, column: str) -> bool:
    """A code, time or number column: a value there made of letters only (`张三`, not `5.00元` or
    `2022年3月1日`, which a hospital needs to see) is a name that slid into it."""
    return column == "sex_code" or any(c.name == column and c.kind != "text" for c in spec.columns)


def record_failure(
    tally: FormTally,
    path: Path,
    chunk: Chunk,
    failure: Failure,
    spec: FormSchema,
    show_pii: bool,
    on_failure: FailureSink | None,
) -> None:
    """Count a failure under its form and check, keep the first examples, hand every failing
    value to `on_failure`."""
    file = mask_id_numbers(str(path), show_pii)
    entry = tally.checks.setdefault(
        (failure.column, failure.check),
        _CheckTally(failure.column, failure.check, failure.message, failure.stats.get("other")),
    )
    in_file = entry.files.setdefault(file, _FileTally())
    if failure.check == "missing_column":  # one line for the file, whatever its rows
        if entry.rows == 0 and len(failure.rows):
            entry.examples.append(Example(file, 1, ""))
        if in_file.rows == 0 and len(failure.rows):
            in_file.examples.append(Example(file, 1, ""))
        entry.rows += len(failure.rows)
        in_file.rows += len(failure.rows)
        if on_failure and len(failure.rows):
            on_failure(FailureRecord(file, 1, spec.name, failure.column, failure.check, ""))
        return
    entry.rows += len(failure.rows)
    in_file.rows += len(failure.rows)
    room = EXAMPLES_PER_CHECK - len(entry.examples)
    file_room = EXAMPLES_PER_CHECK - len(in_file.examples)
    if on_failure is None and room <= 0 and file_room <= 0:
        return
    wanted = failure.rows if on_failure else failure.rows[: max(room, file_room)]
    values = failure_values(chunk, replace(failure, rows=wanted), spec, show_pii)
    values = [mask_id_numbers(value, show_pii) for value in values]  # whatever the column
    lines = np.asarray(chunk.lines[wanted]).tolist()
    found = [Example(file, int(line), value) for line, value in zip(lines, values)]
    entry.examples.extend(found[: max(room, 0)])
    in_file.examples.extend(found[: max(file_room, 0)])
    if on_failure:
        for example in found:
            on_failure(
                FailureRecord(
                    example.file,
                    example.line,
                    spec.name,
                    failure.column,
                    failure.check,
                    example.value,
                )
            )
