"""What a row may hold that is not what it seems: bare CRs (data, not line ends), a byte order
mark at its start (a file pasted after another), a line too long to keep."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import is_org_code
from .encoding import LongRow

LINE_TOO_LONG = "line_too_long"
BYTE_ORDER_MARK = "byte_order_mark"


def fields_of(line: str) -> list[str]:
    """The fields of one line, as the csv module splits them (the whole line when it cannot)."""
    import csv

    try:
        return next(csv.reader([line], strict=False), [])
    except csv.Error:
        return [line]


BARE_CR = re.compile(rb"\r(?!\n)")
_STAND_INS = tuple(chr(code) for code in range(0xE000, 0xE100))  # private use characters


def has_bare_cr(block: bytes) -> bool:
    """Whether some CR of the block is not followed by LF. An LF file costs one memchr; a CRLF
    file one comparison per byte, a megabyte at a time (in the CPU's cache)."""
    if b"\r" not in block:
        return False
    buffer = np.frombuffer(block, dtype=np.uint8)
    size = len(buffer)
    for start in range(0, size, 1 << 20):
        at = np.flatnonzero(buffer[start : start + (1 << 20)] == 13) + start
        if len(at) and (at[-1] == size - 1 or (buffer[np.minimum(at + 1, size - 1)] != 10).any()):
            return True
    return False


def bare_cr_stand_in(block: bytes) -> str | None:
    """A character the block does not hold, to stand for its bare CRs; None when it has none
    (or, in a block made to hold every private-use stand-in, none is free: then its bare CRs
    end rows, as both parsers would have it)."""
    if not has_bare_cr(block):
        return None
    return next((c for c in _STAND_INS if c.encode() not in block), None)


def restore_cr(table: pa.Table, stand_in: str) -> pa.Table:
    columns = [pc.replace_substring(column, stand_in, "\r") for column in table.columns]
    return pa.table(columns, names=table.column_names)


def misplaced_boms(table: pa.Table, names: list[str]) -> dict[int, tuple[str, str]]:
    """Rows starting with a byte order mark (a file pasted after another, header and all). Their
    org_code is kept only when it is a real one, like a shifted row's."""
    starts = pc.starts_with(table.column(0), "\ufeff").to_numpy(zero_copy_only=False)
    return {
        int(row): (BYTE_ORDER_MARK, "the row starts with a byte order mark (files joined?)")
        for row in np.flatnonzero(starts)
    }


def keep_real_org_codes(table: pa.Table, damage: dict[int, tuple[str, str]]) -> pa.Table:
    """A row that starts with a byte order mark keeps its org_code only when, without the mark,
    it is a real one (a second header's `org_code` is not an institution)."""
    rows = [row for row, (check, _) in damage.items() if check == BYTE_ORDER_MARK]
    if not rows or "org_code" not in table.column_names:
        return table
    values = table.column("org_code").to_pylist()
    for row in rows:
        code = (values[row] or "").strip().lstrip("\ufeff")
        values[row] = code if is_org_code(code) else ""
    at = table.column_names.index("org_code")
    return table.set_column(at, "org_code", pa.array(values, pa.large_string()))


def long_row(row: LongRow, names: list[str]) -> tuple[pa.Table, np.ndarray, dict]:
    """A line too long to keep, as one damaged row: the fields its first MAX_LINE_BYTES hold
    whole (the last, cut short, is dropped), the others missing."""
    text = row.head.decode("utf-8", errors="replace")
    fields = fields_of(text)[:-1] if text else []
    fields = (fields + [""] * len(names))[: len(names)]
    table = pa.table(
        {name: pa.array([value], pa.large_string()) for name, value in zip(names, fields)}
    )
    problem = (LINE_TOO_LONG, "the line is longer than 16 MiB: read no further")
    return table, np.array([row.line], dtype=np.int64), {0: problem}
