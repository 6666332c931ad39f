"""Small files' bodies (`bodies.WholeBody`) parsed together: a batch of thousands of small files
of a form costs about one parse, not thousands."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import gb18030
from .bodies import WholeBody
from .csv import _block_chunks, _parse_fast, _ShapeError
from .frames import Chunk, split_chunks
from .quirks import misplaced_boms


def join_bodies(
    bodies: list[WholeBody], chunk_rows: int, keys: list[int] | None = None
) -> list[Chunk] | None:
    """The rows of bodies with the same header parsed together, each row with its line in its
    file (and with `keys`, one a body, its order: its body's key + its row in the body); None when
    some row is not plain (a row of the wrong shape, a value across lines): then each body is
    parsed on its own (`body_chunks`), which finds and names the damage."""
    names = list(bodies[0].names)
    joined = b"".join(body.body for body in bodies)
    rows = sum(body.rows for body in bodies)
    try:
        table = _parse_fast(joined, names, rows)
    except _ShapeError:
        return None
    if table.num_rows != rows:
        return None
    if bodies[0].raw:  # GB18030 bytes (all of them: they are joined by kind)
        utf8 = gb18030.utf8_table(table)
        if utf8 is None:  # a byte order mark: each body on its own says where
            return None
        table = utf8
    elif b"\xef" in joined and misplaced_boms(table, names):  # a row starting with a BOM
        return None
    lines = np.concatenate([np.arange(2, 2 + body.rows, dtype=np.int64) for body in bodies])
    order = None
    if keys is not None:  # a plain body holds one row a line
        starts = np.repeat(np.asarray(keys, dtype=np.int64), [body.rows for body in bodies])
        order = starts + lines - 2
    return list(split_chunks(table, lines, {}, chunk_rows, False, order=order))


def body_chunks(body: WholeBody, chunk_rows: int) -> Iterator[Chunk]:
    """One body's chunks, parsed as `read_csv` parses a block."""
    text = body.body.decode("gb18030").encode("utf-8") if body.raw else body.body
    yield from _block_chunks(text, body.rows, False, list(body.names), 2, chunk_rows, 0)
