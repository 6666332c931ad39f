"""GB18030 read as it is: no comma, quote, CR or LF is ever part of a GB18030 character (its
bytes are 0x81-0xFE, then 0x40-0xFE or a digit), so arrow cuts a block's rows and fields without
decoding it; only the columns holding a non-ASCII byte are then transcoded to UTF-8, which is a
few per cent of a file's bytes (names, addresses) instead of all of them."""

from __future__ import annotations

import codecs

import numpy as np
import pyarrow as pa

from ..arrays import one_array, text_buffers
from .blocks import MAX_FIELD_CHARS
from .quirks import bare_cr_stand_in


def plain(block: bytes) -> bool:
    """Whether a raw block may be parsed as it is: no NUL, no bare CR, its quotes closed (what
    needs a look of its own is read the usual way, from the block transcoded whole)."""
    if b"\x00" in block or bare_cr_stand_in(block) is not None:
        return False
    return b'"' not in block or block.count(b'"') % 2 == 0


def utf8_table(table: pa.Table) -> pa.Table | None:
    """A table parsed from raw GB18030 with its values as UTF-8; None when a value does not decode
    or holds a byte order mark (the block is then read the usual way, which names them)."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        text = utf8_values(one_array(column))
        if text is None:
            return None
        columns[name] = text
    return pa.table(columns) if columns else table


def utf8_values(text: pa.Array) -> pa.Array | None:
    """A column of GB18030 values as UTF-8: unchanged when all its bytes are ASCII (the same in
    both); else its values joined with a NUL after each, transcoded at once by the codec and cut
    at the NULs again (a NUL is one byte in both, and no value holds one: `plain`)."""
    offsets, data = text_buffers(text)
    body = data[offsets[0] : offsets[-1]]
    if not (body >= 0x80).any():
        return text
    joined = np.insert(body, offsets[1:] - offsets[0], 0)
    try:
        utf8 = joined.tobytes().decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        return None
    if codecs.BOM_UTF8 in utf8:
        return None
    codes = np.frombuffer(utf8, dtype=np.uint8)
    ends = np.flatnonzero(codes == 0)
    value_offsets = np.zeros(len(text) + 1, dtype=np.int64)
    value_offsets[1:] = ends - np.arange(len(text))
    values = codes[codes != 0]
    return pa.Array.from_buffers(
        pa.large_string(), len(text), [None, pa.py_buffer(value_offsets), pa.py_buffer(values)]
    )


def small_file_known(sample: bytes, encoding: str | None, chosen: str) -> bool:
    """Whether a small file (all in `sample`) may be read as raw GB18030 and its body parsed
    with others' (`joining.py`): when its encoding was detected, detection decoded the whole of
    it (the last line is decoded here to its end), so no byte of it can fail later; and when it is
    too short for a value to pass MAX_FIELD_CHARS once transcoded (UTF-8 takes at most 3 bytes
    for GB18030's 2)."""
    if encoding is not None or chosen != "gb18030" or 3 * len(sample) >= 2 * MAX_FIELD_CHARS:
        return False
    try:
        sample[sample.rfind(b"\n") + 1 :].decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True
