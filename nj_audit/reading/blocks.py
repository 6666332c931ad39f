"""Cutting a file's bytes into blocks at row boundaries, outside quoted values, without copying."""

from __future__ import annotations

import numpy as np

BLOCK_BYTES = 32 * 1024 * 1024
MAX_FIELD_CHARS = 1024 * 1024  # a longer value is a damaged row, not a value


def last_row_boundary(head: bytes, data: bytes) -> int | None:
    """Position in `data` of its last newline outside quotes, counting quotes from the start of
    `head` (the start of a row, carried from the block before): a row boundary. With a stray quote
    the count goes wrong; the block is then cut at the last newline once it grows too large, and
    the rows around the cut are judged as damaged if they are."""
    cut = data.rfind(b"\n")
    if cut < 0:
        return None
    if b'"' not in head and b'"' not in data:  # the common case, at memchr speed
        return cut
    odd = (head.count(b'"') + data.count(b'"', 0, cut)) % 2  # odd: the newline is inside a value
    for _ in range(64):  # step back a newline at a time (a value rarely spans more lines)
        if not odd:
            return cut
        previous = data.rfind(b"\n", 0, cut)
        if previous < 0:
            break
        odd ^= data.count(b'"', previous, cut) % 2
        cut = previous
    else:  # many lines inside quotes (or a stray quote): look at every newline at once
        buffer = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(buffer == 10)
        quotes_before = np.searchsorted(np.flatnonzero(buffer == 34), newlines) + head.count(b'"')
        outside = np.flatnonzero(quotes_before % 2 == 0)
        if len(outside):
            return int(newlines[outside[-1]])
    return data.rfind(b"\n") if len(head) + len(data) > 2 * BLOCK_BYTES else None


def count_newlines(block: bytes) -> int:
    """Twice as fast as bytes.count, counted 1 MB at a time so that the comparison's temporary
    stays in the CPU's cache (one the size of the block would be fresh memory each time)."""
    buffer = np.frombuffer(block, dtype=np.uint8)
    return sum(
        int(np.count_nonzero(buffer[start : start + (1 << 20)] == 10))
        for start in range(0, len(buffer), 1 << 20)
    )


def may_hold_long_line(block: bytes) -> bool:
    """False when no line of the block is longer than MAX_FIELD_CHARS. A line that long covers a
    whole aligned window of half that size, so it is enough that every such window holds a newline
    (a few finds per block, each stopping at the first newline)."""
    half = MAX_FIELD_CHARS // 2
    return any(
        block.find(b"\n", start, start + half) < 0
        for start in range(0, len(block) - half + 1, half)
    )
