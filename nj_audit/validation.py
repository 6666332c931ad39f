"""Judging rows: a chunk of text rows + a schema -> typed values, per-row validity, failures.

The rules are the pandera schema's; this module runs each check's vectorised function directly and
keeps a boolean mask per check instead of asking pandera for failure-case frames, which cost about
2 µs per failing cell and would make a dirty file several times slower than a clean one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from pandera.api.checks import Check

from .checks import MISSING_SAFE_CHECKS
from .reading import Chunk
from .schemas import DATE, NUMBER, TIME, FormSchema
from .values import arrow_text, parse_numbers, parse_times

ROW = "(row)"  # the column named for a damaged row


@dataclass(frozen=True)
class Failure:
    """One check failing on some rows of a chunk (positions into the chunk)."""

    column: str
    check: str
    message: str
    rows: np.ndarray
    stats: dict = field(default_factory=dict)  # the check's statistics, for explaining a failure


@dataclass
class TypedChunk:
    """A chunk's schema columns typed, before the rules are run on them."""

    frame: pd.DataFrame  # the schema's columns, typed (times local, numbers float); extras dropped
    failures: list[Failure]  # values that are not a time or a number
    # low-cardinality text columns: each row's code (-1 when missing) and the distinct values, so
    # the checks run once per distinct value (an institution code repeats on every row)
    distinct: dict[str, tuple[np.ndarray, pd.Series]] = field(default_factory=dict)


# pandera's own text checks; each judges a value on its own and answers False (or NA) for a missing one
_TEXT_BUILTINS = frozenset(
    {"isin", "notin", "str_matches", "str_contains", "str_startswith", "str_endswith", "str_length"}
)
# Column checks that judge each value on its own, so may run on a column's distinct values
PER_VALUE_CHECKS = _TEXT_BUILTINS | {
    "gb32100",
    "no_whitespace",
    "not_blank",
    "id_card_format",
    "id_card_checksum",
    "id_card_birth_date",
}
# ... and those costly enough per value that encoding a column for them pays (a set lookup or a
# length does not: encoding costs more than it saves)
ENCODE_FOR = frozenset({"str_matches", "str_contains", "gb32100", "no_whitespace"})
# pandera's checks that may see a whole column, its missing values' answers ignored, which spares
# a filtered copy of the column
NA_TOLERANT_BUILTINS = _TEXT_BUILTINS | {
    "in_range",
    "greater_than",
    "greater_than_or_equal_to",
    "less_than",
    "less_than_or_equal_to",
    "equal_to",
    "not_equal_to",
}
WHOLE_COLUMN_CHECKS = MISSING_SAFE_CHECKS | NA_TOLERANT_BUILTINS  # with checks.py's own that cope
_SAMPLE = 2048  # values looked at to guess whether a column repeats enough to encode it


@dataclass
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
    values = (
        np.asarray(result, dtype=object)
        if not isinstance(result, (pd.Series, np.ndarray))
        else result
    )
    mask = (
        pd.Series(values).fillna(False).to_numpy(dtype=bool)
        if isinstance(values, pd.Series)
        else np.asarray(values, dtype=bool)
    )
    if mask.ndim == 0:
        return np.full(length, bool(mask))
    return mask


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
            if any(c.name in ENCODE_FOR for c in spec.schema.columns[column.name].checks):
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
    sample = arrow_text(text.iloc[:: n // _SAMPLE])
    if pc.count_distinct(sample).as_py() > len(sample) // 4:
        return None
    encoded = pc.dictionary_encode(arrow_text(text))
    codes = np.asarray(
        pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    return codes, pd.Series(encoded.dictionary.to_pandas(), dtype="str")


def judge(chunk: Chunk, spec: FormSchema, typed_chunk: TypedChunk | None = None) -> ChunkVerdict:
    """Every rule of the schema on every row of the chunk (`typed_chunk`: `type_frame`'s answer
    for it, when a reading thread has already worked it out)."""
    frame = chunk.frame
    n = len(frame)
    typed_chunk = typed_chunk or type_frame(frame, spec)
    typed, failures = typed_chunk.frame, list(typed_chunk.failures)
    for column in spec.columns:
        if column.name not in frame.columns:
            if column.required:
                failures.append(
                    Failure(column.name, "missing_column", "the column is missing", np.arange(n))
                )
            continue
        values = typed[column.name]
        given = (
            frame[column.name].notna().to_numpy()
        )  # an unreadable value is reported as such, not as missing
        if column.required and not given.all():
            failures.append(
                Failure(column.name, "required", "a value is required", np.flatnonzero(~given))
            )
        present = (
            values.notna().to_numpy() if column.kind in (TIME, DATE, NUMBER) else given
        )  # text is kept as given
        if not present.any():
            continue
        # As in pandera, a check's answer counts for present values only. It is asked the cheapest
        # way it allows: once per distinct value of a repeating column; on the whole column when it
        # copes with missing values (the frame checks on that column then reuse its work); else on
        # a filtered copy of the present values, made once.
        subset = None
        encoded = typed_chunk.distinct.get(column.name)
        for check in spec.schema.columns[column.name].checks:
            if encoded is not None and check.name in PER_VALUE_CHECKS:
                codes, uniques = encoded
                passes = _as_mask(check._check_fn(uniques, **check._check_kwargs), len(uniques))
                failing = np.flatnonzero(
                    present & ~np.append(passes, True)[codes]
                )  # code -1: missing
            elif check.name in WHOLE_COLUMN_CHECKS:
                failing = np.flatnonzero(
                    present & ~_as_mask(check._check_fn(values, **check._check_kwargs), n)
                )
            else:
                if subset is None:
                    subset, positions = (
                        (values, np.arange(n))
                        if present.all()
                        else (values[present], np.flatnonzero(present))
                    )
                failing = positions[
                    ~_as_mask(check._check_fn(subset, **check._check_kwargs), len(subset))
                ]
            if len(failing):
                stats = dict(check.statistics or {})
                failures.append(
                    Failure(column.name, check.name, check_message(check), failing, stats)
                )
    for check in spec.schema.checks:
        stats = check.statistics or {}
        needed = [v for k, v in stats.items() if k in ("column", "other")]
        if any(name not in typed.columns for name in needed):
            continue
        passed = _as_mask(check._check_fn(typed, **check._check_kwargs), n)
        if not passed.all():
            failures.append(
                Failure(
                    str(stats.get("column", "(frame)")),
                    check.name,
                    check_message(check),
                    np.flatnonzero(~passed),
                    dict(stats),
                )
            )
    if chunk.damage:
        failures = _without_damaged_rows(failures, chunk, n)
    valid = np.ones(n, dtype=bool)
    for failure in failures:
        valid[failure.rows] = False
    return ChunkVerdict(typed, valid, failures)


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
