"""Files -> chunks of text frames: discovery, encodings, compression, CSV quirks, Parquet.

Every value comes out as text (pandas `str` dtype), trimmed, with empty cells as missing. Each row
carries the physical line of the (decompressed) file where it starts (header = line 1; Parquet: row
number + 1). CSV is first sniffed (`sniffing`: another format, binary, UTF-16/32, CR-only line
ends, the encoding), split into blocks at row boundaries (`blocks`) within its limits (`limits`),
checked or transcoded to UTF-8 (`encoding`) and each block parsed by pyarrow (`quirks`: bare CRs,
byte order marks, over-long lines); a block with rows of the wrong shape is parsed again
with Python's csv module, which knows every row's line (`csv`), so a damaged row is reported where
it is and the rest of the file is still judged. `frames` trims and chunks; `parquet` reads Parquet.

What stops a file from being read (an `UnreadableFile`, with a reason code of
`catalogue.UNREADABLE`; in a batch a finding, not the end of the run): a file that cannot be
opened, is not a regular file, is empty, binary, UTF-16 or UTF-32, has CR-only line ends, mixes
UTF-8 and GB18030, is a truncated or corrupt compressed or Parquet file, expands beyond its byte
limit (`limits.check_expansion`, `--max-bytes`), holds bytes the encoding cannot decode, or has a
header that is too long, repeats a name or names no column it is expected to have. A report the
tool wrote, named like a form, is a `ReportFile`: skipped, never read. What does not stop it (a
*damaged row*, judged invalid at its line): a row with too many or too few fields, an unterminated
quote, a NUL byte, a value longer than `MAX_FIELD_CHARS`, a line longer than
`limits.MAX_LINE_BYTES` (kept only that far, so memory stays bounded), a row starting with a byte
order mark. Inputs are only ever opened for reading; a FIFO or a device is never opened at all.

The reader knows nothing of schemas: the caller says which columns a header should name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ..errors import UnreadableFile
from .blocks import MAX_FIELD_CHARS
from .bodies import WholeBody
from .csv import read_csv
from .discovery import (
    Discovery,
    Findings,
    InputFile,
    NothingReadable,
    ReadFindings,
    Unreadable,
    by_form,
    discover,
    institution_of_path,
    refuse_nothing_read,
    stored_size,
)
from .frames import DEFAULT_CHUNK_ROWS, NUL_BYTE, VALUE_TOO_LONG, Chunk, Expected
from .joining import body_chunks, join_bodies
from .parquet import read_parquet
from .quirks import BYTE_ORDER_MARK, LINE_TOO_LONG
from .rows import FIELD_COUNT, UNPARSEABLE_ROW, UNTERMINATED_QUOTE
from .sniffing import check_encoding

DAMAGE_CHECKS = (
    FIELD_COUNT,
    UNTERMINATED_QUOTE,
    UNPARSEABLE_ROW,
    VALUE_TOO_LONG,
    LINE_TOO_LONG,
    NUL_BYTE,
    BYTE_ORDER_MARK,
)

__all__ = [
    "DAMAGE_CHECKS",
    "DEFAULT_CHUNK_ROWS",
    "MAX_FIELD_CHARS",
    "Chunk",
    "Discovery",
    "Expected",
    "Findings",
    "InputFile",
    "NothingReadable",
    "ReadFindings",
    "Unreadable",
    "WholeBody",
    "body_chunks",
    "by_form",
    "check_encoding",
    "discover",
    "institution_of_path",
    "join_bodies",
    "read_chunks",
    "read_pieces",
    "refuse_nothing_read",
    "stored_size",
]


def read_chunks(
    path: Path,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    expected: Expected | None = None,
    max_bytes: int | None = None,
    block_bytes: int | None = None,
) -> Iterator[Chunk]:
    """The rows of one file, in order, as chunks of at most `chunk_rows` rows. With `expected`, a
    header that names none of its columns is refused; `max_bytes` bounds what the file may expand
    to (default: `limits.check_expansion`'s rule). A CSV is read `block_bytes` at a time (default
    `blocks.BLOCK_BYTES`): what bounds the reader's memory. `encoding` must have passed
    `check_encoding`."""
    for item in read_pieces(path, encoding, chunk_rows, expected, max_bytes, block_bytes):
        assert isinstance(item, Chunk)  # without `whole`, never a WholeBody
        yield item


def read_pieces(
    path: Path,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    expected: Expected | None = None,
    max_bytes: int | None = None,
    block_bytes: int | None = None,
    whole: bool = False,
) -> Iterator[Chunk | WholeBody]:
    """`read_chunks`, where with `whole` a small plain CSV file comes out as its `WholeBody`
    (to be parsed with other files' bodies: `join_bodies`)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnreadableFile(
                "not a file: a broken symbolic link", path, reason="not_a_file"
            ) from None
        raise UnreadableFile("no such file (any more)", path, reason="read_error") from None
    except PermissionError:
        raise UnreadableFile(
            "cannot open: permission denied", path, reason="permission_denied"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnreadableFile(f"cannot read: {reason}", path, reason="read_error") from None
    if not stat.S_ISREG(mode):
        raise UnreadableFile(f"not a file: {_kind(mode)}", path, reason="not_a_file")
    if path.name.lower().endswith(".parquet"):
        yield from read_parquet(path, chunk_rows, expected, max_bytes)
    else:
        yield from read_csv(path, encoding, chunk_rows, expected, max_bytes, block_bytes, whole)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"
