"""Parquet files -> chunks of text frames: every value cast to text, as a CSV's would be.

Columns nobody asked for are not read, so an unused nested column (a struct, a list, a map) is
ignored like an extra CSV column; a nested column that is asked for is read as JSON text, which
then fails its rules like any other text. What stops the file is said without quoting arrow's
messages (they may hold values): truncated, corrupt, or larger than its byte limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import UnreadableFile
from .frames import Chunk, Expected, check_names, clean, long_or_nul, unique_names
from .limits import check_expansion


def _open(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except PermissionError:
        raise UnreadableFile(
            "cannot open: permission denied", path, reason="permission_denied"
        ) from None
    except OSError as exc:
        if not isinstance(exc, pa.ArrowException):
            reason = exc.strerror or type(exc).__name__
            raise UnreadableFile(f"cannot read: {reason}", path, reason="read_error") from None
        raise _corrupt(path) from None
    except pa.ArrowException:
        raise _corrupt(path) from None


def _corrupt(path: Path) -> UnreadableFile:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            handle.seek(max(path.stat().st_size - 4, 0))
            tail = handle.read(4)
    except OSError:
        head = tail = b""
    if head == b"PAR1" and tail != b"PAR1":
        return UnreadableFile("the Parquet file ends early (truncated)", path, reason="truncated")
    return UnreadableFile("not a Parquet file, or a corrupt one", path, reason="corrupt")


def _nested(kind: pa.DataType) -> bool:
    return (
        pa.types.is_nested(kind)
        or pa.types.is_dictionary(kind)
        and pa.types.is_nested(kind.value_type)
    )


def _as_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A nested column's values as JSON text (None stays missing)."""
    values = column.to_pylist()
    return pa.array(
        [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in values],
        pa.large_string(),
    )


def read_parquet(
    path: Path, chunk_rows: int, expected: Expected | None, max_bytes: int | None = None
) -> Iterator[Chunk]:
    source = _open(path)
    try:
        schema = source.schema_arrow
        names = unique_names(list(schema.names), path, expected)
        check_names(names, expected, path)
        wanted = [
            raw
            for raw, name, kind in zip(schema.names, names, schema.types)
            if not _nested(kind) or (expected is not None and name in expected.columns)
        ]
        renamed = [names[schema.names.index(raw)] for raw in wanted]
        metadata = source.metadata
        size = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        check_expansion(path, size, path.stat().st_size, max_bytes)
        row = 0
        for batch in source.iter_batches(batch_size=chunk_rows, columns=wanted):
            table = pa.Table.from_batches([batch]).rename_columns(renamed)
            for at, kind in enumerate(table.schema.types):
                if _nested(kind):
                    table = table.set_column(at, renamed[at], _as_text(table.column(at)))
            lines = np.arange(row, row + table.num_rows, dtype=np.int64) + 2
            row += table.num_rows
            consumed = int(path.stat().st_size * row / max(metadata.num_rows, 1))
            try:
                frame = clean(table)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # bytes that are not text
                raise UnreadableFile(
                    "a column holds values that cannot be read as text (bytes that are not UTF-8?)",
                    path,
                    reason="undecodable",
                ) from None
            yield Chunk(frame, lines, long_or_nul(table), consumed)
        if row == 0:
            yield Chunk(
                pd.DataFrame({n: pd.Series([], dtype="str") for n in renamed}),
                np.zeros(0, dtype=np.int64),
            )
    except OSError as exc:
        if isinstance(exc, pa.ArrowException):
            raise _corrupt(path) from None
        raise UnreadableFile(
            f"cannot read: {exc.strerror or type(exc).__name__}", path, reason="read_error"
        ) from None
    except pa.ArrowException:
        raise _corrupt(path) from None
