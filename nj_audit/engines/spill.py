"""Folding per-record states in bounded memory: held while they fit, else spilled to bucket files.

A `StateFolder` takes the states of a run in pieces, in any order, and hands back the record counts
per (institution, form). While the states it holds stay under its budget they are folded in memory
at the end, exactly as before and without touching the disk. Past the budget, every held piece is
split into `buckets` by a hash of (form, record key), so that all states of a record land in the
same bucket, and appended to that bucket's files under a private folder in the temporary folder:
one raw file per bucket and column (`b0007.first_upload`), the arrays' bytes as they are in memory,
so that writing is one `write` per column and reading one `fromfile`. At the end the buckets are
folded one at a time and their counts added up; records never cross buckets, so the sum is the
whole run's counts, bit for bit. A bucket that grew too large (skewed data, a poor guess of the
number of buckets) is split again with another hash seed, up to three times.

The folder and everything in it are removed when the folder is closed: at the end, on an error and
on Ctrl-C. A full disk is one error naming the folder.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import numpy as np

from ..errors import UsageError
from ..folds import Folded, fold_records
from ..metrics import STATE_BYTES, STATE_COLUMNS, STATE_NAMES, RecordState
from .memory import FOLD_FACTOR, format_size

MAX_BUCKETS = 1024
MAX_LEVEL = 3  # splits of a bucket that is still too large; past that it is folded as it is
_SEEDS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
_MIX_1, _MIX_2, _SHIFT = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)
_FORM_MIX = np.uint64(0x94D049BB133111EB)


def bucket_hashes(key: np.ndarray, form: np.ndarray, level: int = 0) -> np.ndarray:
    """A well-spread uint64 per state of (form, record key), the same in every process and
    independent of institution indexes (which differ between runs and pieces); each `level` gives
    another, independent one (murmur3's finaliser over a seeded mix)."""
    h = key ^ (form.astype(np.uint64) * _FORM_MIX) ^ np.uint64(_SEEDS[level % len(_SEEDS)])
    h ^= h >> _SHIFT
    h *= _MIX_1
    h ^= h >> _SHIFT
    h *= _MIX_2
    h ^= h >> _SHIFT
    return h


def buckets_of(state: RecordState, buckets: int, level: int = 0) -> np.ndarray:
    """The bucket (0 .. buckets - 1) of each state."""
    if buckets == 1:
        return np.zeros(len(state), dtype=np.intp)
    return (bucket_hashes(state.key, state.form, level) % np.uint64(buckets)).astype(np.intp)


def split_by_bucket(state: RecordState, buckets: int, level: int = 0) -> list[RecordState]:
    """The states of each bucket, in order (a stable counting sort of the bucket numbers)."""
    bucket = buckets_of(state, buckets, level).astype(np.int16)  # a radix sort (<= 1,024 buckets)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(buckets + 1))
    ordered = state.take(order)
    return [ordered.take(slice(bounds[b], bounds[b + 1])) for b in range(buckets)]


def buckets_for(state_bytes: int, budget: int) -> int:
    """Buckets for `state_bytes` of states so that one bucket, folded, fits in `budget` (with a
    margin for an uneven spread)."""
    return min(max(2, math.ceil(1.5 * state_bytes * FOLD_FACTOR / max(budget, 1))), MAX_BUCKETS)


def _write(path: Path, column: np.ndarray) -> None:
    """Append a column's bytes to its file."""
    with open(path, "ab") as out:
        out.write(np.ascontiguousarray(column).data)


class StateFolder:
    """States in (`add`), record counts out (`counts`), holding at most `budget` bytes of them.

    `expected` tells, when the folder first spills, how many bytes of states the whole run will
    probably bring (to choose the number of buckets); `buckets` fixes that number instead."""

    def __init__(
        self,
        budget: int,
        temp_dir: Path | None = None,
        buckets: int | None = None,
        expected: Callable[[], int] | None = None,
        level: int = 0,
    ):
        self.budget, self.temp_dir, self.level = budget, temp_dir, level
        self.fixed_buckets, self.expected = buckets, expected
        self.held: list[RecordState] = []
        self.held_bytes = 0
        self.folder: Path | None = None  # the spill folder, once spilling started
        self.buckets = 0
        self.sizes: np.ndarray = np.zeros(0, dtype=np.int64)  # states written per bucket
        self.spilled_bytes = 0  # for the record (tests, benchmarks)

    def __enter__(self) -> StateFolder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the spill folder and everything in it (safe to call more than once)."""
        self.held, self.held_bytes = [], 0
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def add(self, state: RecordState) -> None:
        if not len(state):
            return
        self.held.append(state)
        self.held_bytes += state.nbytes
        if self.held_bytes > self.budget:
            self._spill_held()

    def counts(self) -> Folded:
        """The record counts (and residents) of every state added; the folder is emptied (and
        removed)."""
        try:
            if self.folder is None:
                return fold_records(self.held)
            self._spill_held()
            total = Folded()
            for bucket in range(self.buckets):
                total.add(self._fold_bucket(bucket))
            return total
        finally:
            self.close()

    # -- spilling ---------------------------------------------------------------------------

    def _start(self) -> None:
        expected = max(self.expected() if self.expected else 0, self.held_bytes)
        self.buckets = self.fixed_buckets or buckets_for(expected, self.budget)
        self.sizes = np.zeros(self.buckets, dtype=np.int64)
        base = self.temp_dir or Path(tempfile.gettempdir())
        try:
            self.folder = Path(tempfile.mkdtemp(prefix="nj-audit-spill-", dir=base))
        except OSError as exc:
            raise UsageError(
                f"cannot make a folder for spill files: {exc.strerror or exc} (pass --temp-dir)",
                base,
            ) from None

    def _spill_held(self) -> None:
        """Every held piece split by bucket and appended to the buckets' files, one bucket at a
        time (one write per column of all pieces' share of it)."""
        if not self.held:
            return
        if self.folder is None:
            self._start()
        pieces = []
        while self.held:  # each piece is let go once split: memory stays at the held bytes
            pieces.append(split_by_bucket(self.held.pop(), self.buckets, self.level))
        self.held_bytes = 0
        for bucket in range(self.buckets):
            parts = [piece[bucket] for piece in pieces if len(piece[bucket])]
            if not parts:
                continue
            self._append(bucket, RecordState.concat(parts))
            for piece in pieces:
                piece[bucket] = RecordState.empty()  # let it go

    def _path(self, bucket: int, column: str) -> Path:
        assert self.folder is not None
        return self.folder / f"b{bucket:04d}.{column}"

    def _append(self, bucket: int, state: RecordState) -> None:
        try:
            for name, column in state.columns.items():
                _write(self._path(bucket, name), column)
        except OSError as exc:
            assert self.folder is not None
            raise UsageError(
                f"cannot write spill files: {exc.strerror or exc}"
                f" ({format_size(self.spilled_bytes)} written so far; free space or pass"
                " --temp-dir, or raise --memory-limit)",
                self.folder.parent,
            ) from None
        self.sizes[bucket] += len(state)
        self.spilled_bytes += state.nbytes

    def _read(self, bucket: int, start: int = 0, count: int = -1) -> RecordState:
        columns = {}
        for name, dtype, _ in STATE_COLUMNS:
            width = np.dtype(dtype).itemsize
            columns[name] = np.fromfile(
                self._path(bucket, name), dtype=dtype, count=count, offset=start * width
            )
        return RecordState(**columns)

    def _pieces(self, bucket: int, size: int) -> Iterator[RecordState]:
        for start in range(0, int(self.sizes[bucket]), size):
            yield self._read(bucket, start, size)

    def _fold_bucket(self, bucket: int) -> Folded:
        states = int(self.sizes[bucket])
        if not states:
            return Folded()
        try:
            if states * STATE_BYTES <= self.budget or self.level >= MAX_LEVEL:
                return fold_records([self._read(bucket)])
            # too large to fold at once: split it again, with the next level's hash
            with StateFolder(
                self.budget,
                self.folder,
                buckets_for(states * STATE_BYTES, self.budget),
                level=self.level + 1,
            ) as split:
                for piece in self._pieces(bucket, max(self.budget // (4 * STATE_BYTES), 1)):
                    split.add(piece)
                self._remove(bucket)
                return split.counts()
        finally:
            self._remove(bucket)

    def _remove(self, bucket: int) -> None:
        for name in STATE_NAMES:
            self._path(bucket, name).unlink(missing_ok=True)
