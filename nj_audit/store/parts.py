"""Partition files: the per-record states of one upload day, as an Arrow IPC file (zstd) with one
record batch per bucket, so that a bucket of every day is read without reading the rest.

The columns are `metrics.STATE_COLUMNS`. A state's row orders (`first_order`, `last_order`) hold the
store's file id in their high bits (`file id << ROW_BITS | row in the file`); folding compares rows
of files added at different times, so the ids are first renumbered to the rank of each file's
path among all files of the store (`ranked`), which is the order an audit of the files themselves
would see. Measured: about 30 bytes a state on disk, written at 7 million and read at 9 million
states a second on one core (Parquet with zstd: 31 bytes, 5 times slower).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from ..errors import UsageError
from ..metrics import ROW_BITS, STATE_COLUMNS, RecordState

SCHEMA = pa.schema(
    [(name, pa.from_numpy_dtype(np.dtype(dtype))) for name, dtype, _ in STATE_COLUMNS]
)
_OPTIONS = ipc.IpcWriteOptions(compression="zstd")
_ROW_MASK = np.int64((1 << ROW_BITS) - 1)


class PartWriter:
    """Writes a partition file aside (`.tmp-` in the same folder) and renames it into place when
    closed without an error; the batches are given in bucket order, one per bucket."""

    def __init__(self, path: Path):
        self.path = path
        self.temporary = path.with_name(f".tmp-{path.name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.sink = pa.OSFile(str(self.temporary), "wb")
        self.writer = ipc.new_file(self.sink, SCHEMA, options=_OPTIONS)
        self.states = 0

    def write(self, state: RecordState) -> None:
        arrays = [pa.array(state.columns[name]) for name in SCHEMA.names]
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=SCHEMA))
        self.states += len(state)

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.writer.close()
            self.sink.flush()
            os.fsync(self.sink.fileno())
            self.sink.close()
        finally:
            if kind is None:
                os.replace(self.temporary, self.path)
            else:
                self.temporary.unlink(missing_ok=True)


def write_part(path: Path, buckets: list[RecordState]) -> int:
    """Write one partition file; its size in bytes."""
    try:
        with PartWriter(path) as writer:
            for state in buckets:
                writer.write(state)
    except OSError as exc:
        raise UsageError(f"cannot write to the store: {exc.strerror or exc}", path.parent) from None
    return path.stat().st_size


def read_buckets(path: Path, start: int, stop: int, buckets: int) -> RecordState:
    """The states of buckets start .. stop - 1 of a partition file."""
    try:
        with pa.memory_map(str(path)) as source:
            reader = ipc.open_file(source)
            if reader.num_record_batches != buckets or reader.schema != SCHEMA:
                raise UsageError("a partition file of the store is damaged", path)
            table = pa.Table.from_batches([reader.get_batch(b) for b in range(start, stop)], SCHEMA)
            columns = {name: table.column(name).to_numpy() for name in SCHEMA.names}
    except (OSError, pa.ArrowInvalid) as exc:
        raise UsageError(f"a partition file of the store cannot be read: {exc}", path) from None
    return RecordState(**{name: np.ascontiguousarray(c) for name, c in columns.items()})


def ranked(state: RecordState, rank_of_file: np.ndarray) -> RecordState:
    """The states with their rows' file ids renumbered to file ranks (by path)."""
    return state.replaced(
        first_order=_renumbered(state.first_order, rank_of_file),
        last_order=_renumbered(state.last_order, rank_of_file),
    )


def _renumbered(order: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    return (lookup[order >> ROW_BITS] << ROW_BITS) | (order & _ROW_MASK)


def file_ranks(paths_by_id: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """rank_of[file id] (the rank of its path, as `reading.discover` sorts paths) and its
    inverse, file_of[rank]."""
    size = max(paths_by_id, default=-1) + 1
    rank_of = np.zeros(size, dtype=np.int64)
    ids = sorted(paths_by_id, key=lambda i: Path(paths_by_id[i]))
    rank_of[ids] = np.arange(len(ids))
    file_of = np.zeros(max(len(ids), 1), dtype=np.int64)
    file_of[np.arange(len(ids))] = ids
    return rank_of, file_of
