"""Judging rows: a chunk of text rows + a schema -> typed values, per-row validity, failures.

The rules are the pandera schema's; this module runs each check's vectorised function directly and
keeps a boolean mask per check instead of asking pandera for failure-case frames, which cost about
2 µs per failing cell and would make a dirty file several times slower than a clean one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandera.api.checks import Check

from .arrays import arrow_text
from .checks import ask, calling_of
from .conversion import parse_numbers, parse_times
from .reading import Chunk
from .schemas import DATE, NUMBER, TIME, FormSchema

ROW = "(row)"  # the column named for a damaged row


@dataclass(frozen=True)
class Failure:
    """One check failing on some rows of a chunk (positions into the chunk)."""

    column: str
    check: str
    message: str
    rows: np.ndarray
    stats: dict = field(default_factory=dict)  # the check's statistics, for explaining a failure


@dataclass(frozen=True)
class TypedChunk:
    """A chunk's schema columns typed, before the rules are run on them."""

    frame: pd.DataFrame  # the schema's columns, typed (times local, numbers float); extras dropped
    failures: list[Failure]  # values that are not a time or a number
    # low-cardinality text columns: each row's code (-1 when missing) and the distinct values, so
    # the checks run once per distinct value (an institution code repeats on every row)
    distinct: dict[str, tuple[np.ndarray, pd.Series]] = field(default_factory=dict)
    # the chunk judged already (by the reading thread, when it had time: readahead.py)
    verdict: ChunkVerdict | None = None


_SAMPLE = 2048  # values looked at to guess whether a column repeats enough to encode it


@dataclass(frozen=True)
class ChunkVerdict:
    typed: pd.DataFrame  # the schema's columns, typed (times local, numbers float); extras dropped
    valid: np.ndarray
    failures: list[Failure]


def check_message(check: Check) -> str:
    if check.error:
        return str(check.error)
    stats = ", ".join(f"{k}={v}" for k, v in (check.statistics or {}).items() if v is not None)
    return f"{check.name}({stats})"


def _as_mask(result: object, length: int) -> np.ndarray:
    """A check's answer as one boolean per value (NA: fails; a scalar: the same for every value)."""
    if isinstance(result, pd.Series):
        return result.fillna(False).to_numpy(dtype=bool)
    mask = np.asarray(result, dtype=bool)
    return np.full(length, bool(mask)) if mask.ndim == 0 else mask


def type_frame(frame: pd.DataFrame, spec: FormSchema) -> TypedChunk:
    """The schema's columns present in `frame`, typed; failures for unreadable times and numbers."""
    typed: dict[str, pd.Series] = {}
    failures: list[Failure] = []
    distinct: dict[str, tuple[np.ndarray, pd.Series]] = {}
    for column in spec.columns:
        if column.name not in frame.columns:
            continue
        text = frame[column.name]
        if column.kind in (TIME, DATE):
            values, unreadable = parse_times(text, date_only=column.kind == DATE)
            check, message = "time_format", "a time as YYYY-MM-DD[ HH:MM:SS][+08:00]"
        elif column.kind == NUMBER:
            values, unreadable = parse_numbers(text)
            check, message = "number_format", "a plain decimal number"
        else:
            typed[column.name] = text
            if any(calling_of(c).encode for c in spec.schema.columns[column.name].checks):
                encoded = _encode_if_repeating(text)
                if encoded is not None:
                    distinct[column.name] = encoded
            continue
        typed[column.name] = values
        if unreadable.any():
            failures.append(Failure(column.name, check, message, np.flatnonzero(unreadable)))
    return TypedChunk(pd.DataFrame(typed, index=frame.index), failures, distinct)


