"""Files -> chunks of text frames: discovery, encodings, compression, CSV quirks, Parquet.

Every value comes out as text (pandas `str` dtype), trimmed, with empty cells as missing. Each row
carries the physical line of the (decompressed) file where it starts (header = line 1; Parquet: row
number + 1). CSV is split into blocks at row boundaries (`blocks`), checked or transcoded to UTF-8
(`encoding`) and each block parsed by pyarrow; a block with rows of the wrong shape is parsed again
with Python's csv module, which knows every row's line (`csv`), so a damaged row is reported where
it is and the rest of the file is still judged. `frames` trims and chunks; `parquet` reads Parquet.

What stops a file from being read at all (an `InputError`): a missing or unreadable file, an empty
file, binary data, a truncated or corrupt compressed or Parquet file, bytes the encoding cannot
decode, a header with duplicate names or with no column it is expected to have. What does not (a
*damaged row*, judged invalid at its line): a row with too many or too few fields, an unterminated
quote, a NUL byte, a value longer than `MAX_FIELD_CHARS`. Inputs are only ever opened for reading.

The reader knows nothing of schemas: the caller says which columns a header should name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from .blocks import MAX_FIELD_CHARS
from .csv import FIELD_COUNT, UNPARSEABLE_ROW, UNTERMINATED_QUOTE, read_csv
from .discovery import Discovery, InputFile, by_form, discover, stored_size
from .frames import DEFAULT_CHUNK_ROWS, NUL_BYTE, VALUE_TOO_LONG, Chunk, Expected
from .parquet import read_parquet

DAMAGE_CHECKS = (FIELD_COUNT, UNTERMINATED_QUOTE, UNPARSEABLE_ROW, VALUE_TOO_LONG, NUL_BYTE)

__all__ = [
    "DAMAGE_CHECKS",
    "DEFAULT_CHUNK_ROWS",
    "MAX_FIELD_CHARS",
    "Chunk",
    "Discovery",
    "Expected",
    "InputFile",
    "by_form",
    "discover",
    "read_chunks",
    "stored_size",
]


def read_chunks(
    path: Path,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    expected: Expected | None = None,
    block_bytes: int | None = None,
) -> Iterator[Chunk]:
    """The rows of one file, in order, as chunks of at most `chunk_rows` rows. With `expected`, a
    header that names none of its columns is refused. A CSV is read `block_bytes` at a time
    (default `blocks.BLOCK_BYTES`): what bounds the reader's memory."""
    if not path.is_file():
        raise InputError("not a readable file" if path.exists() else "no such file", path)
    if path.name.lower().endswith(".parquet"):
        yield from read_parquet(path, chunk_rows, expected)
    else:
        yield from read_csv(path, encoding, chunk_rows, expected, block_bytes)
