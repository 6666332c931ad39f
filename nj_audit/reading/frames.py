"""Parsed tables -> chunks of text frames: column names, trimming, missing values, blank rows,
over-long values and NUL bytes, and the chunk size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import text_buffers
from ..errors import UnreadableFile
from .blocks import MAX_FIELD_CHARS

DEFAULT_CHUNK_ROWS = 1_000_000
# Damage found in a row's values (the `check` of the `(row)` failures validation reports).
VALUE_TOO_LONG = "value_too_long"
NUL_BYTE = "nul_byte"


class Chunk:
    """Rows of one file (or of several small ones, batched): text values, the line each row
    starts on, and damaged rows' problems; `order`, when the reader was given it, each row's order
    key (the caller's: its file's rank and its row in the file, which decide ties between uploads).

    The values are a pandas frame of `str` columns (`frame`); a reader may give them as the
    cleaned arrow table instead (`table`), made into the frame only when it is first asked for,
    so that small files' tables are joined first and converted once (engines/batching.py)."""

    def __init__(
        self,
        frame: pd.DataFrame | None = None,
        lines: np.ndarray | None = None,
        damage: dict[int, tuple[str, str]] | None = None,  # row -> (check, what is wrong)
        consumed: int = 0,  # bytes of the file as stored (compressed, for .gz) read so far
        *,
        table: pa.Table | None = None,
        order: np.ndarray | None = None,
    ):
        if frame is None and table is None:
            raise ValueError("a chunk needs its frame or its table")
        self._frame, self.table = frame, table
        self.lines = lines if lines is not None else np.zeros(0, dtype=np.int64)
        self.damage = damage if damage is not None else {}
        self.consumed = consumed
        self.order = order

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            assert self.table is not None
            self._frame = text_frame(self.table)
        return self._frame

    @property
    def rows(self) -> int:
        return self.table.num_rows if self._frame is None else len(self._frame)  # type: ignore[union-attr]

    @property
    def columns(self) -> list[str]:
        return self.table.column_names if self._frame is None else list(self._frame.columns)  # type: ignore[union-attr]

    def converted(self) -> Chunk:
        """The chunk with its frame made (in the reading thread, for a large file)."""
        self.frame  # noqa: B018
        return self


def unique_names(
    raw: list[str], path: Path, expected: Expected | None = None, line: int = 1
) -> list[str]:
    """The header's names (on `line`), trimmed; refused when none is a column of `expected`
    (first: a file without a header repeats values, not names) or when one of its columns is
    repeated."""
    cells = [name.strip().lstrip("\ufeff").strip() for name in raw]
    names = [_column_of(cell, expected) for cell in cells]
    check_names(names, expected, path)
    named = [name for name in names if name]
    repeated = {name for name in named if named.count(name) > 1}
    # Only a column of the form is ambiguous when repeated; an extra column is ignored anyway.
    duplicates = sorted(repeated if expected is None else repeated & expected.columns)
    if duplicates:
        spelled = {cells[n] for n, name in enumerate(names) if name in duplicates}
        how = f" ({', '.join(sorted(spelled))})" if len(spelled) > len(duplicates) else ""
        raise UnreadableFile(
            f"the header repeats {_names(duplicates, expected)}{how}",
            path,
            line,
            reason="duplicate_column",
        )
    # Unnamed columns (trailing commas of a spreadsheet export) and the repeats of an extra
    # column are extra columns, ignored: each gets a name of its own.
    unique: list[str] = []
    for n, name in enumerate(names, start=1):
        unique.append(
            f"(unnamed column {n})" if not name else name if name not in unique else f"{name} ({n})"
        )
    return unique


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
    uploads: bool = True  # the files are uploads (a report the tool wrote is skipped), not tables
    # a header naming none of `columns` is refused (a wrong file); a table's reader says why itself
    required: bool = True

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
    if expected is not None and expected.required and names and not expected.columns & set(names):
        known = sorted(set(names) & expected.known)
        other = f"; it names {', '.join(known)} of another form" if known else ""
        raise UnreadableFile(
            f"the header's {len(names)} fields name no column of {expected.owner}{other}:"
            " wrong file, wrong --form, or no header line?",
            path,
            1,
            reason="no_known_column",
        )