def _encode_if_repeating(text: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """Codes and distinct values of a text column whose values repeat a lot (judged from an even
    sample, so a column of ids costs nothing); None for other columns."""
    n = len(text)
    if n < 4 * _SAMPLE:
        return None
    values = arrow_text(text)
    sample = values.take(pa.array(np.arange(0, n, n // _SAMPLE)))  # pandas' iloc[::k] is slow
    if pc.count_distinct(sample).as_py() > len(sample) // 4:
        return None
    encoded = pc.dictionary_encode(values)
    codes = np.asarray(
        pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    return codes, pd.Series(encoded.dictionary.to_pandas(), dtype="str")


def judge(chunk: Chunk, spec: FormSchema, typed: TypedChunk | None = None) -> ChunkVerdict:
    """Every rule of the schema on every row of the chunk. `typed` is `type_frame`'s answer for
    the chunk when the caller has it (the read-ahead thread works it out while this one judges)."""
    if typed is not None and typed.verdict is not None:
        return typed.verdict
    frame = chunk.frame
    n = len(frame)
    typed = typed or type_frame(frame, spec)
    failures = list(typed.failures)
    for column in spec.columns:
        if column.name not in frame.columns:
            if column.required:
                failures.append(
                    Failure(column.name, "missing_column", "the column is missing", np.arange(n))
                )
            continue
        # an unreadable value is reported as such, not as missing
        given = frame[column.name].notna().to_numpy()
        if column.required and not given.all():
            failures.append(
                Failure(column.name, "required", "a value is required", np.flatnonzero(~given))
            )
        checks = spec.schema.columns[column.name].checks
        failures += _column_failures(typed, column.name, column.kind, checks, given)
    for check in spec.schema.checks:
        stats = check.statistics or {}
        needed = [v for k, v in stats.items() if k in ("column", "other")]
        if any(name not in typed.frame.columns for name in needed):
            continue
        passed = _as_mask(ask(check, frame if calling_of(check).text else typed.frame), n)
        if not passed.all():
            named = str(stats.get("column", "(frame)"))
            failing = np.flatnonzero(~passed)
            failures.append(Failure(named, check.name, check_message(check), failing, dict(stats)))
    if chunk.damage:
        failures = _without_damaged_rows(failures, chunk, n)
    valid = np.ones(n, dtype=bool)
    for failure in failures:
        valid[failure.rows] = False
    return ChunkVerdict(typed.frame, valid, failures)


def _column_failures(
    typed: TypedChunk, name: str, kind: str, checks: list[Check], given: np.ndarray
) -> list[Failure]:
    """The failures of one column's own checks. As in pandera, a check's answer counts for present
    values only. It is asked the cheapest way it allows (checks/calling.py): once per distinct
    value of a repeating column; on the whole column when it copes with missing values (the frame
    checks on that column then reuse its work); else on a filtered copy of the present values,
    made once."""
    values = typed.frame[name]
    n = len(values)
    present = values.notna().to_numpy() if kind in (TIME, DATE, NUMBER) else given
    if not present.any():
        return []
    failures = []
    subset, positions = None, np.arange(n)
    encoded = typed.distinct.get(name)
    for check in checks:
        calling = calling_of(check)
        if encoded is not None and calling.per_value:
            codes, uniques = encoded
            passes = np.append(
                _as_mask(ask(check, uniques), len(uniques)), True
            )  # code -1: missing
            failing = np.flatnonzero(present & ~passes[codes])
        elif calling.missing_ok:
            failing = np.flatnonzero(present & ~_as_mask(ask(check, values), n))
        else:
            if subset is None and not present.all():
                subset, positions = values[present], np.flatnonzero(present)
            part = values if subset is None else subset
            failing = positions[~_as_mask(ask(check, part), len(part))]
        if len(failing):
            stats = dict(check.statistics or {})
            failures.append(Failure(name, str(check.name), check_message(check), failing, stats))
    return failures


def _without_damaged_rows(failures: list[Failure], chunk: Chunk, n: int) -> list[Failure]:
    """A damaged row's fields may be shifted, so it is reported for its damage alone."""
    damaged = np.zeros(n, dtype=bool)
    damaged[list(chunk.damage)] = True
    kept = [replace(f, rows=f.rows[~damaged[f.rows]]) for f in failures]
    kept = [f for f in kept if len(f.rows)]
    by_check: dict[str, list[int]] = {}
    for position, (check, _detail) in sorted(chunk.damage.items()):
        by_check.setdefault(check, []).append(position)
    for check, positions in by_check.items():
        kept.append(
            Failure(
                ROW, check, "the row could not be read as the header says", np.asarray(positions)
            )
        )
    return kept
