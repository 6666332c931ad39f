"""Arrow text columns built without a Python loop: picks from a vocabulary, joins, zero-padded
numbers, decimal amounts, and fixed-width times written straight from byte matrices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400
HOUR = 3_600
MISSING = np.iinfo(np.int64).min  # a time left empty (optional columns)


def _vocab(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), pa.string())


def pick(
    rng: np.random.Generator, values: Sequence[str], n: int, p: Sequence[float] | None = None
) -> pa.Array:
    return pc.take(_vocab(values), pa.array(rng.choice(len(values), n, p=p)))


def join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def as_text(values: np.ndarray, width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(values), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0") if width else text


def cents(amounts: np.ndarray) -> pa.Array:
    """Integer cents -> plain decimal text `123.45`."""
    amounts = np.asarray(amounts, dtype=np.int64)
    return join(as_text(amounts // 100), ".", as_text(amounts % 100, 2))


# -- fixed-width text straight from byte matrices (times, ID numbers) ------------------------------


def from_bytes(buf: np.ndarray) -> pa.Array:
    n, width = buf.shape
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    data = np.ascontiguousarray(buf, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def put_digits(buf: np.ndarray, start: int, width: int, values: np.ndarray) -> None:
    for k in range(width):
        buf[:, start + width - 1 - k] = 48 + (values // 10**k) % 10


def format_times(seconds: np.ndarray, sep: str = " ", date_only: bool = False) -> pa.Array:
    """Local times as seconds since 1970-01-01 -> `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`);
    MISSING -> null."""
    seconds = np.asarray(seconds, dtype=np.int64)
    missing = seconds == MISSING
    secs = np.where(missing, 0, seconds)
    days = (secs // DAY).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    buf = np.empty((len(secs), 10 if date_only else 19), dtype=np.uint8)
    put_digits(buf, 0, 4, year)
    buf[:, 4] = buf[:, 7] = ord("-")
    put_digits(buf, 5, 2, month)
    put_digits(buf, 8, 2, day)
    if not date_only:
        tod = secs % DAY
        buf[:, 10] = ord(sep)
        put_digits(buf, 11, 2, tod // HOUR)
        buf[:, 13] = buf[:, 16] = ord(":")
        put_digits(buf, 14, 2, tod // 60 % 60)
        put_digits(buf, 17, 2, tod % 60)
    text = from_bytes(buf)
    return (
        pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text) if missing.any() else text
    )
