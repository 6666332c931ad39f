"""Parquet files -> chunks of text frames: every value cast to text, as a CSV's would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, one_line
from .frames import Chunk, Expected, check_names, clean, long_or_nul, unique_names


def read_parquet(path: Path, chunk_rows: int, expected: Expected | None) -> Iterator[Chunk]:
    try:
        source = pq.ParquetFile(path)
        names = unique_names(list(source.schema_arrow.names), path)
        check_names(names, expected, path)
        row = 0
        for batch in source.iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch]).rename_columns(names)
            lines = np.arange(row, row + table.num_rows, dtype=np.int64) + 2
            row += table.num_rows
            consumed = int(path.stat().st_size * row / max(source.metadata.num_rows, 1))
            yield Chunk(clean(table), lines, long_or_nul(table), consumed)
        if row == 0:
            yield Chunk(
                pd.DataFrame({n: pd.Series([], dtype="str") for n in names}),
                np.zeros(0, dtype=np.int64),
            )
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read Parquet file: {one_line(exc, 200)}", path) from None
