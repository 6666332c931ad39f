"""Parsed tables -> chunks of text frames: column names, trimming, missing values, blank rows,
over-long values and NUL bytes, and the chunk size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import UnreadableFile
from .blocks import MAX_FIELD_CHARS

DEFAULT_CHUNK_ROWS = 1_000_000
# Damage found in a row's values (the `check` of the `(row)` failures validation reports).
VALUE_TOO_LONG = "value_too_long"
NUL_BYTE = "nul_byte"


@dataclass
class Chunk:
    """Rows of one file: text values, the line each row starts on, and damaged rows' problems."""

    frame: pd.DataFrame
    lines: np.ndarray
    damage: dict[int, tuple[str, str]] = field(
        default_factory=dict
    )  # row -> (check, what is wrong)
    consumed: int = 0  # bytes of the file as stored (compressed, for .gz) read so far: for progress


def unique_names(raw: list[str], path: Path, expected: Expected | None = None) -> list[str]:
    """The header's names, trimmed; refused when none is a column of `expected` (first: a file
    without a header repeats values, not names) or when one is repeated."""
    cells = [name.strip().lstrip("\ufeff").strip() for name in raw]
    names = [_column_of(cell, expected) for cell in cells]
    check_names(names, expected, path)
    named = [name for name in names if name]
    duplicates = sorted({name for name in named if named.count(name) > 1})
    if duplicates:
        spelled = {cells[n] for n, name in enumerate(names) if name in duplicates}
        how = f" ({', '.join(sorted(spelled))})" if len(spelled) > len(duplicates) else ""
        raise UnreadableFile(
            f"the header repeats {_names(duplicates, expected)}{how}",
            path,
            1,
            reason="duplicate_column",
        )
    # Unnamed columns (trailing commas of a spreadsheet export) are extra columns, ignored.
    return [name or f"(unnamed column {n})" for n, name in enumerate(names, start=1)]


@dataclass(frozen=True)
class Expected:
    """What a header must name at least one of (else the file is not what it claims to be), whose
    columns they are, and every name that is a column anywhere (the only header cells a message
    may quote: a headerless file's first row is patient data)."""

    columns: frozenset[str]
    owner: str  # a form id, or "any form"
    known: frozenset[str] = frozenset()
    # other names of the columns (a Chinese label, an id in another case) -> the column
    aliases: frozenset[tuple[str, str]] = frozenset()

    @cached_property
    def alias_map(self) -> dict[str, str]:
        return dict(self.aliases)


def _column_of(cell: str, expected: Expected | None) -> str:
    """The column a header cell names: itself, or the column it is another name of."""
    if expected is None or not expected.aliases or cell in expected.columns:
        return cell
    aliases = expected.alias_map
    return aliases.get(cell) or aliases.get(cell.lower()) or cell


def _names(names: list[str], expected: Expected | None) -> str:
    """Header cells for a message: the ones that are column names, the others only counted."""
    known = (expected.known | expected.columns) if expected is not None else frozenset()
    shown = [name for name in names if name in known]
    others = len(names) - len(shown)
    if not shown:
        return f"{others} name{'s' if others != 1 else ''}"
    more = f" and {others} other name{'s' if others != 1 else ''}" if others else ""
    return ", ".join(shown) + more


def check_names(names: list[str], expected: Expected | None, path: Path) -> None:
    if expected is not None and names and not expected.columns & set(names):
        known = sorted(set(names) & expected.known)
        other = f"; it names {', '.join(known)} of another form" if known else ""
        raise UnreadableFile(
            f"the header's {len(names)} fields name no column of {expected.owner}{other}:"
            " wrong file, wrong --form, or no header line?",
            path,
            1,
            reason="no_known_column",
        )


def clean(table: pa.Table, long_values: bool = True) -> pd.DataFrame:
    """Trim every value; empty (and over-long) -> missing; as a pandas frame of `str` columns."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        text = (
            column
            if column.type in (pa.string(), pa.large_string())
            else pc.cast(column, pa.large_string())
        )
        columns[name] = _clean_values(text, long_values)
    frame = pa.table(columns).to_pandas()
    return frame.astype({name: "str" for name in frame.columns}) if len(frame.columns) else frame


def _clean_values(
    text: pa.Array | pa.ChunkedArray, long_values: bool
) -> pa.Array | pa.ChunkedArray:
    """One column of `_clean`. Most values are neither empty nor too long: then the trimmed array is
    the answer, without copying it again to mark missing values."""
    trimmed = pc.utf8_trim_whitespace(text)
    lengths = pc.binary_length(trimmed)
    drop = pc.equal(lengths, 0)
    if long_values:
        drop = pc.or_(drop, pc.greater(lengths, MAX_FIELD_CHARS))
    if not pc.any(drop).as_py():
        return trimmed
    return pc.if_else(drop, pa.scalar(None, trimmed.type), trimmed)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    if len(frame.columns) == 0 or any(not frame[name].hasnans for name in frame.columns):
        return np.zeros(len(frame), dtype=bool)  # a column without a missing value: no row is blank
    return frame.isna().all(axis=1).to_numpy()


def long_or_nul(table: pa.Table, nul: bool = True, long: bool = True) -> dict[int, tuple[str, str]]:
    """Rows with a value over MAX_FIELD_CHARS or a NUL byte (`nul`/`long`: whether to look)."""
    damage: dict[int, tuple[str, str]] = {}
    for name, column in zip(table.column_names, table.columns):
        if column.type not in (pa.string(), pa.large_string()) or not (nul or long):
            continue
        if long:
            too_long = pc.greater(pc.binary_length(column), MAX_FIELD_CHARS)
            for position in np.flatnonzero(too_long.to_numpy(zero_copy_only=False)):
                damage.setdefault(
                    int(position),
                    (VALUE_TOO_LONG, f"{name} is longer than {MAX_FIELD_CHARS} characters"),
                )
        if nul:
            for position in np.flatnonzero(
                pc.match_substring(column, "\x00").to_numpy(zero_copy_only=False)
            ):
                damage.setdefault(int(position), (NUL_BYTE, f"{name} holds a NUL byte"))
    return damage


def split_chunks(
    table: pa.Table,
    lines: np.ndarray,
    damage: dict[int, tuple[str, str]],
    chunk_rows: int,
    long_values: bool = True,
    consumed: int = 0,
) -> Iterator[Chunk]:
    frame = clean(table, long_values)
    keep = ~_blank_rows(frame)
    for position in damage:
        keep[position] = True
    if not keep.all():
        positions = np.flatnonzero(keep)
        renumber = {int(old): new for new, old in enumerate(positions)}
        damage = {renumber[p]: problem for p, problem in damage.items()}
        frame, lines = frame.iloc[positions].reset_index(drop=True), lines[positions]
    for start in range(0, max(len(frame), 1), chunk_rows):
        stop = start + chunk_rows
        part = {p - start: problem for p, problem in damage.items() if start <= p < stop}
        piece = frame.iloc[start:stop].reset_index(drop=True)
        if len(piece) or start == 0:
            yield Chunk(piece, lines[start:stop], part, consumed)
