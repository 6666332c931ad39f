"""`--memory-limit`: sizes as text, the process's resident memory, and how much of the limit the
per-record states may hold.

The limit is the run's target for the process's peak resident memory (as DuckDB's `memory_limit`
or a Dask worker's limit). What the process already holds when the run starts (the interpreter and
its libraries, about 135 MiB) and the reading and judging buffers (bounded by the reader's block,
which is sized from the limit, not by the input) are taken off first; the states may use the rest
while the input is read, and are folded in pieces small enough to fit it.
"""

from __future__ import annotations

import os

from ..errors import UsageError
from ..messages import said
from ..reading.blocks import BLOCK_BYTES
from ..sizes import parse_size as size_of

# Reading and judging: a block being parsed, one waiting and one being judged (readahead.py), each
# as bytes, an arrow table, a text frame, a typed frame and the rules' temporaries. Measured on a
# wide form (outpatient_visit, 13 columns): about 20 times the block.
READING_FACTOR = 20
MIN_BLOCK_BYTES = 1 << 20
# Folding n states needs about n more states' worth of temporaries (keys, sorts, counts).
FOLD_FACTOR = 2


def parse_size(text: str) -> int:
    """`--memory-limit`: `512MiB`, `2GiB`, `1.5GB`, `64KiB` -> bytes (a unit is required)."""
    size = size_of(text, unit_required=True)
    if size is None:
        raise UsageError(said("error.bad_memory_limit", value=text))
    return size


def format_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def resident_bytes() -> int:
    """The process's resident memory now (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def block_bytes_for(limit: int) -> int:
    """The CSV reader's block under `limit`: the usual 32 MiB from a 1 GiB limit up, smaller
    below (a thirty-second of the limit, at least 1 MiB)."""
    return max(MIN_BLOCK_BYTES, min(BLOCK_BYTES, limit // 32))


def chunk_rows_for(limit: int, requested: int) -> int:
    """Rows per chunk under `limit` (what bounds a Parquet file's reading): as asked from a 1 GiB
    limit up, about a row per KiB of the limit below."""
    return max(1000, min(requested, limit // 1024))


def reading_bytes(limit: int) -> int:
    return READING_FACTOR * block_bytes_for(limit)


def state_budget(limit: int, reading: bool = True) -> int:
    """Bytes of per-record states to hold in memory under `limit`, counting the process's memory
    now and (while files are read) the reading allowance, so that folding them also fits. Never
    less than an eighth of the limit: a limit below what the process needs anyway is a target
    the run comes as close to as it can."""
    free = limit - resident_bytes()
    budget = min(free - (reading_bytes(limit) if reading else 0), free // FOLD_FACTOR)
    return max(budget, limit // 8, 1)