# pandas' `str` dtype, as arrow's large_string columns are made into by `to_pandas` directly
# (no copy, no astype: an astype of every column cost 16 ms for a 500-row file).
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


def clean(table: pa.Table, long_values: bool = True) -> pd.DataFrame:
    """Trim every value; empty (and over-long) -> missing; as a pandas frame of `str` columns."""
    return text_frame(clean_table(table, long_values))


def clean_table(table: pa.Table, long_values: bool = True) -> pa.Table:
    """Every value trimmed, empty (and over-long) ones missing, every column large_string."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        text = column if column.type == pa.large_string() else pc.cast(column, pa.large_string())
        columns[name] = _clean_values(text, long_values)
    return pa.table(columns) if columns else pa.table({}).slice(0, 0)


def text_frame(table: pa.Table) -> pd.DataFrame:
    """A table of large_string columns as a pandas frame of `str` columns."""
    frame = table.to_pandas(types_mapper={pa.large_string(): TEXT_DTYPE}.get)
    if len(frame) != table.num_rows:  # a table without columns: its rows are kept all the same
        frame = pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    return frame


def _clean_values(
    text: pa.Array | pa.ChunkedArray, long_values: bool
) -> pa.Array | pa.ChunkedArray:
    """One column of `_clean`. Most values are neither empty nor too long: then the trimmed array is
    the answer, without copying it again to mark missing values."""
    trimmed = pc.utf8_trim_whitespace(text) if _may_need_trimming(text) else text
    lengths = pc.binary_length(trimmed)
    drop = pc.equal(lengths, 0)
    if long_values:
        drop = pc.or_(drop, pc.greater(lengths, MAX_FIELD_CHARS))
    if not pc.any(drop).as_py():
        return trimmed
    return pc.if_else(drop, pa.scalar(None, trimmed.type), trimmed)


def _may_need_trimming(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a value of `text` may start or end with whitespace, judged from each value's first
    and last byte (an ASCII control or space, or any non-ASCII byte, where the Unicode spaces
    are): most columns (codes, times, ids) have none, and trimming copies the column. An empty
    value's neighbours' bytes are looked at instead, which only makes it more cautious."""
    for array in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        offsets, data = text_buffers(array)
        if len(data) == 0:
            continue
        for edge in (np.take(data, offsets[:-1], mode="clip"), np.take(data, offsets[1:] - 1)):
            if ((edge <= 0x20) | (edge >= 0x7F)).any():
                return True
    return False


def _blank_rows(table: pa.Table) -> np.ndarray:
    """Rows whose every value is missing."""
    if table.num_columns == 0 or any(column.null_count == 0 for column in table.columns):
        return np.zeros(table.num_rows, dtype=bool)  # a column without a missing value: none
    blank = pc.is_null(table.columns[0])
    for column in table.columns[1:]:
        blank = pc.and_(blank, pc.is_null(column))
    return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)


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
    order: np.ndarray | None = None,
) -> Iterator[Chunk]:
    """The cleaned rows, blank ones dropped (damaged ones kept), in chunks of `chunk_rows` rows,
    each holding its arrow table (the frame is made when first asked for) and, with `order`
    (one key a row of `table`), its rows' keys."""
    cleaned = clean_table(table, long_values)
    keep = ~_blank_rows(cleaned)
    for position in damage:
        keep[position] = True
    if not keep.all():
        positions = np.flatnonzero(keep)
        renumber = {int(old): new for new, old in enumerate(positions)}
        damage = {renumber[p]: problem for p, problem in damage.items()}
        cleaned, lines = cleaned.take(pa.array(positions)), lines[positions]
        order = order[positions] if order is not None else None
    rows = cleaned.num_rows
    for start in range(0, max(rows, 1), chunk_rows):
        stop = start + chunk_rows
        part = {p - start: problem for p, problem in damage.items() if start <= p < stop}
        piece = cleaned.slice(start, chunk_rows)
        if piece.num_rows or start == 0:
            keys = order[start:stop] if order is not None else None
            yield Chunk(
                lines=lines[start:stop], damage=part, consumed=consumed, table=piece, order=keys
            )
