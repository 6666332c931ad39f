"""Arrow string arrays as numpy views: the buffers the fast checks and kernels read directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_text(series: pd.Series) -> pa.Array:
    """A text column as one arrow array."""
    return one_array(pa.array(series, type=pa.large_string(), from_pandas=True))


def one_array(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column read in pieces (pyarrow parses a block's pieces in parallel), joined."""
    if isinstance(text, pa.ChunkedArray):
        return text.combine_chunks() if text.num_chunks else pa.array([], type=text.type)
    return text


def text_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's value offsets (len + 1 of them) and the whole data buffer, as numpy views;
    value i is data[offsets[i]:offsets[i + 1]]."""
    width = np.int64 if text.type in (pa.large_string(), pa.large_binary()) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width)[
        text.offset : text.offset + len(text) + 1
    ]
    data = text.buffers()[2]
    return offsets, np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(
        0, dtype=np.uint8
    )


def to_numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow values as numpy (a copy where arrow's layout differs, e.g. booleans or nulls)."""
    return array.to_numpy(zero_copy_only=False)


def fixed_width_bytes(
    text: pa.Array | pa.ChunkedArray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the values that are `width` bytes long, and those values as a (k, width) uint8
    matrix (a view of arrow's buffer when the other values take no bytes). Bytes are not checked
    to be ASCII: every caller checks each byte against what it expects, so a non-ASCII byte fails
    there."""
    text = one_array(text)
    offsets, data = text_buffers(text)
    fits = np.diff(offsets) == width
    if text.null_count:
        fits &= to_numpy(text.is_valid()).astype(bool)
    positions = np.flatnonzero(fits)
    if len(positions) == 0:
        return positions, np.zeros((0, width), dtype=np.uint8)
    if offsets[-1] - offsets[0] == len(positions) * width:
        # the other values take no bytes (missing or empty): the chosen ones lie back to back
        start = offsets[0]
    else:
        chosen_offsets, data = text_buffers(pc.filter(text, pa.array(fits)))
        start = chosen_offsets[0]
    return positions, data[start : start + len(positions) * width].reshape(len(positions), width)
